"""The slicer's own behaviour: RMS, the fixed official bugs, the maximum clip length, parameters."""

from __future__ import annotations

import numpy as np
import pytest
from audio_synth import speechlike, utterance

from backend.audio.slicer import SliceParams, Slicer, SlicerParamError, clip_name, normalize_clip

SR = 32000


def test_rms_matches_the_definition() -> None:
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    s = Slicer(SR)
    got = s.rms(x)
    padded = np.pad(x.astype(np.float64), s.win // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, s.win)[:: s.hop]
    want = np.sqrt((frames ** 2).mean(axis=1))
    assert got.dtype == np.float32 and got.shape == want.shape == (101,)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_webui_defaults_in_frames() -> None:
    s = Slicer(SR)
    assert (s.hop, s.win, s.min_length, s.min_interval, s.max_sil_kept) == (320, 1280, 400, 30, 50)
    assert s.threshold == pytest.approx(0.019953, rel=1e-4)


def test_input_no_longer_than_min_length_frames_is_one_clip() -> None:
    """Official: a bare array that crashed the driver. Ours: one clip covering the input."""
    x = np.full(400, 0.2, np.float32)
    clips = Slicer(SR).slice(x)
    assert len(clips) == 1 and (clips[0].start, clips[0].end) == (0, 400) and len(clips[0].samples) == 400


def test_one_second_of_speech_is_one_clip() -> None:
    x = utterance(1.0, SR, np.random.default_rng(0))
    clips = Slicer(SR).slice(x)
    assert len(clips) == 1 and clips[0].start == 0 and abs(len(clips[0].samples) - SR) <= 320


def test_pauses_become_cuts() -> None:
    rng = np.random.default_rng(3)
    gap = np.zeros(SR, np.float32)  # 1 s of silence between 5 s utterances
    x = np.concatenate([utterance(5, SR, rng), gap, utterance(5, SR, rng), gap, utterance(5, SR, rng)])
    clips = Slicer(SR).slice(x)
    assert len(clips) == 3
    for c in clips:
        assert 5 * SR <= len(c.samples) <= 6 * SR
        assert c.start % 320 == 0 and c.end % 320 == 0


def test_silent_clip_does_not_divide_by_zero() -> None:
    out = normalize_clip(np.zeros(1000, np.float32))
    assert out.dtype == np.int16 and not out.any()
    assert normalize_clip(np.zeros(0, np.float32)).shape == (0,)


def test_normalize_matches_the_official_formula() -> None:
    rng = np.random.default_rng(2)
    x = (0.5 * rng.standard_normal(5000)).clip(-0.8, 0.8).astype(np.float32)
    peak = np.abs(x).max()
    want = ((x / peak * np.float32(0.225) + np.float32(0.75) * x) * np.float32(32767)).astype(np.int16)
    np.testing.assert_array_equal(normalize_clip(x), want)
    loud = x * 2  # peak 1.6 > 1: the official divides twice (kept)
    y = loud / np.abs(loud).max()
    want = ((y / np.abs(loud).max() * np.float32(0.225) + np.float32(0.75) * y) * np.float32(32767)).astype(np.int16)
    np.testing.assert_array_equal(normalize_clip(loud), want)


def test_max_length_splits_long_speech_at_the_quietest_point() -> None:
    rng = np.random.default_rng(4)
    # 50 s of unbroken speech with two short dips (too short to be pauses) at 17 s and 34 s.
    x = utterance(50, SR, rng, level=0.4)
    for at in (17.0, 34.0):
        a = int(at * SR)
        x[a: a + 2000] *= 0.01
    official = Slicer(SR, SliceParams(max_length=None)).slice(x)
    assert len(official) == 1  # no pause ≥ 300 ms: the official slicer leaves one 50 s clip
    clips = Slicer(SR, SliceParams(max_length=20)).slice(x)
    assert len(clips) == 3
    assert all(len(c.samples) <= 20 * SR for c in clips)
    cuts = [c.start / SR for c in clips[1:]]
    assert cuts == pytest.approx([17.0, 34.0], abs=0.1)
    assert clips[0].start == 0 and clips[-1].end == official[0].end
    assert all(a.end == b.start for a, b in zip(clips, clips[1:]))


@pytest.mark.slow
def test_max_length_handles_very_long_clips() -> None:
    x = utterance(95, SR, np.random.default_rng(5), level=0.4)
    clips = Slicer(SR, SliceParams(max_length=10)).slice(x)
    assert all(SR <= len(c.samples) <= 10 * SR for c in clips)
    assert sum(len(c.samples) for c in clips) == len(x)


def test_max_length_does_not_touch_clips_within_it() -> None:
    x = speechlike(60, SR, seed=7)
    a = [(c.start, c.end) for c in Slicer(SR, SliceParams(max_length=None)).slice(x)]
    longest = max(e - s for s, e in a) / SR
    b = [(c.start, c.end) for c in Slicer(SR, SliceParams(max_length=longest + 1)).slice(x)]
    assert a == b


def test_pure_silence_gives_no_speech() -> None:
    clips = Slicer(SR).slice(np.zeros(5 * SR, np.float32))
    assert all(not normalize_clip(c.samples).any() for c in clips)


@pytest.mark.parametrize("kw, word", [
    (dict(min_length=200, min_interval=300), "min_length"),
    (dict(min_interval=5, hop_size=10), "min_interval"),
    (dict(max_sil_kept=5), "max_sil_kept"),
    (dict(hop_size=0, min_interval=0, max_sil_kept=0), "hop_size"),
    (dict(max_length=1.0), "max_length"),
])
def test_inconsistent_parameters_are_named(kw: dict, word: str) -> None:
    p = SliceParams(**kw)
    assert any(word in msg for msg in p.problems())
    with pytest.raises(SlicerParamError, match=word):
        Slicer(SR, p)


def test_clip_name_is_the_official_pattern() -> None:
    assert clip_name("talk.mp3", 0, 153600) == "talk.mp3_0000000000_0000153600.wav"


def test_rms_is_bit_identical_to_the_matrix_method() -> None:
    """The official way (a strided window matrix squared, then a numpy mean) — same float32 bits."""
    s = Slicer(SR)
    x = speechlike(7.3, SR, seed=9)
    padded = np.pad(x, (s.win // 2, s.win // 2))
    view = np.lib.stride_tricks.sliding_window_view(padded, s.win)[:: s.hop].T
    official = np.sqrt(np.mean(np.abs(view) ** 2, axis=0))
    np.testing.assert_array_equal(s.rms(x), official)
