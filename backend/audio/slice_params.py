"""Slicer parameters and their consistency rules — no numpy, so a UI can validate as you type."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Shortest piece the max-length split will leave on either side of a cut, in seconds — short
# enough never to stop a split, long enough that no fragment is useless for training.
MIN_SPLIT_PIECE_S = 1.0


class SlicerParamError(ValueError):
    """Slicer parameters that contradict each other (the message says which)."""


@dataclass(frozen=True)
class SliceParams:
    """Slicer settings in the units the WebUI shows (dB, milliseconds, seconds).

    Defaults are the official WebUI's (not the ``Slicer`` class's own), plus ``max_length``.
    """

    threshold: float = -34.0  # dB; RMS below this is a pause candidate
    min_length: int = 4000  # ms; a cut needs at least this much since the previous cut
    min_interval: int = 300  # ms; shortest pause that can become a cut
    hop_size: int = 10  # ms; RMS frame step
    max_sil_kept: int = 500  # ms; most silence kept at each edge of a clip
    max_length: float | None = None  # s; split longer clips at their quietest frame (None: never)

    def problems(self) -> list[str]:
        """Every inconsistency, each as a sentence a person can act on (empty when valid)."""
        out = []
        if not math.isfinite(self.threshold):
            out.append(f"threshold ({self.threshold:g}) must be a number of dB, e.g. -34")
        if self.max_length is not None and not math.isfinite(self.max_length):
            out.append(f"max_length ({self.max_length:g}) must be a number of seconds, or 0 for no limit")
            return out  # the comparisons below mean nothing for nan
        if self.hop_size <= 0:
            out.append("hop_size must be at least 1 ms")
        if not self.min_length >= self.min_interval:
            out.append(f"min_length ({self.min_length} ms) must be ≥ min_interval ({self.min_interval} ms)")
        if not self.min_interval >= self.hop_size:
            out.append(f"min_interval ({self.min_interval} ms) must be ≥ hop_size ({self.hop_size} ms)")
        if not self.max_sil_kept >= self.hop_size:
            out.append(f"max_sil_kept ({self.max_sil_kept} ms) must be ≥ hop_size ({self.hop_size} ms)")
        if self.max_length is not None and self.max_length * 1000 < 2 * MIN_SPLIT_PIECE_S * 1000:
            out.append(f"max_length ({self.max_length:g} s) must be at least {2 * MIN_SPLIT_PIECE_S:g} s, or off")
        if self.threshold > 0:
            out.append(f"threshold ({self.threshold:g} dB) must be ≤ 0 dB")
        return out
