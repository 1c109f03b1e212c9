"""Position tracking shared by players that cannot report it themselves."""

from __future__ import annotations

import time


class PlayClock:
    def __init__(self) -> None:
        self._t0: float | None = None
        self._start = 0.0
        self._length: float | None = None

    def started(self, start: float, length: float | None) -> None:
        self._t0, self._start, self._length = time.monotonic(), start, length

    def stopped(self) -> None:
        self._t0 = None

    def position(self) -> float | None:
        if self._t0 is None:
            return None
        pos = self._start + time.monotonic() - self._t0
        if self._length is not None and pos >= self._start + self._length:
            self._t0 = None
            return None
        return pos
