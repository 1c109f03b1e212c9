"""The slicer against the official one: every reference case, cut for cut and sample for sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.audio.slicer import SliceParams, Slicer, clip_name, normalize_clip
from backend.progress import Reporter
from backend.stages import slice as slice_stage

CASES_DIR = Path(__file__).parent / "fixtures" / "slicer"
CASES = sorted(p.stem for p in CASES_DIR.glob("*.json"))


def _case(name: str) -> tuple[np.ndarray, dict, dict[str, np.ndarray]]:
    meta = json.loads((CASES_DIR / f"{name}.json").read_text())
    audio, sr = sf.read(CASES_DIR / meta["input"], dtype="float32")
    assert sr == meta["sample_rate"] == 32000
    with np.load(CASES_DIR / f"{name}.expected.npz") as z:
        expected = {k: z[k] for k in z.files}
    return audio, meta, expected


def test_cases_present() -> None:
    assert CASES == ["en_a", "zh_a"]


@pytest.mark.parametrize("name", CASES)
def test_cut_points_names_and_samples_match_official(name: str) -> None:
    audio, meta, expected = _case(name)
    p = meta["params"]
    slicer = Slicer(meta["sample_rate"], SliceParams(threshold=p["threshold"], min_length=p["min_length"],
                                                     min_interval=p["min_interval"], hop_size=p["hop_size"],
                                                     max_sil_kept=p["max_sil_kept"], max_length=None))
    clips = slicer.slice(audio)
    assert [[c.start, c.end] for c in clips] == meta["cuts_samples"]
    assert [clip_name(meta["input"], c.start, c.end) for c in clips] == meta["file_names"]
    assert len(expected) == len(clips)
    for k, clip in enumerate(clips):
        got = normalize_clip(clip.samples, meta["normalize"]["max"], meta["normalize"]["alpha"])
        want = expected[f"chunk{k}"]
        assert got.dtype == np.int16 and got.shape == want.shape
        assert np.abs(got.astype(np.int32) - want).max() <= 1, f"chunk {k}"


@pytest.mark.parametrize("name", CASES)
def test_stage_writes_the_official_files(name: str, tmp_path: Path) -> None:
    """Through the whole stage (decode, slice, mix, write): same names, same samples on disk."""
    _, meta, expected = _case(name)
    out = tmp_path / "clips"
    params = slice_stage.Params(inputs=[CASES_DIR / meta["input"]], out_dir=out, max_length=None)
    report, events = Reporter.collect()
    slice_stage.run(params, report)
    assert sorted(p.name for p in out.iterdir()) == sorted(meta["file_names"])
    for k, fname in enumerate(meta["file_names"]):
        data, sr = sf.read(out / fname, dtype="int16")
        assert sr == 32000 and sf.info(out / fname).subtype == "PCM_16"
        assert np.abs(data.astype(np.int32) - expected[f"chunk{k}"]).max() <= 1
    summary = [e for e in events if e["kind"] == "summary"][0]["data"]
    assert summary["clips"] == len(meta["file_names"])


@pytest.mark.parametrize("name", CASES)
def test_default_max_length_leaves_normal_speech_alone(name: str) -> None:
    """These cases have no clip over 20 s: the default limit must not move a single cut."""
    audio, meta, _ = _case(name)
    clips = Slicer(32000, SliceParams(max_length=slice_stage.DEFAULT_MAX_LENGTH)).slice(audio)
    assert max(c.end - c.start for c in clips) < 20 * 32000
    assert [[c.start, c.end] for c in clips] == meta["cuts_samples"]
