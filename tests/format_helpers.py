"""Shared set-up of the formatting tests: the tiny models of the reference vectors, clip folders."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np

FIX = Path(__file__).parent / "fixtures"
FMT = FIX / "format"
SSL = FIX / "ssl"
HUBERT_DIR = SSL / "hubert_tiny"
S2G_PATH = FIX / "sovits_v2_tiny" / "sovits_v2_tiny.pth"
ITEMS = ("en_fox_44k_stereo.wav", "zh_gongyuan_16k_mono.wav")


def unpack_bert(dest: Path) -> Path:
    """The tiny random BERT of the reference vectors, unpacked under ``dest``."""
    with tarfile.open(FMT / "bert_tiny.tar.xz", "r:xz") as tar:
        tar.extractall(dest, filter="data")
    return dest / "bert_tiny"


def pinyin_calls() -> list[dict]:
    return json.loads((FMT / "meta.json").read_text(encoding="utf-8"))["g2pw_stand_in_calls"]


def recorded_32k() -> dict[str, np.ndarray]:
    """What the official ``load_audio(path, 32000)`` returned for each item (ffmpeg's decode)."""
    with np.load(SSL / "intermediates.npz") as z:
        return {item: z[f"{item[:-4]}__load_audio_32k"] for item in ITEMS}


def write_float_wav(path: Path, x: np.ndarray, sr: int = 32000) -> None:
    """A float32 wav: our loader reads it back sample-exact (no resampling at 32 kHz)."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(x, dtype=np.float32), sr, subtype="FLOAT")


ZH_TEXTS = ("我们去公园散步吧。", "今天天气很好。", "你好，世界！")
EN_TEXTS = ("A quick brown fox jumps over dogs.", "Hello there, my friend.", "The weather is nice today.")


def make_clips(folder: Path, n: int, seconds: float = 1.5, seed: int = 0) -> list[Path]:
    """``n`` speech-like 32 kHz int16 clips named like slicer output."""
    import soundfile as sf
    from audio_synth import utterance

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        x = utterance(seconds + 0.1 * (i % 3), 32000, rng, level=0.5)
        p = folder / f"rec.wav_{i * 100000:010d}_{i * 100000 + len(x):010d}.wav"
        sf.write(str(p), x, 32000, subtype="PCM_16")
        out.append(p)
    return out


def list_lines(clips: list[Path]) -> list[str]:
    """Alternating Chinese and English lines for ``clips``."""
    lines = []
    for i, p in enumerate(clips):
        if i % 2 == 0:
            lines.append(f"{p}|spk|ZH|{ZH_TEXTS[(i // 2) % len(ZH_TEXTS)]}")
        else:
            lines.append(f"{p}|spk|EN|{EN_TEXTS[(i // 2) % len(EN_TEXTS)]}")
    return lines
