"""The small interface every way of playing sound implements."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ...errors import GsvError


class PlaybackError(GsvError):
    """A clip could not be played."""


class ClipUnreadable(PlaybackError):
    """The clip itself is the problem (missing or not audio), not the output."""


@runtime_checkable
class Player(Protocol):
    """One output. ``unavailable()`` is cheap after its first call (results are cached) and
    says why this output cannot play here, or None when it can."""

    name: str

    def unavailable(self) -> str | None: ...

    def play(self, path: Path, start: float = 0.0, info: dict[str, Any] | None = None) -> None:
        """Start playing ``path`` from ``start`` seconds and return at once (stops what played)."""

    def stop(self) -> None: ...

    def position(self) -> float | None:
        """Seconds into the clip now playing, or None when nothing plays."""


@dataclass(frozen=True)
class PlayResult:
    """What a play request did. ``notice`` is set only when the person should be told (once)."""

    ok: bool
    player: str | None = None
    notice: str | None = None
