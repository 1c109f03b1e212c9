"""Reference clips: reading them, the 3–10 s rule, and the windows we offer instead.

The official UIs refuse a reference outside 3–10 s (measured on the 16 kHz load) with one
line and nothing else. We say the same, and when the clip is too long we also name two
ready alternatives: its first 10 s, and its "best" 3–10 s window — the stretch that holds
the most speech energy and starts and ends at quiet moments, so no word is cut in half.
Either can be chosen (``trim_ref``) and the clip is then used as if it had been cut so.

Loading follows the official inference: the prompt features come from the clip as
``librosa.load(path, sr=16000)`` returns it (:func:`read_clip_16k`: channels averaged, soxr's
high-quality resampler, the length fixed to ``ceil(n·16000/sr)``) — not the libswresample
conversion formatting uses, which moves prompt codes; the reference spectrogram (and, for
v2Pro, the speaker vector) from the clip as torchaudio reads it — channels averaged at the file's
own rate, then torchaudio's windowed-sinc ``Resample`` to 32 kHz (:func:`read_clip_32k`) — divided by
``min(2, peak)`` when its peak exceeds 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ReferenceAudioError, ReferenceLengthError
from .params import MAX_REF_S, MIN_REF_S

SSL_RATE = 16000  # HuBERT's input rate
SPEC_RATE = 32000  # the reference spectrogram's rate (every version up to v2ProPlus)
_FRAME_S = 0.02
# A reference whose loudest 20 ms frame stays below this (dBFS) holds no voice: the GPT would be
# prompted with silence and speak noise or nothing. Quiet but real recordings peak far above it.
SILENT_PEAK_DBFS = -50.0
_STEP_S = 0.1  # candidate window edges every 0.1 s


@dataclass
class Reference:
    """One reference clip, ready for the models (float32 mono arrays)."""

    path: str
    wav16k: np.ndarray
    wav32k: np.ndarray
    window: tuple[float, float] | None = None  # the part of the file used, when trimmed

    @property
    def duration(self) -> float:
        return len(self.wav16k) / 16000


def _load(path: str | Path, sample_rate: int | None, resampler: str) -> Any:
    from backend.audio.io import AudioError, load_audio

    p = Path(path).expanduser()
    if not p.is_file():
        raise ReferenceAudioError(f"reference clip {p} does not exist",
                                  fix="give the path of a 3–10 s recording of the voice")
    try:
        return load_audio(p, sample_rate, resampler=resampler)
    except AudioError as e:
        raise ReferenceAudioError(f"cannot read the reference clip: {e.message}",
                                  fix=e.fix or "convert it to wav, or choose another clip") from e


def read_clip(path: str | Path, sample_rate: int) -> np.ndarray:
    """Mono float32 at ``sample_rate`` from any audio format; unreadable files are named errors."""
    return _load(path, sample_rate, "ffmpeg").samples


def read_clip_32k(path: str | Path) -> np.ndarray:
    """The clip as official inference reads it for the reference spectrogram: torchaudio's load
    (float in [-1, 1], two channels averaged) and, at another rate, torchaudio's ``Resample`` to
    32 kHz (windowed sinc: Hann, 6 zero crossings, roll-off 0.99)."""
    loaded = _load(path, None, "librosa")
    if loaded.sample_rate == SPEC_RATE:
        return loaded.samples
    import torch

    from backend.models.sv import resample

    return resample(torch.from_numpy(loaded.samples), loaded.sample_rate, SPEC_RATE).numpy()


def read_clip_16k(path: str | Path) -> np.ndarray:
    """The clip as official inference feeds HuBERT: what ``librosa.load(path, sr=16000)`` returns
    (the channels' mean, soxr HQ — librosa's default — and librosa's length fix)."""
    return _load(path, SSL_RATE, "librosa").samples


def _frame_energy(wav: np.ndarray, sr: int) -> np.ndarray:
    hop = max(1, int(sr * _FRAME_S))
    n = len(wav) // hop
    if n == 0:
        return np.zeros(0)
    frames = wav[: n * hop].reshape(n, hop).astype(np.float64)
    return (frames ** 2).mean(axis=1)


def best_window(wav: np.ndarray, sr: int, min_s: float = MIN_REF_S, max_s: float = MAX_REF_S) -> tuple[float, float]:
    """The ``min_s``–``max_s`` window with the most speech energy whose edges are quiet.

    Edges are scored by their loudness (quieter is better); the score of a window is its
    energy share minus a penalty for loud edges. Deterministic, a few ms for a minute of audio.
    """
    energy = _frame_energy(wav, sr)
    total_s = len(wav) / sr
    if total_s <= max_s:
        return 0.0, total_s
    per_step = max(1, int(round(_STEP_S / _FRAME_S)))
    cum = np.concatenate([[0.0], np.cumsum(energy)])
    ref_level = float(np.percentile(energy, 90)) + 1e-12
    n_frames = len(energy)
    edges = list(range(0, n_frames + 1, per_step))
    if edges[-1] != n_frames:
        edges.append(n_frames)

    def edge_loudness(i: int) -> float:
        lo, hi = max(0, i - 2), min(n_frames, i + 2)
        return float(energy[lo:hi].mean()) / ref_level if hi > lo else 0.0

    loud = {i: edge_loudness(i) for i in edges}
    best = (-np.inf, 0, min(n_frames, int(max_s / _FRAME_S)))
    min_f, max_f = int(round(min_s / _FRAME_S)), int(round(max_s / _FRAME_S))
    total = cum[-1] + 1e-12
    for a_i, a in enumerate(edges):
        for b in edges[a_i + 1:]:
            length = b - a
            if length < min_f:
                continue
            if length > max_f:
                break
            score = (cum[b] - cum[a]) / total - 0.05 * (loud[a] + loud[b])
            if score > best[0]:
                best = (score, a, b)
    _, a, b = best
    return round(a * _FRAME_S, 2), round(min(total_s, b * _FRAME_S), 2)


def length_windows(wav16k: np.ndarray) -> dict[str, tuple[float, float]]:
    """The alternatives offered for a clip that is too long: ``first`` 10 s and ``best`` window."""
    return {"first": (0.0, MAX_REF_S), "best": best_window(wav16k, 16000)}


def check_length(duration: float, path: str, wav16k: np.ndarray | None = None) -> None:
    """The official rule: 3 s ≤ duration ≤ 10 s (48 000–160 000 samples at 16 kHz)."""
    if duration < MIN_REF_S:
        raise ReferenceLengthError(
            f"reference clip {Path(path).name} is {duration:.1f} s; it must be 3–10 s",
            fix="choose a longer clip (3–10 s of clear speech)", duration=duration)
    if duration > MAX_REF_S:
        windows = length_windows(wav16k) if wav16k is not None else {"first": (0.0, MAX_REF_S)}
        best = windows.get("best")
        hint = "use --trim-ref first (its first 10 s)"
        if best is not None:
            hint += f" or --trim-ref best ({best[0]:.1f}–{best[1]:.1f} s, the clearest stretch)"
        raise ReferenceLengthError(
            f"reference clip {Path(path).name} is {duration:.1f} s; it must be 3–10 s",
            fix=hint + ", or choose a shorter clip", duration=duration, windows=windows)


def check_audible(wav16k: np.ndarray, path: str) -> None:
    """Refuse a reference that is silence (or nearly): it passes the length rule but has no voice."""
    energy = _frame_energy(wav16k, 16000)
    loudest = float(np.sqrt(energy.max())) if len(energy) else 0.0
    level = 20 * np.log10(loudest) if loudest > 0 else -np.inf
    if level < SILENT_PEAK_DBFS:
        shown = "digital silence" if loudest == 0 else f"{level:.0f} dBFS at its loudest"
        raise ReferenceAudioError(f"reference clip {Path(path).name} is silent ({shown})",
                                  fix="choose a clip in which the voice speaks (3–10 s of clear speech)")


def check_reference(path: str | Path, trim: str = "no", check: bool = True
                    ) -> tuple[np.ndarray, tuple[float, float] | None]:
    """The clip at 16 kHz (trimmed as chosen) and the window used, after the length rule (unless
    ``check`` is off) and the audibility check: what refuses a bad reference, without the 32 kHz
    read (so without torch) — a command checks its clips with this before it queues a job."""
    wav16 = read_clip_16k(path)
    window: tuple[float, float] | None = None
    if len(wav16) / 16000 > MAX_REF_S and trim in ("first", "best"):
        window = (0.0, MAX_REF_S) if trim == "first" else best_window(wav16, 16000)
        wav16 = wav16[int(window[0] * 16000): int(window[1] * 16000)]
    if check:
        check_length(len(wav16) / 16000, str(path), wav16)
    check_audible(wav16, str(path))
    return wav16, window


def load_reference(path: str | Path, trim: str = "no", check: bool = True) -> Reference:
    """Read a reference clip at 16 and 32 kHz, apply the length rule (or the chosen trim)."""
    wav16, window = check_reference(path, trim, check)
    wav32 = read_clip_32k(path)
    if window is not None:
        wav32 = wav32[int(window[0] * SPEC_RATE): int(window[1] * SPEC_RATE)]
    return Reference(str(path), wav16, wav32, window)


def spectrogram_input(wav32k: np.ndarray) -> np.ndarray:
    """The official ``get_spepc`` scaling: divide by ``min(2, peak)`` when the peak exceeds 1."""
    peak = float(np.abs(wav32k).max()) if len(wav32k) else 0.0
    return wav32k / min(2.0, peak) if peak > 1.0 else wav32k
