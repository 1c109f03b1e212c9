"""How a checkup speaks and listens, declared once: the ``checkup`` stage's Params and the
:class:`~backend.checkup.evaluate.Evaluation` it builds both carry these fields; and the limits of
verified synthesis, which ``gsv infer``, the server and the verifier share (no torch here, so the
stages stay light to import)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..infer.params import MAX_TOKENS

VERIFY_MAX_TRIES = 3  # tries per piece
VERIFY_MAX_TRIES_RANGE = (1, 20)
VERIFY_MAX_ERROR = 0.35  # CER/WER above this makes a piece bad
VERIFY_MAX_ERROR_RANGE = (0.0, 10.0)


@dataclass(kw_only=True)
class CheckupOptions:
    seed: int = 1234  # sentence i is spoken with seed + i, by every pair
    asr_engine: str = "faster-whisper"
    asr_model: str | None = None
    asr_device: str = "auto"
    asr_precision: str | None = None
    sv: Path | None = None
    hubert: Path | None = None
    bert: Path | None = None
    device: str = "auto"
    precision: str = "auto"
    max_tokens: int = MAX_TOKENS
    likeness: bool = True
