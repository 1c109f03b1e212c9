"""ASR with the REAL engines on tiny random models: .list format, languages, sidecar, failures,
the no-overwrite rule and the missing-model errors. The recognised words are random noise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from asr_models import build_tiny_paraformer, build_tiny_whisper

from backend.asr import AsrModelMissing, AsrOptions, ClipResult
from backend.asr.output import line_for
from backend.progress import Reporter
from backend.stages import asr as asr_stage
from backend.transcripts.listfile import Clip, parse_bytes

TRAINABLE_CODES = {"ZH", "EN", "JA", "KO", "YUE"}


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_whisper(tmp_path_factory.mktemp("asr") / "whisper-tiny")


@pytest.fixture(scope="session")
def tiny_paraformer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_paraformer(tmp_path_factory.mktemp("asr") / "paraformer-tiny")


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    folder = tmp_path / "clips 声音"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, seconds in enumerate((1.5, 3.0, 2.2)):
        t = np.arange(int(32000 * seconds)) / 32000
        wave = 0.3 * np.sin(2 * np.pi * (180 + 40 * i) * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
        sf.write(folder / f"take_{i:010d}_{i + 1:010d}.wav", (wave + 0.01 * rng.standard_normal(len(t))).astype("float32"),
                 32000, subtype="PCM_16")
    return folder


def _run(params: asr_stage.Params) -> list[dict]:
    report, events = Reporter.collect()
    asr_stage.run(params, report)
    return events


def _params(clips: Path, out: Path, **kw) -> asr_stage.Params:
    base = dict(input_dir=clips, out_dir=out, vad=False, batch_size=2)
    base.update(kw)
    return asr_stage.Params(**base)


def _clips_of(path: Path) -> list[Clip]:
    return [r for r in parse_bytes(path.read_bytes()).rows if isinstance(r, Clip)]


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "ko", "yue"])
def test_whisper_fixed_language_writes_official_list(clips: Path, tmp_path: Path, tiny_whisper: Path,
                                                     language: str) -> None:
    out = tmp_path / "out"
    events = _run(_params(clips, out, engine="faster-whisper", model=str(tiny_whisper), language=language))
    lst = out / "clips 声音.list"
    rows = _clips_of(lst)
    assert [Path(r.path) for r in rows] == sorted(clips.glob("*.wav"))
    assert {r.speaker for r in rows} == {"clips 声音"} and {r.lang for r in rows} == {language.upper()}
    assert not lst.read_bytes().endswith(b"\n")  # the official ASR writes no trailing newline
    side = json.loads((out / "clips 声音.list.asr.json").read_text(encoding="utf-8"))
    for r in rows:
        info = side["clips"][r.path]
        assert info["language"] == language and isinstance(info["avg_logprob"], float)
        assert 0.0 <= info["no_speech_prob"] <= 1.0 and info["compression_ratio"] > 0
    progress = [e for e in events if e["kind"] == "progress" and e["unit"] == "clips"]
    assert progress[-1]["done"] == progress[-1]["total"] == 3


@pytest.mark.slow
def test_whisper_auto_never_writes_auto(clips: Path, tmp_path: Path, tiny_whisper: Path) -> None:
    out = tmp_path / "out"
    try:
        _run(_params(clips, out, engine="faster-whisper", model=str(tiny_whisper), language="auto"))
    except asr_stage.AsrError:
        pass  # every clip detected as an untrainable language: allowed for random weights
    side = json.loads((out / "clips 声音.list.asr.json").read_text(encoding="utf-8"))
    rows = _clips_of(out / "clips 声音.list")
    assert {r.lang for r in rows} <= TRAINABLE_CODES
    assert len(rows) + len(side["failed"]) == 3
    for why in side["failed"].values():
        assert "cannot be trained" in why


@pytest.mark.slow
def test_bad_files_are_listed_and_the_rest_go_on(clips: Path, tmp_path: Path, tiny_paraformer: Path) -> None:
    (clips / "notes.txt").write_text("not audio")
    (clips / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    out = tmp_path / "out"
    _run(_params(clips, out, engine="funasr", model=str(tiny_paraformer), language="zh"))
    rows = _clips_of(out / "clips 声音.list")
    assert len(rows) == 3 and {r.lang for r in rows} == {"ZH"}
    failed = json.loads((out / "clips 声音.list.asr.json").read_text(encoding="utf-8"))["failed"]
    assert set(Path(p).name for p in failed) == {"notes.txt", "broken.wav"}


@pytest.mark.slow
def test_rerun_keeps_a_reviewed_list(clips: Path, tmp_path: Path, tiny_paraformer: Path) -> None:
    out = tmp_path / "out"
    params = _params(clips, out, engine="funasr", model=str(tiny_paraformer), language="zh")
    _run(params)
    lst = out / "clips 声音.list"
    rows = _clips_of(lst)
    edited = f"{rows[0].path}|{rows[0].speaker}|ZH|人工校对过的文本"
    lst.write_bytes(f"{edited}\n".encode())  # a person kept one clip and fixed its text
    before = lst.read_bytes()
    _run(params)
    after = lst.read_bytes().decode()
    assert after.startswith(edited + "\n")
    assert len(_clips_of(lst)) == 3
    assert (out / "clips 声音.list.bak").read_bytes() == before
    # "new" leaves the reviewed file alone
    _run(_params(clips, out, engine="funasr", model=str(tiny_paraformer), language="zh", on_existing="new"))
    assert lst.read_text(encoding="utf-8") == after
    assert len(list(out.glob("clips 声音-*.list"))) == 1


def test_rerun_after_a_merge_does_not_transcribe_the_merged_clips_again(clips: Path, tmp_path: Path,
                                                                        tiny_paraformer: Path) -> None:
    from backend.transcripts import Transcript

    out = tmp_path / "out"
    params = _params(clips, out, engine="funasr", model=str(tiny_paraformer), language="zh")
    _run(params)
    lst = out / "clips 声音.list"
    t = Transcript.open(lst)
    merged = t.merge_next(0)
    t.save()
    _run(params)
    rows = _clips_of(lst)
    assert len(rows) == 2 and rows[0].path == merged.path  # the two originals were not listed again


def test_missing_models_are_named_with_the_fetch_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.asr import make_engine

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    with pytest.raises(AsrModelMissing) as e:
        make_engine(AsrOptions(engine="faster-whisper", model="large-v3", device="cpu"))
    assert "Systran/faster-whisper-large-v3" in e.value.message and "hf download" in e.value.fix
    with pytest.raises(AsrModelMissing) as e:
        make_engine(AsrOptions(engine="funasr", model="paraformer-zh", language="zh", device="cpu"))
    assert "speech_paraformer-large" in e.value.message and "modelscope download" in e.value.fix
    with pytest.raises(AsrModelMissing) as e:  # Cantonese: the official UniASR model, by default
        make_engine(AsrOptions(engine="funasr", language="yue", device="cpu"))
    assert "UniASR_asr_2pass-cantonese" in e.value.message and "modelscope download" in e.value.fix


def test_funasr_models_refuse_languages_they_cannot_hear(tiny_paraformer: Path) -> None:
    from backend.asr import AsrError, make_engine
    from backend.asr.funasr import model_languages

    assert model_languages("paraformer-zh") == ("zh",) and model_languages("uniasr-yue") == ("yue",)
    assert set(model_languages("sensevoice")) == {"zh", "en", "ja", "ko", "yue"}
    for language in ("ko", "yue"):
        with pytest.raises(AsrError) as e:
            make_engine(AsrOptions(engine="funasr", model=str(tiny_paraformer), language=language, device="cpu"))
        assert language in e.value.message and "sensevoice" in e.value.fix


@pytest.mark.parametrize("text", ["a|b|c", "two\nlines", "tab\there", "emoji 😀🎤", "עברית RTL", "", "  \r\n "])
def test_hostile_text_keeps_one_line_of_four_fields(text: str) -> None:
    clip = line_for(ClipResult(Path("/d/x.wav"), text=text, language="en"), "spk|er")
    parsed = parse_bytes(clip.line().encode())
    assert len(parsed.rows) == 1 and not parsed.problems
    row = parsed.rows[0]
    assert isinstance(row, Clip) and row.path == "/d/x.wav" and row.lang == "EN"
    assert "\n" not in row.text and "|" not in row.text


@pytest.mark.slow
def test_gsv_asr_runs_as_a_tracked_job(clips: Path, tmp_path: Path, tiny_paraformer: Path) -> None:
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "backend.cli", "--home", str(tmp_path / "home"), "asr", str(clips),
                        "--out", str(out), "--engine", "funasr", "--model", str(tiny_paraformer), "--language", "zh",
                        "--no-vad", "--device", "cpu", "--gpus", "cpu"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(_clips_of(out / "clips 声音.list")) == 3


def test_model_download_progress_counts_bytes() -> None:
    """The tqdm handed to the hub client draws nothing and reports the bytes so far (a disabled
    tqdm does not count them itself: the job's progress would stay at 0)."""
    from backend.asr.hub import _tqdm_reporting

    seen: list[tuple[int, int | None, str]] = []
    bar = _tqdm_reporting(lambda done, total, label: seen.append((done, total, label)), "downloading x")(total=100)
    bar.update(30)
    bar.update(20)
    assert seen == [(30, 100, "downloading x"), (50, 100, "downloading x")]


@pytest.mark.parametrize("batch_size", [1, 2])
def test_paraformer_clips_carry_a_confidence_for_worst_first(clips: Path, tmp_path: Path, tiny_paraformer: Path,
                                                             batch_size: int) -> None:
    """FunASR returns text only; the decoder's token log-probabilities give each clip its
    avg_logprob, so "worst first" orders Chinese clips too (one clip per call and batched)."""
    from backend.transcripts import Transcript

    out = tmp_path / "out"
    _run(_params(clips, out, engine="funasr", model=str(tiny_paraformer), language="zh", batch_size=batch_size))
    side = json.loads((out / "clips 声音.list.asr.json").read_text(encoding="utf-8"))["clips"]
    scores = {Path(p).name: v["avg_logprob"] for p, v in side.items()}
    assert len(scores) == 3 and any(v is not None for v in scores.values())
    rows = _clips_of(out / "clips 声音.list")
    for r in rows:  # a clip with tokens has a score, a log-probability: at most 0
        score = scores[Path(r.path).name]
        assert (score is None) == (r.text == "") and (score is None or score <= 0.0)
    t = Transcript.open(out / "clips 声音.list")
    scored = [n for n in range(len(t)) if scores[Path(t.clip(n).path).name] is not None]
    worst = [n for n in t.order("confidence") if n in scored]
    assert [scores[Path(t.clip(n).path).name] for n in worst] == sorted(scores[Path(t.clip(n).path).name] for n in scored)
