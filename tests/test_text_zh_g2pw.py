"""The G2PW adapter on a small ONNX graph with the real model's interface, run by onnxruntime.

The 400 MB G2PW model cannot be obtained offline. ``g2pw_helpers`` builds a model folder with the
same files (polyphone/monophone tables, bopomofo→pinyin table, config.py, an ONNX graph with the
six official inputs) whose "network" is a per-character score table; this checks what our
adapter controls: which characters are queried, char ids counted over the full polyphone
list, the reading mask, label → pinyin conversion, the monophonic table and the fallback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
transformers = pytest.importorskip("transformers")

from backend.text import g2pw  # noqa: E402
from backend.text.cleaner import clean_text  # noqa: E402
from g2pw_helpers import build_tiny_g2pw  # noqa: E402
from text_records import frontend_data_or_skip  # noqa: E402

frontend_data_or_skip()


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_g2pw(tmp_path_factory.mktemp("frontend_data"))


@pytest.fixture
def model(model_folder: Path) -> g2pw.G2PWModel:
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        str(model_folder / "chinese-roberta-wwm-ext-large"))
    return g2pw.G2PWModel(model_folder / "G2PWModel", tokenizer)


def test_model_readings_monophones_and_fallback(model: g2pw.G2PWModel) -> None:
    (readings,) = model(["银行行长很好."])
    # 银: monophonic table; 行 行 长: the model (masked); 很 好 .: pypinyin
    assert readings == ["yin2", "xing2", "xing2", "chang2", "hen3", "hao3", "."]
    (readings,) = model(["似一个."])
    # 似 is excluded from the monophonic table and 一 from the predicted set: pypinyin
    assert readings == g2pw.pypinyin_sentence_pinyin(["似一个."])[0]


def test_segments_without_polyphones_skip_the_model(model: g2pw.G2PWModel) -> None:
    assert model(["很好."]) == [["hen3", "hao3", "."]]


def test_clean_text_with_the_model_keeps_alignment(model: g2pw.G2PWModel) -> None:
    cleaned = clean_text("他很长。", "zh", "v2", sentence_pinyin=model)
    assert cleaned.phones[4:6] == ["ch", "ang2"]  # the model's reading reached the phones
    assert sum(cleaned.word2ph) == len(cleaned.phones)


def test_installed_model_is_found_in_the_data_folder(model_folder: Path, monkeypatch) -> None:
    g2pw.installed_model.cache_clear()
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(model_folder))
    try:
        assert isinstance(g2pw.installed_model(), g2pw.G2PWModel)
    finally:
        g2pw.installed_model.cache_clear()
    (model_folder / "G2PWModel" / "g2pW.onnx").rename(model_folder / "g2pW.onnx.off")
    try:
        assert g2pw.model_dir() is None
    finally:
        (model_folder / "g2pW.onnx.off").rename(model_folder / "G2PWModel" / "g2pW.onnx")


def test_config_is_read_as_data(tmp_path: Path) -> None:
    config = tmp_path / "config.py"
    config.write_text("import os\nuse_mask = False\nwindow = os.getcwd()\nbatch = 32\n")
    assert g2pw.read_model_config(config) == {"use_mask": False, "batch": 32}


def test_a_model_kept_elsewhere_can_be_registered(model_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(g2pw.G2PWUnavailableError):
        g2pw.use_g2pw_model(tmp_path, tmp_path)
    g2pw.use_g2pw_model(model_folder / "G2PWModel", model_folder / "chinese-roberta-wwm-ext-large")
    try:
        model = g2pw.installed_model()
        assert isinstance(model, g2pw.G2PWModel)
        assert model(["行长."])[0][:2] == ["xing2", "chang2"]
        # clean_text's default uses the registered model for v2 (the dictionary has 行长)
        assert clean_text("他很长。", "zh", "v2").phones[4:6] == ["ch", "ang2"]
    finally:
        g2pw._configured.clear()
        g2pw.installed_model.cache_clear()


def test_very_long_segments_fit_the_512_positions(model: g2pw.G2PWModel) -> None:
    real_session, shapes = model._session, []

    class Recording:  # the real onnxruntime session, with its inputs noted
        def run(self, outputs, feeds):  # noqa: ANN001, ANN202
            shapes.append((feeds["input_ids"].shape, feeds["position_ids"].tolist()))
            return real_session.run(outputs, feeds)

    model._session = Recording()
    segment = "行" + "很好" * 400 + "长."
    (readings,) = model([segment])
    (shape, positions), = shapes
    assert shape == (2, 512) and all(0 < p < 511 for p in positions)
    assert len(readings) == len(segment)
    assert readings[0] == "xing2" and readings[-2] == "chang2"


def test_model_archive_is_installed_safely(model_folder: Path, tmp_path: Path) -> None:
    import zipfile

    good = tmp_path / "G2PWModel_1.1.zip"
    with zipfile.ZipFile(good, "w") as bundle:
        for path in (model_folder / "G2PWModel").iterdir():
            bundle.write(path, f"G2PWModel_1.1/{path.name}")
    target = tmp_path / "data"
    installed = g2pw.install_g2pw_zip(good, target)
    assert installed == target / "G2PWModel" and g2pw.model_dir(installed) == installed

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as bundle:
        bundle.writestr("../outside.txt", "x")
    with pytest.raises(g2pw.G2PWUnavailableError):
        g2pw.install_g2pw_zip(evil, target)
    assert not (tmp_path / "outside.txt").exists()
    incomplete = tmp_path / "incomplete.zip"
    with zipfile.ZipFile(incomplete, "w") as bundle:
        bundle.writestr("G2PWModel/g2pW.onnx", b"")
    with pytest.raises(g2pw.G2PWUnavailableError):
        g2pw.install_g2pw_zip(incomplete, target)
    assert g2pw.model_dir(target / "G2PWModel") is not None  # the good model was kept
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"nope")
    with pytest.raises(g2pw.G2PWUnavailableError):
        g2pw.install_g2pw_zip(not_zip, target)


def test_the_tokenizer_comes_from_the_pretrained_bert(model_folder: Path, tmp_path: Path, monkeypatch) -> None:
    """As the official converter (``bert_path``): the G2PW model in the data folder, its tokenizer
    from the pretrained chinese-roberta-wwm-ext-large that ``gsv models fetch`` put elsewhere."""
    import shutil

    data, pretrained = tmp_path / "data", tmp_path / "pretrained"
    shutil.copytree(model_folder / "G2PWModel", data / "G2PWModel")
    shutil.copytree(model_folder / "chinese-roberta-wwm-ext-large", pretrained / "chinese-roberta-wwm-ext-large")
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(data))
    monkeypatch.setenv("GSV_PRETRAINED_DIR", str(pretrained))
    g2pw.installed_model.cache_clear()
    try:
        assert isinstance(g2pw.installed_model(), g2pw.G2PWModel)
        shutil.rmtree(pretrained)
        g2pw.installed_model.cache_clear()
        assert g2pw.installed_model() is None  # no tokenizer anywhere: no model (pypinyin readings)
    finally:
        g2pw.installed_model.cache_clear()
