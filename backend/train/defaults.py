"""The trainers' defaults, declared once and torch-free.

The stages' ``Params`` (what ``gsv train-*`` and the Training screen show) take their defaults
from here, and so do the trainers' own settings (what a test or a benchmark gets without asking);
the stage always passes every value, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class _Shared:
    save_latest_only: bool = True  # keep only the newest resumable checkpoint; exports are all kept
    fp16: bool = True
    seed: int = 1234
    repeat_to: int = 100  # small datasets are repeated up to this many items per epoch (official)
    metric_interval_s: float = 1.0


@dataclass(frozen=True)
class SoVITSDefaults(_Shared):
    epochs: int = 8
    save_every: int = 4
    text_lr_weight: float = 0.4
    learning_rate: float = 1e-4
    segment_size: int = 20480


@dataclass(frozen=True)
class GPTDefaults(_Shared):
    epochs: int = 15
    save_every: int = 5
    text_padding: str = "official"


SOVITS = SoVITSDefaults()
GPT = GPTDefaults()
