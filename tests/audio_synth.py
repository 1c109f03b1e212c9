"""Speech-like test audio made from numbers, and encoders for it (no recordings needed).

"Speech" here is what the slicer cares about: voiced stretches (a few harmonics on a wandering
pitch, amplitude-modulated at a syllable rate) separated by pauses holding faint noise. Used by
the slicer tests and by ``bench/slice_throughput.py``.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def utterance(seconds: float, sr: int, rng: np.random.Generator, level: float = 0.3) -> np.ndarray:
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = rng.uniform(100, 220) * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 6))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * rng.uniform(3, 5) * t) ** 2
    edge = np.minimum(1, np.minimum(t, t[::-1]) / 0.03)  # 30 ms fade in/out
    x = voice * syllables * edge + 0.05 * rng.standard_normal(n) * syllables
    return (level * x / np.abs(x).max()).astype(np.float32)


def speechlike(seconds: float, sr: int = 32000, seed: int = 0, pauses: tuple[float, float] = (0.15, 1.2),
               words: tuple[float, float] = (0.6, 3.0), noise_db: float = -60.0) -> np.ndarray:
    """``seconds`` of utterances and pauses (mono float32 at ``sr``)."""
    rng = np.random.default_rng(seed)
    n_total = int(seconds * sr)
    out = (10 ** (noise_db / 20) * rng.standard_normal(n_total)).astype(np.float32)
    pos = int(rng.uniform(*pauses) * sr)
    while pos < n_total:
        u = utterance(rng.uniform(*words), sr, rng, level=rng.uniform(0.15, 0.5))
        u = u[: n_total - pos]
        out[pos: pos + len(u)] += u
        pos += len(u) + int(rng.uniform(*pauses) * sr)
    return out


def encode(path: Path, samples: np.ndarray, sr: int, codec: str = "libmp3lame", channels: int = 1,
           bit_rate: int = 64000) -> Path:
    """Write ``samples`` (mono float32) with PyAV to ``path`` (container from its extension)."""
    import av

    layout = {1: "mono", 2: "stereo"}[channels]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sr)
        stream.layout = layout
        if bit_rate:
            stream.bit_rate = bit_rate
        data = np.repeat(samples[None, :], channels, axis=0).astype(np.float32)
        step = 4608
        for k in range(0, data.shape[1], step):  # PyAV re-frames and converts to the codec's format
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, k: k + step]), format="fltp", layout=layout)
            frame.sample_rate = sr
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_corpus(folder: Path) -> dict[str, str | None]:
    """Every kind of input a person might hand the slicer, good and bad.

    Returns file name -> ``None`` for files that must slice, or a word the skip reason must
    contain for files that must be reported.
    """
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    x = speechlike(6.0, 48000, seed=11)  # 6 s: long enough for clips of 4 s+

    def at(sr: int) -> np.ndarray:
        import soxr

        return soxr.resample(x, 48000, sr).astype(np.float32)

    expect: dict[str, str | None] = {}
    (folder / "notes.wav").write_text("this is not audio, only text with a wav name\n" * 40)
    expect["notes.wav"] = "not audio"
    (folder / "empty.wav").write_bytes(b"")
    expect["empty.wav"] = "empty"
    sf.write(folder / "whole.wav", at(32000), 32000, subtype="PCM_16")
    full = (folder / "whole.wav").read_bytes()
    (folder / "cut short.wav").write_bytes(full[: 44 + (len(full) - 44) * 2 // 3])  # body cut: sliced, warned
    expect["whole.wav"] = None
    expect["cut short.wav"] = None
    (folder / "header only.wav").write_bytes(full[:30])  # cut inside the header
    expect["header only.wav"] = "truncated"
    sf.write(folder / "u8.wav", at(16000), 16000, subtype="PCM_U8")
    sf.write(folder / "s24.wav", at(44100), 44100, subtype="PCM_24")
    sf.write(folder / "float.wav", 3.0 * at(22050), 22050, subtype="FLOAT")  # peaks above 1
    sf.write(folder / "stereo.wav", np.stack([at(48000), 0.5 * at(48000)], axis=1), 48000, subtype="PCM_16")
    sf.write(folder / "surround51.wav", np.stack([at(48000)] * 6, axis=1), 48000, subtype="PCM_16")
    sf.write(folder / "phone8k.wav", at(8000), 8000, subtype="PCM_16")
    sf.write(folder / "studio96k.wav", at(96000), 96000, subtype="PCM_24")
    sf.write(folder / "silence.wav", np.zeros(5 * 32000, np.float32), 32000, subtype="PCM_16")
    sf.write(folder / "one second.flac", speechlike(1.0, 32000, seed=3, pauses=(0.1, 0.1)), 32000)
    sf.write(folder / "voix enregistrée 录音.wav", at(32000), 32000, subtype="PCM_16")
    encode(folder / "talk.mp3", at(44100), 44100, "libmp3lame")
    for name in ("u8.wav", "s24.wav", "float.wav", "stereo.wav", "surround51.wav", "phone8k.wav",
                 "studio96k.wav", "silence.wav", "one second.flac", "voix enregistrée 录音.wav", "talk.mp3"):
        expect[name] = None
    return expect


def silent_wav(path: Path, seconds: float = 0.5, rate: int = 16000) -> Path:
    """A silent 16-bit mono wav (the bridge serves files; their sound does not matter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(int(seconds * rate) * 2))
    return path
