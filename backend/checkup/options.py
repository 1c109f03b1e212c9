"""How a checkup speaks and listens, declared once: the ``checkup`` stage's Params and the
:class:`~backend.checkup.evaluate.Evaluation` it builds both carry these fields (no torch here,
so the stage stays light to import)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..infer.params import MAX_TOKENS


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
