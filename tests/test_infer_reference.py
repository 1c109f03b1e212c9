"""Reference clips: the official 3–10 s rule, the windows offered instead, unreadable files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from infer_helpers import voice, write_voice

from backend.infer.errors import ReferenceAudioError, ReferenceLengthError
from backend.infer.reference import best_window, load_reference, spectrogram_input


@pytest.mark.parametrize("seconds", [3.0, 5.5, 10.0])
def test_lengths_inside_3_to_10_s_are_accepted(tmp_path: Path, seconds: float) -> None:
    ref = load_reference(write_voice(tmp_path / "r.wav", seconds))
    assert ref.duration == pytest.approx(seconds, abs=1e-3)
    assert len(ref.wav32k) == pytest.approx(2 * len(ref.wav16k), abs=2)
    assert ref.window is None


def test_too_short_is_a_named_error_without_windows(tmp_path: Path) -> None:
    with pytest.raises(ReferenceLengthError) as e:
        load_reference(write_voice(tmp_path / "short.wav", 2.5))
    assert e.value.duration == pytest.approx(2.5, abs=1e-3)
    assert "3–10 s" in e.value.message and e.value.fix
    assert e.value.windows == {}


def test_too_long_offers_the_first_10_s_and_the_best_window(tmp_path: Path) -> None:
    path = write_voice(tmp_path / "long.wav", 16.0, seed=4)
    with pytest.raises(ReferenceLengthError) as e:
        load_reference(path)
    w = e.value.windows
    assert w["first"] == (0.0, 10.0)
    a, b = w["best"]
    assert 0 <= a < b <= 16.0 and 3.0 <= b - a <= 10.0
    assert "--trim-ref first" in e.value.fix and "--trim-ref best" in e.value.fix

    first = load_reference(path, trim="first")
    assert first.duration == pytest.approx(10.0, abs=1e-3) and first.window == (0.0, 10.0)
    best = load_reference(path, trim="best")
    assert best.window == (a, b) and best.duration == pytest.approx(b - a, abs=0.01)


def test_best_window_starts_and_ends_in_pauses() -> None:
    sr = 16000
    quiet = np.zeros(sr * 2, dtype=np.float32)
    speech = voice(6.0, sr, seed=2)
    speech[: int(0.15 * sr)] = 0
    speech[-int(0.15 * sr):] = 0
    clip = np.concatenate([voice(5.0, sr, seed=1) * 0.05, quiet, speech, quiet, voice(4.0, sr, seed=3) * 0.05])
    a, b = best_window(clip, sr)
    # the loud 6 s of speech lies at 7..13 s: the window holds all of it and its edges are quiet
    assert a <= 7.15 and b >= 12.85 and 3.0 <= b - a <= 10.0
    loud = float(np.sqrt(np.mean(speech ** 2)))
    for edge in (a, b):
        i = int(edge * sr)
        around = clip[max(0, i - 320): i + 320]
        assert float(np.sqrt(np.mean(around ** 2))) < 0.2 * loud


def test_unreadable_and_missing_reference_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(ReferenceAudioError) as e:
        load_reference(bad)
    assert "notes.wav" in e.value.message and e.value.fix
    with pytest.raises(ReferenceAudioError):
        load_reference(tmp_path / "missing.wav")


def test_any_format_and_rate_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ref.flac"
    sf.write(path, np.stack([voice(4.0, 44100), voice(4.0, 44100, seed=1)], 1), 44100)
    ref = load_reference(path)
    assert ref.duration == pytest.approx(4.0, abs=1e-3)


def test_spectrogram_input_scales_loud_clips_as_official() -> None:
    x = np.array([0.5, -3.0, 1.5], dtype=np.float32)
    assert np.allclose(spectrogram_input(x), x / 2.0)  # divided by min(2, peak)
    y = np.array([0.5, -1.5], dtype=np.float32)
    assert np.allclose(spectrogram_input(y), y / 1.5)
    z = np.array([0.5, -0.9], dtype=np.float32)
    assert spectrogram_input(z) is z


@pytest.mark.parametrize("rate,channels,fmt", [(44100, 2, "wav"), (48000, 1, "flac"), (22050, 1, "wav"),
                                               (8000, 2, "wav")])
def test_the_16k_prompt_input_is_what_the_official_librosa_load_gives(tmp_path: Path, rate: int, channels: int,
                                                                      fmt: str) -> None:
    """Official inference reads the reference for HuBERT with ``librosa.load(path, sr=16000)``: the
    channels' mean, soxr HQ, librosa's length fix. Ours must be that signal (formatting keeps its
    ffmpeg-like loader, which is what the official formatting uses). librosa itself checks it
    here; without it, soxr's own call does."""
    import soxr

    n = int(rate * 4.3) + 7  # a length that does not divide evenly into 16 kHz samples
    x = np.stack([voice(n / rate, sr=rate, seed=k)[:n] for k in range(channels)], axis=1)
    path = tmp_path / f"ref.{fmt}"
    sf.write(path, x, rate, subtype="PCM_16")
    ref = load_reference(path)
    decoded, _ = sf.read(path, dtype="float32", always_2d=True)
    mean = decoded.mean(axis=1, dtype=np.float32)
    want = soxr.resample(mean, rate, 16000, quality="HQ")
    size = int(np.ceil(n * 16000 / rate))
    want = np.pad(want, (0, max(0, size - len(want))))[:size]
    np.testing.assert_array_equal(ref.wav16k, want)
    try:
        import librosa
    except ImportError:
        return
    official, _ = librosa.load(path, sr=16000)
    np.testing.assert_array_equal(ref.wav16k, official)


def _windowed_sinc_at(x: np.ndarray, orig: int, new: int, j: int) -> float:
    """Output sample ``j`` of torchaudio's default ``Resample(orig, new)``, evaluated straight from its
    definition (Hann-windowed sinc, 6 zero crossings, cut-off 0.99 of the lower Nyquist rate) in
    float64: an independent check of the polyphase filter bank the code runs."""
    base = min(orig, new) * 0.99
    t = (np.arange(len(x)) / orig - j / new) * base
    t = np.clip(t, -6, 6)
    kernel = np.sinc(t) * np.cos(t * np.pi / 12) ** 2 * base / orig
    return float(kernel @ x.astype(np.float64))


@pytest.mark.parametrize("rate,channels", [(44100, 2), (48000, 1), (16000, 1), (32000, 2)])
def test_the_32k_spectrogram_input_is_what_torchaudio_load_and_resample_give(tmp_path: Path, rate: int,
                                                                            channels: int) -> None:
    """Official inference reads the reference spectrogram's clip with torchaudio: the two channels
    averaged at the file's own rate, then torchaudio's windowed-sinc ``Resample`` to 32 kHz — not
    the libswresample conversion formatting uses."""
    n = int(rate * 3.7) + 5
    x = np.stack([voice(n / rate, sr=rate, seed=k)[:n] for k in range(channels)], axis=1)
    path = tmp_path / "ref.wav"
    sf.write(path, x, rate, subtype="PCM_16")
    ref = load_reference(path)
    decoded, _ = sf.read(path, dtype="float32", always_2d=True)
    mean = decoded.mean(axis=1, dtype=np.float32)
    if rate == 32000:
        np.testing.assert_array_equal(ref.wav32k, mean)
        return
    assert len(ref.wav32k) == int(np.ceil(n * 32000 / rate))
    for j in (0, 5, len(ref.wav32k) // 3, len(ref.wav32k) // 2 + 17, len(ref.wav32k) - 1):
        assert ref.wav32k[j] == pytest.approx(_windowed_sinc_at(mean, rate, 32000, j), abs=2e-6)
