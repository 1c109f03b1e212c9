"""The chunked chain on its own (no runner needed): seams, rates, lengths, bad input, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.clean.chain import Chunking, CleanInputError, clean_file, count_chunks
from backend.errors import GsvError


class Identity:
    """A step that returns its input: whatever the chain does at the seams must vanish with it."""

    def __init__(self) -> None:
        self.calls = 0

    def process(self, wav_in: Path) -> np.ndarray:
        self.calls += 1
        data, _ = sf.read(wav_in, dtype="float32", always_2d=True)
        return data


class Halve:
    def process(self, wav_in: Path) -> np.ndarray:
        data, _ = sf.read(wav_in, dtype="float32", always_2d=True)
        return data * 0.5


def _signal(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 3000 * t)
    return np.stack([x * (0.5 + 0.5 * c) for c in range(channels)], axis=1).astype(np.float32)


def test_seams_are_invisible_through_an_identity_step(tmp_path: Path) -> None:
    x = _signal(5.3, 44100, 2)
    sf.write(tmp_path / "in.wav", x, 44100, subtype="FLOAT")
    step, seen = Identity(), []
    got = clean_file(tmp_path / "in.wav", tmp_path / "out.wav", [step], tmp_path / "work",
                     chunking=Chunking(1.0, 0.2), on_chunk=lambda d, t: seen.append((d, t)))
    y, rate = sf.read(tmp_path / "out.wav", dtype="float32", always_2d=True)
    assert rate == 44100 and y.shape == x.shape
    assert np.abs(y - x).max() < 2 / 32768  # 16-bit rounding only: the cross-fades add up to the input
    expected = count_chunks(len(x), 44100, 8820)
    assert step.calls == got.chunks == expected == 7  # 5.3 s in 1 s chunks stepping 0.8 s
    assert seen == [(k, expected) for k in range(1, expected + 1)]
    assert got.rms_db_before == pytest.approx(got.rms_db_after, abs=0.01)
    assert not list(tmp_path.glob(".*.partial"))


def test_mono_32k_becomes_stereo_at_the_model_rate_and_a_step_changes_it(tmp_path: Path) -> None:
    x = _signal(2.5, 32000, 1)
    sf.write(tmp_path / "in.wav", x, 32000)
    got = clean_file(tmp_path / "in.wav", tmp_path / "out.wav", [Halve()], tmp_path / "work",
                     chunking=Chunking(1.0, 0.25))
    y, rate = sf.read(tmp_path / "out.wav", always_2d=True)
    assert rate == 44100 and y.shape[1] == 2 and abs(len(y) - 2.5 * 44100) <= 1
    assert got.rms_db_after == pytest.approx(got.rms_db_before - 20 * np.log10(2), abs=0.05)


def test_an_excerpt_is_taken_from_its_start(tmp_path: Path) -> None:
    x = _signal(4.0, 44100, 2)
    x[int(1.5 * 44100):] *= 0  # silence from 1.5 s
    sf.write(tmp_path / "in.wav", x, 44100, subtype="FLOAT")
    got = clean_file(tmp_path / "in.wav", tmp_path / "ex.wav", [], tmp_path / "work", start_s=2.0, max_s=1.0)
    y, _ = sf.read(tmp_path / "ex.wav")
    assert len(y) == 44100 and got.seconds == 1.0 and np.abs(y).max() == 0


def test_a_corrupt_file_is_a_named_error_and_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    with pytest.raises(CleanInputError) as e:
        clean_file(bad, tmp_path / "out.wav", [Identity()], tmp_path / "work")
    assert "bad.wav" in e.value.message and e.value.fix
    assert not (tmp_path / "out.wav").exists() and not list(tmp_path.glob(".*partial"))


def test_chunk_must_exceed_twice_the_overlap() -> None:
    with pytest.raises(GsvError):
        Chunking(1.0, 0.5).frames(44100)
