"""Real wav files and .list files for the transcript tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 32000


def make_wav(path: Path, seconds: float, freq: float = 220.0, sr: int = SR) -> np.ndarray:
    """A sine clip as 16-bit PCM (the slicer's output format); returns the int16 samples."""
    t = np.arange(int(seconds * sr)) / sr
    data = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, sr, subtype="PCM_16")
    return data


def read_int16(path: Path) -> np.ndarray:
    data, _ = sf.read(str(path), dtype="int16")
    return data


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_dataset(root: Path, texts: list[tuple[str, str, float]], ending: str = "",
                 folder: str = "clips") -> Path:
    """Clips under root/folder and an ASR-style list (absolute paths, no trailing newline)
    at root/transcripts/<folder>.list. ``texts`` = (LANG, text, seconds)."""
    clips = root / folder
    lines = []
    for i, (lang, text, secs) in enumerate(texts):
        p = clips / f"clip_{i:04d}.wav"
        make_wav(p, secs, freq=200 + 40 * i)
        lines.append(f"{p}|{folder}|{lang}|{text}")
    lst = root / "transcripts" / f"{folder}.list"
    lst.parent.mkdir(parents=True, exist_ok=True)
    lst.write_bytes(("\n".join(lines) + ending).encode("utf-8"))
    return lst
