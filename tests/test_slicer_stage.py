"""The slice stage end to end: a batch of good and bad files, the summary, re-slicing, the CLI options."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_synth import speechlike, write_corpus

from backend.audio.slicing import dataset_warnings
from backend.progress import Reporter
from backend.stages import slice as slice_stage
from backend.workspace import Workspace


@pytest.fixture(scope="module")
def sliced_corpus(tmp_path_factory: pytest.TempPathFactory):
    """The whole corpus sliced once, in parallel (two worker processes)."""
    root = tmp_path_factory.mktemp("stage")
    expect = write_corpus(root / "in put")
    out = root / "clips"
    report, events = Reporter.collect()
    slice_stage.run(slice_stage.Params(inputs=[root / "in put"], out_dir=out, workers=2), report)
    return root, expect, out, events


def _summary(events: list[dict]) -> dict:
    (ev,) = [e for e in events if e["kind"] == "summary"]
    return ev["data"]


@pytest.mark.slow
def test_bad_files_are_reported_by_name_and_the_rest_sliced(sliced_corpus) -> None:
    root, expect, out, events = sliced_corpus
    summary = _summary(events)
    skipped = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
    assert set(skipped) == {n for n, why in expect.items() if why}
    for name, word in expect.items():
        if word:
            assert word in skipped[name], (name, skipped[name])
    clips = sorted(p.name for p in out.iterdir())
    for name, word in expect.items():
        if word is None and name != "silence.wav":
            mine = [c for c in clips if c.startswith(name + "_")]
            assert mine, f"{name} gave no clips"
            for c in mine:
                data, sr = sf.read(out / c, dtype="int16")
                assert sr == 32000 and data.ndim == 1 and data.any()
    assert not [c for c in clips if c.startswith("silence.wav_")]
    assert len(clips) == summary["clips"] == sum(f["clips"] for f in summary["files"])


def test_progress_per_file_and_warnings(sliced_corpus) -> None:
    _, expect, _, events = sliced_corpus
    progress = [e for e in events if e["kind"] == "progress"]
    assert [e["done"] for e in progress] == list(range(len(expect) + 1))
    assert all(e["total"] == len(expect) and e["unit"] == "files" for e in progress)
    assert progress[0]["label"] == "slicing in 2 processes"
    assert {e.get("label") for e in progress[1:]} == set(expect)
    texts = [e["text"] for e in events if e["kind"] == "message"]
    assert any("cut short.wav" in t and "truncated" in t for t in texts)
    assert any("silence.wav" in t and "silence" in t for t in texts)
    assert any(t.startswith("skipped") and "notes.wav" in t for t in texts)


def test_summary_file_histogram_and_warnings(sliced_corpus) -> None:
    root, expect, out, events = sliced_corpus
    summary = _summary(events)
    on_disk = json.loads(slice_stage.summary_path(out).read_text())
    assert on_disk == summary
    assert slice_stage.summary_path(out) == root / "clips.slice.json"
    assert sum(summary["histogram"]["counts"]) == summary["clips"]
    assert summary["histogram"]["edges"][0] == 0
    total = sum(sf.info(p).duration for p in out.iterdir())
    assert summary["seconds"] == pytest.approx(total, abs=0.01)
    assert summary["folder"]["seconds"] == pytest.approx(total, abs=0.01)
    one = [f for f in summary["files"] if Path(f["path"]).name == "one second.flac"][0]
    assert one["clips"] == 1 and summary["short_clips"] >= 1
    warnings = " | ".join(summary["warnings"])
    assert "shorter than 2 s" in warnings and "3 file(s) skipped" in warnings
    assert summary["long_clips"] == 0 and "longer than" not in warnings
    assert summary["params"]["threshold"] == -34.0 and summary["params"]["max_length"] == 20.0


@pytest.mark.parametrize("seconds, long_clips, words", [
    (30.0, 0, ["only 30 s of speech in the clips folder: 1–30 minutes"]),
    (2400.0, 0, ["40 min of speech in the clips folder: 1–30 minutes"]),
    (600.0, 2, ["2 clip(s) longer than 20 s"]),
    (600.0, 0, []),
])
def test_dataset_warnings(seconds: float, long_clips: int, words: list[str]) -> None:
    summary = {"folder": {"seconds": seconds}, "short_clips": 0, "long_clips": long_clips,
               "max_length": 20.0, "skipped": []}
    got = dataset_warnings(summary)
    assert len(got) == len(words)
    for w in words:
        assert any(w in g for g in got)


def test_re_slicing_is_refused_then_backed_up(tmp_path: Path) -> None:
    src = tmp_path / "talk.wav"
    sf.write(src, speechlike(12, 32000, seed=5), 32000, subtype="PCM_16")
    out = tmp_path / "clips"
    slice_stage.run(slice_stage.Params(inputs=[src], out_dir=out), Reporter())
    first = sorted(p.name for p in out.iterdir())
    assert first
    report, events = Reporter.collect()
    with pytest.raises(slice_stage.SliceError, match="already sliced"):
        slice_stage.run(slice_stage.Params(inputs=[src], out_dir=out, min_length=2000), report)
    assert sorted(p.name for p in out.iterdir()) == first  # nothing touched
    report, events = Reporter.collect()
    slice_stage.run(slice_stage.Params(inputs=[src], out_dir=out, min_length=2000, replace=True), report)
    (backup,) = (tmp_path / "clips.replaced").iterdir()
    assert sorted(p.name for p in backup.iterdir()) == first
    second = sorted(p.name for p in out.iterdir())
    assert second and second != first
    assert _summary(events)["files"][0]["replaced"] == len(first)


def test_same_file_name_in_two_folders(tmp_path: Path) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        sf.write(tmp_path / d / "take.wav", speechlike(6, 32000, seed=1), 32000)
    report, events = Reporter.collect()
    slice_stage.run(slice_stage.Params(inputs=[tmp_path / "a", tmp_path / "b"], out_dir=tmp_path / "o"), report)
    s = _summary(events)
    assert len(s["files"]) == 1 and len(s["skipped"]) == 1 and "collide" in s["skipped"][0]["reason"]


def test_nothing_usable_fails_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_bytes(b"")
    with pytest.raises(slice_stage.SliceError, match="x.wav: is empty"):
        slice_stage.run(slice_stage.Params(inputs=[tmp_path / "x.wav"], out_dir=tmp_path / "o"), Reporter())
    assert slice_stage.summary_path(tmp_path / "o").is_file()


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    slice_stage.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_options_and_project(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "home")
    project = ws.create_project("小明")
    src = tmp_path / "rec.wav"
    sf.write(src, speechlike(10, 44100, seed=2), 44100)
    args = _parse([str(src), "--project", "小明", "--threshold", "-40", "--min-length", "3000",
                   "--min-interval", "200", "--hop-size", "20", "--max-sil-kept", "400", "--max", "0.8",
                   "--alpha", "0.5", "--max-length", "0"])
    params = slice_stage.params_from_args(args, ws)
    assert params.out_dir == project.clips_dir and slice_stage.project_of(params) == "小明"
    assert (params.threshold, params.min_length, params.min_interval, params.hop_size, params.max_sil_kept,
            params.peak, params.alpha, params.max_length) == (-40, 3000, 200, 20, 400, 0.8, 0.5, None)
    from backend.stages.base import params_from_json, params_to_json

    assert params_from_json(slice_stage.Params, json.loads(json.dumps(params_to_json(params)))) == params
    slice_stage.run(params, Reporter())
    assert any(project.clips_dir.iterdir())
    assert all(p.is_file() for p in slice_stage.expected_outputs(params))


@pytest.mark.parametrize("argv, word", [
    (["--min-length", "100"], "min_length"),
    (["--max", "1.5"], "max"),
    (["--alpha", "-1"], "alpha"),
])
def test_cli_refuses_inconsistent_values(tmp_path: Path, argv: list[str], word: str) -> None:
    src = tmp_path / "a.wav"
    sf.write(src, np.zeros(100, np.float32), 32000)
    with pytest.raises(slice_stage.SliceError, match=word):
        slice_stage.params_from_args(_parse([str(src), "--out", str(tmp_path / "o"), *argv]), Workspace(tmp_path))


def test_missing_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(slice_stage.SliceError, match="nope.wav"):
        slice_stage.params_from_args(_parse([str(tmp_path / "nope.wav"), "--out", str(tmp_path)]), Workspace(tmp_path))


def test_slicing_the_output_folder_into_itself_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "clips"
    out.mkdir()
    sf.write(out / "a.wav", speechlike(5, 32000), 32000)
    for inp in (out, out / "a.wav"):
        with pytest.raises(slice_stage.SliceError, match="output folder itself"):
            slice_stage.run(slice_stage.Params(inputs=[inp], out_dir=out), Reporter())
    assert [p.name for p in out.iterdir()] == ["a.wav"]


@pytest.mark.slow
def test_progress_never_goes_backwards(tmp_path: Path) -> None:
    for k in range(3):
        sf.write(tmp_path / f"r{k}.wav", speechlike(30, 44100, seed=k), 44100)
    report, events = Reporter.collect()
    slice_stage.run(slice_stage.Params(inputs=[tmp_path], out_dir=tmp_path / "o", workers=1), report)
    done = [e["done"] for e in events if e["kind"] == "progress"]
    assert done == sorted(done) and done[0] == 0 and done[-1] == 3
