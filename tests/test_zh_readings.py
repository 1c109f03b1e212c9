"""No silent pypinyin fallback for v2+ Chinese in formatting and inference.

Without the G2PW polyphone model, pypinyin reads 长, 行, 还 … differently from the official
WebUI. Offline, formatting and inference refuse v2+ Chinese with the fetch command unless the
user allows pypinyin (then it is recorded in the exp folder and the take's JSON); online, the
model is fetched through the project's download path (a local hub serves it here) with byte
progress. The G2PW model here is the tiny one of ``g2pw_helpers`` (the real 400 MB one cannot
be had offline); it reads 长 as chang2 where pypinyin says zhang3.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("transformers")

from format_helpers import make_clips, unpack_bert  # noqa: E402
from g2pw_helpers import build_tiny_g2pw  # noqa: E402
from text_records import frontend_data_or_skip  # noqa: E402

from backend import pretrained  # noqa: E402
from backend.format import journal, layout  # noqa: E402
from backend.format.runner import FormatOptions, run_format  # noqa: E402
from backend.progress import Reporter  # noqa: E402
from backend.text import g2pw  # noqa: E402
from backend.text.cleaner import clean_text  # noqa: E402
from backend.text.zh_readings import G2PW, PYPINYIN, ReadingsCleaner, decide  # noqa: E402

SHARED = frontend_data_or_skip()
LONG = "他很长。"  # 长: chang2 by the tiny model, zhang3 by pypinyin
MODEL_PHONES = ["t", "a1", "h", "en3", "ch", "ang2", "."]
PYPINYIN_PHONES = ["t", "a1", "h", "en2", "zh", "ang3", "."]


@pytest.fixture(autouse=True)
def no_registered_model(monkeypatch: pytest.MonkeyPatch):
    """Each test starts with no G2PW model registered in this process (and leaves none)."""
    monkeypatch.setattr(g2pw, "_configured", {})
    monkeypatch.delenv("GSV_PRETRAINED_DIR", raising=False)  # no BERT tokenizer from elsewhere
    g2pw.installed_model.cache_clear()
    yield
    g2pw.installed_model.cache_clear()


def _data_folder(root: Path, with_g2pw: bool) -> Path:
    """A frontend data folder: the shared text data (linked), plus the tiny G2PW model if asked."""
    root.mkdir(parents=True)
    for entry in SHARED.iterdir():
        (root / entry.name).symlink_to(entry)
    if with_g2pw:
        build_tiny_g2pw(root)
    return root


def _model_zip(tmp_path: Path) -> bytes:
    """``G2PWModel.zip`` as the official bundle holds it: a ``G2PWModel/`` folder."""
    built = build_tiny_g2pw(tmp_path / "bundle")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bundle:
        for f in sorted((built / "G2PWModel").iterdir()):
            bundle.write(f, f"G2PWModel/{f.name}")
    return out.getvalue()


# --- the rule -----------------------------------------------------------------------------------

def test_offline_without_the_model_refuses_with_the_fetch_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(_data_folder(tmp_path / "data", with_g2pw=False)))
    with pytest.raises(g2pw.G2PWMissingError) as refused:
        decide()
    assert "gsv models fetch v2" in refused.value.fix and "--allow-pypinyin" in refused.value.fix
    messages: list[str] = []
    assert decide(allow_pypinyin=True, on_info=messages.append).source == PYPINYIN
    assert "pypinyin" in messages[0]


def test_an_installed_model_is_used_and_pypinyin_is_never_needed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(_data_folder(tmp_path / "data", with_g2pw=True)))
    readings = decide()
    assert readings.source == G2PW
    assert clean_text(LONG, "zh", "v2", sentence_pinyin=readings.sentence_pinyin()).phones == MODEL_PHONES


def test_online_the_missing_model_is_fetched_with_progress(tmp_path: Path, monkeypatch) -> None:
    """As the official (which downloads G2PW when it is missing): through our verified download."""
    import huggingface_hub.constants as hub_constants
    from hub_helpers import fake_hub

    data = _data_folder(tmp_path / "data", with_g2pw=False)
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(data))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    tokenizer = build_tiny_g2pw(tmp_path / "bert") / "chinese-roberta-wwm-ext-large"
    progress: list[tuple[str, int, int | None]] = []
    infos: list[str] = []
    with fake_hub({pretrained.G2PW_HF_FILE: _model_zip(tmp_path)}) as hub:
        monkeypatch.setattr(hub_constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            hub.url + "/{repo_id}/resolve/{revision}/{filename}")
        readings = decide(tokenizer=tokenizer, on_progress=lambda *a: progress.append(a), on_info=infos.append)
    assert readings.source == G2PW and g2pw.model_dir() == data / "G2PWModel"
    assert progress and progress[-1][0].endswith(pretrained.G2PW_HF_FILE) and progress[-1][1] == progress[-1][2]
    assert "downloading" in infos[0]
    assert clean_text(LONG, "zh", "v2", sentence_pinyin=readings.sentence_pinyin()).phones == MODEL_PHONES


def test_a_failed_download_is_named_and_pypinyin_still_needs_permission(tmp_path: Path, monkeypatch) -> None:
    import huggingface_hub.constants as hub_constants
    from hub_helpers import fake_hub

    monkeypatch.setenv("GSV_FRONTEND_DATA", str(_data_folder(tmp_path / "data", with_g2pw=False)))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    with fake_hub({}) as hub:  # the hub lacks the file: the download fails
        monkeypatch.setattr(hub_constants, "ENDPOINT", hub.url)
        monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            hub.url + "/{repo_id}/resolve/{revision}/{filename}")
        with pytest.raises(g2pw.G2PWMissingError, match="the download failed") as refused:
            decide()
        assert "gsv models fetch v2" in refused.value.fix
        assert decide(allow_pypinyin=True).source == PYPINYIN


def test_the_inference_cleaner_decides_only_for_v2_chinese(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(_data_folder(tmp_path / "data", with_g2pw=False)))
    strict = ReadingsCleaner()
    assert strict("Hello there.", "en", "v2").phones  # English never needs G2PW
    assert strict(LONG, "zh", "v1").phones  # nor does v1 Chinese (pypinyin is the official v1 reading)
    assert strict.source is None
    with pytest.raises(g2pw.G2PWMissingError):
        strict(LONG, "zh", "v2")
    allowed = ReadingsCleaner(allow_pypinyin=True)
    assert allowed(LONG, "zh", "v2").phones == PYPINYIN_PHONES and allowed.source == PYPINYIN


# --- formatting ---------------------------------------------------------------------------------

def _format(root: Path, bert: Path, **kw):
    report, events = Reporter.collect()
    opts = FormatOptions(list_path=root / "clips.list", exp_dir=root / "exp", bert_dir=bert, only="text",
                         threads=1, **kw)
    return run_format(opts, report), events


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_bert(tmp_path_factory.mktemp("bert"))


def test_formatting_refuses_then_records_the_allowed_fallback_then_redoes_it_with_g2pw(
        tmp_path: Path, bert_dir: Path, monkeypatch) -> None:
    data = _data_folder(tmp_path / "data", with_g2pw=False)
    monkeypatch.setenv("GSV_FRONTEND_DATA", str(data))
    clips = make_clips(tmp_path / "clips", 2)
    (tmp_path / "clips.list").write_text(f"{clips[0]}|spk|ZH|{LONG}\n{clips[1]}|spk|EN|Hello there.\n",
                                         encoding="utf-8")
    exp = tmp_path / "exp"

    with pytest.raises(g2pw.G2PWMissingError) as refused:  # not one clip is silently read otherwise
        _format(tmp_path, bert_dir)
    assert "gsv models fetch v2" in refused.value.fix
    assert not (exp / layout.NAME2TEXT).exists()

    summary, events = _format(tmp_path, bert_dir, allow_pypinyin=True)
    assert summary.zh_readings == PYPINYIN
    assert journal.read_state(exp)["zh_readings"] == PYPINYIN
    assert json.loads((journal.state_dir(exp) / journal.SUMMARY_FILE).read_text())["zh_readings"] == PYPINYIN
    assert any(e.get("level") == "warning" and "pypinyin" in e.get("text", "") for e in events)
    lines = (exp / layout.NAME2TEXT).read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t")[1].split() == PYPINYIN_PHONES

    build_tiny_g2pw(data)  # `gsv models fetch v2` put the model in place
    summary, _ = _format(tmp_path, bert_dir)
    assert summary.zh_readings == G2PW and journal.read_state(exp)["zh_readings"] == G2PW
    assert summary.steps[0].done == 1 and summary.steps[0].reused == 1  # only the Chinese clip is redone
    lines = (exp / layout.NAME2TEXT).read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t")[1].split() == MODEL_PHONES


def test_format_and_infer_options_come_from_the_params_declaration() -> None:
    from backend.stages import format as format_stage
    from backend.stages import infer as infer_stage

    for stage in (format_stage, infer_stage):
        parser = argparse.ArgumentParser()
        stage.add_arguments(parser)
        assert "--allow-pypinyin" in parser.format_help()
        assert stage.Params.__dataclass_fields__["allow_pypinyin"].default is False


# --- inference ----------------------------------------------------------------------------------

def test_a_take_refuses_chinese_offline_and_records_the_allowed_fallback(tmp_path: Path, monkeypatch) -> None:
    from infer_helpers import GPT, HUBERT, SOVITS, build_tiny_bert, write_voice

    from backend.infer.pipeline import PYPINYIN_WARNING
    from backend.stages import infer as infer_stage

    monkeypatch.setenv("GSV_FRONTEND_DATA", str(_data_folder(tmp_path / "data", with_g2pw=False)))
    ref = write_voice(tmp_path / "ref.wav", 4.0, seed=7)
    bert = build_tiny_bert(tmp_path / "bert")

    def take(name: str, text: str, lang: str, allow: bool, **verify: object) -> dict:
        out = tmp_path / f"{name}.wav"
        params = infer_stage.Params(text=text, lang=lang, refs=[ref], out=out, ref_text="A voice.", ref_lang="en",
                                    gpt=GPT, sovits=SOVITS, hubert=HUBERT, bert=bert, device="cpu", seed=3,
                                    max_tokens=12, allow_pypinyin=allow, **verify)  # type: ignore[arg-type]
        infer_stage.run(params, Reporter.collect()[0])
        return json.loads(infer_stage.result_path(out).read_text(encoding="utf-8"))

    with pytest.raises(g2pw.G2PWMissingError, match="G2PW"):
        take("zh", LONG, "all_zh", allow=False)
    assert not (tmp_path / "zh.wav").exists()
    english = take("en", "Hello there.", "en", allow=False)  # no Chinese: nothing to refuse
    assert english["zh_readings"] is None
    chinese = take("zh", LONG, "all_zh", allow=True)
    assert chinese["zh_readings"] == PYPINYIN and chinese["params"]["allow_pypinyin"] is True
    assert PYPINYIN_WARNING in chinese["warnings"]
    # verified synthesis prepares the same way: the fallback is recorded and said there too
    from asr_models import build_tiny_whisper

    whisper = build_tiny_whisper(tmp_path / "whisper-tiny")
    verified = take("zh-verified", LONG, "all_zh", allow=True, verify=True, max_tries=1,
                    asr_engine="faster-whisper", asr_model=str(whisper), asr_device="cpu")
    assert verified["verify"] and verified["zh_readings"] == PYPINYIN and PYPINYIN_WARNING in verified["warnings"]
