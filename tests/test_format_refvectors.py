"""Formatting reproduces the official scripts' outputs (fixtures/format, from the reference vectors).

The official ``load_audio`` decodes with the ffmpeg program; ours (soundfile + soxr) cannot match
its resampler sample for sample, so the clips are given here as what ffmpeg returned (recorded
arrays, written as 32 kHz float wavs our loader reads exactly). Chinese readings come from the
recorded G2PW stand-in, injected in place of the G2PW model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from format_helpers import (  # noqa: E402
    FMT,
    HUBERT_DIR,
    ITEMS,
    S2G_PATH,
    SSL,
    pinyin_calls,
    recorded_32k,
    unpack_bert,
    write_float_wav,
)
from text_records import frontend_data_or_skip  # noqa: E402

from backend.format import layout  # noqa: E402
from backend.format.runner import FormatOptions, run_format  # noqa: E402
from backend.format.steps import wav32k_int16  # noqa: E402
from backend.models.safe_pickle import load_checkpoint  # noqa: E402
from backend.models.ssl import training_input  # noqa: E402
from backend.progress import Reporter  # noqa: E402

EXP = FMT / "exp"


@pytest.mark.parametrize("item", ITEMS)
def test_wav32k_samples_and_bytes_exact(item: str, tmp_path: Path) -> None:
    from backend.audio.io import save_wav_int16

    x = recorded_32k()[item]
    official = (EXP / layout.WAV32K_DIR / item).read_bytes()
    got = wav32k_int16(x)
    assert np.array_equal(got, np.frombuffer(official[44:], dtype="<i2"))
    save_wav_int16(tmp_path / item, got, 32000)
    assert (tmp_path / item).read_bytes() == official  # same 44-byte header too


@pytest.mark.parametrize("item", ITEMS)
def test_hubert_input_array(item: str) -> None:
    with np.load(SSL / "intermediates.npz") as z:
        want = z[f"{item[:-4]}__hubert_input_16k"][0]
    got = training_input(recorded_32k()[item])
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def _format_the_reference_clips(root: Path) -> Path:
    """Format the two reference clips (as ffmpeg decoded them) with the tiny models into ``root/exp``."""
    frontend_data_or_skip()
    clips = root / "clips"
    for item, x in recorded_32k().items():
        write_float_wav(clips / item, x)
    list_path = root / "refvec_fmt.list"
    list_path.write_bytes((FMT / "refvec_fmt.list").read_bytes())
    opts = FormatOptions(list_path=list_path, exp_dir=root / "exp", version="v2", wav_dir=clips,
                         bert_dir=unpack_bert(root / "models"), hubert_dir=HUBERT_DIR, s2g_path=S2G_PATH,
                         pinyin_calls=pinyin_calls(), threads=2)
    report, events = Reporter.collect()
    summary = run_format(opts, report)
    assert summary.kept == 2 and not summary.skipped, events
    return root / "exp"


@pytest.fixture(scope="module")
def formatted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _format_the_reference_clips(tmp_path_factory.mktemp("fmtref"))


@pytest.mark.slow
def test_name2text_exact(formatted: Path) -> None:
    assert (formatted / layout.NAME2TEXT).read_bytes() == (EXP / layout.NAME2TEXT).read_bytes()


def test_bert_features(formatted: Path) -> None:
    name = "zh_gongyuan_16k_mono.wav.pt"
    got, want = load_checkpoint(formatted / layout.BERT_DIR / name), load_checkpoint(EXP / layout.BERT_DIR / name)
    assert got.shape == want.shape == (1024, 17) and got.dtype == want.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    assert sorted(p.name for p in (formatted / layout.BERT_DIR).iterdir()) == [name]  # zh only


@pytest.mark.parametrize("item", ITEMS)
def test_cnhubert_and_wav32k(formatted: Path, item: str) -> None:
    got, want = load_checkpoint(formatted / layout.HUBERT_DIR / f"{item}.pt"), load_checkpoint(SSL / f"{item}.pt")
    assert got.shape == want.shape and got.dtype == want.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=0, atol=1e-4)
    assert (formatted / layout.WAV32K_DIR / item).read_bytes() == (EXP / layout.WAV32K_DIR / item).read_bytes()


def test_name2semantic_exact(formatted: Path) -> None:
    assert (formatted / layout.NAME2SEMANTIC).read_bytes() == (EXP / layout.NAME2SEMANTIC).read_bytes()


def test_loader_reads_the_official_folder() -> None:
    """The folder the official scripts wrote is what our trainers' reader expects (both directions)."""
    from backend.train.data import ExpFolder

    exp = ExpFolder(EXP, "v2")
    assert sorted(exp.gpt_items()) == list(ITEMS)
    zh = "zh_gongyuan_16k_mono.wav"
    assert exp.phones[zh].word2ph == [2, 2, 2, 2, 2, 2, 2, 2, 1] and exp.phones[zh].norm_text == "我们去公园散步吧."
    assert exp.bert(zh).shape == (1024, 17) and exp.bert("en_fox_44k_stereo.wav").abs().sum() == 0
    assert len(exp.tokens(zh)) == 68 and exp.wav32k(zh).shape == (88004,)
    assert exp.phones["en_fox_44k_stereo.wav"].phones[:3] == ["EY1", "K", "W"]


@pytest.mark.slow
def test_half_precision_formatting_on_cpu_as_a_gpu_stand_in(tmp_path: Path, monkeypatch) -> None:
    """Formatting with every model in fp16, as on a GPU (the official ``is_half``), run on the CPU
    because no GPU is available here: the same files, the features within fp16 rounding of the
    official fp32 ones, HuBERT features stored as fp16 like the official half-precision run."""
    import backend.format.steps as steps

    monkeypatch.setattr(steps, "_torch_setup", lambda cfg, device: torch.float16)
    exp = _format_the_reference_clips(tmp_path)
    assert (exp / layout.NAME2TEXT).read_bytes() == (EXP / layout.NAME2TEXT).read_bytes()
    name = "zh_gongyuan_16k_mono.wav.pt"
    bert = load_checkpoint(exp / layout.BERT_DIR / name)
    torch.testing.assert_close(bert.float(), load_checkpoint(EXP / layout.BERT_DIR / name), rtol=0, atol=2e-2)
    for item in ITEMS:
        got, want = load_checkpoint(exp / layout.HUBERT_DIR / f"{item}.pt"), load_checkpoint(SSL / f"{item}.pt").detach()
        assert got.dtype == torch.float16 and got.shape == want.shape
        torch.testing.assert_close(got.float(), want, rtol=0, atol=2e-2 * float(want.abs().max()))
    semantic = (exp / layout.NAME2SEMANTIC).read_text(encoding="utf-8").splitlines()
    official = (EXP / layout.NAME2SEMANTIC).read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in semantic] == [line.split("\t")[0] for line in official]
    assert [len(line.split()) for line in semantic] == [len(line.split()) for line in official]
