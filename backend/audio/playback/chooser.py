"""Picking the output, and falling back quietly when one fails."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from .base import ClipUnreadable, PlaybackError, Player, PlayResult

NO_OUTPUT_HINT = "Run `gsv listen` (or the listening bridge in the TUI) to hear clips in your browser"


_GLOBAL_FRONT: list[Callable[[], Player | None]] = []


def register_front(provider: Callable[[], Player | None]) -> None:
    """Let ``provider`` take over playback in every chooser of this process while it returns a
    player (e.g. ``bridge_provider(bridge)`` once the listening bridge runs)."""
    if provider not in _GLOBAL_FRONT:
        _GLOBAL_FRONT.append(provider)


def unregister_front(provider: Callable[[], Player | None]) -> None:
    if provider in _GLOBAL_FRONT:
        _GLOBAL_FRONT.remove(provider)


def default_players() -> list[Player]:
    """Local outputs in order: a command from ``GSV_PLAYER``, then sounddevice, simpleaudio,
    and the command-line players."""
    from .library_players import SimpleAudioPlayer, SoundDevicePlayer
    from .subprocess_player import SubprocessPlayer, command_players

    players: list[Player] = []
    custom = os.environ.get("GSV_PLAYER", "").strip()
    if custom:
        players.append(SubprocessPlayer.from_command_line(custom))
    players += [SoundDevicePlayer(), SimpleAudioPlayer(), *command_players()]
    return players


class PlayerChooser:
    """Plays through the first output that works.

    ``front`` providers are asked first on every play: a provider returns a player while it can
    take over (the listening bridge while a browser tab is connected) and None otherwise. Local
    players are probed once; one that fails while playing is dropped for the session. When none
    is left, the first play returns a notice that says so and what to do; later plays return
    quietly (``ok=False``, no notice).
    """

    def __init__(self, players: list[Player] | None = None) -> None:
        self._players = players
        self.front: list[Callable[[], Player | None]] = []
        self._current: Player | None = None
        self._told = False
        self.reasons: list[str] = []

    @property
    def players(self) -> list[Player]:
        if self._players is None:
            self._players = default_players()
        return self._players

    def add_front(self, provider: Callable[[], Player | None]) -> None:
        self.front.append(provider)

    def remove_front(self, provider: Callable[[], Player | None]) -> None:
        if provider in self.front:
            self.front.remove(provider)

    def _candidates(self) -> list[Player]:
        out: list[Player] = []
        for provider in [*self.front, *_GLOBAL_FRONT]:
            try:
                p = provider()
            except Exception:
                p = None
            if p is not None:
                out.append(p)
        return out + self.players

    def active_name(self) -> str | None:
        """The output a play would use now (probing local players if not yet done)."""
        for p in self._candidates():
            if p.unavailable() is None:
                return p.name
        return None

    def play(self, path: Path, start: float = 0.0, info: dict[str, Any] | None = None) -> PlayResult:
        self.stop()
        if not Path(path).is_file():
            return PlayResult(False, None, f"cannot play {Path(path).name}: the file is missing")
        self.reasons = []
        for p in self._candidates():
            why = p.unavailable()
            if why is not None:
                self.reasons.append(why)
                continue
            try:
                p.play(Path(path), start, info or {})
            except ClipUnreadable as e:
                return PlayResult(False, p.name, e.message)
            except PlaybackError as e:
                self.reasons.append(e.message)
                continue  # this output is broken here: try the next
            self._current = p
            return PlayResult(True, p.name)
        if self._told:
            return PlayResult(False)
        self._told = True
        tried = _summarise(self.reasons)
        return PlayResult(False, None, f"No audio output on this machine ({tried}). {NO_OUTPUT_HINT}.")

    def stop(self) -> None:
        if self._current is not None:
            try:
                self._current.stop()
            finally:
                self._current = None

    def position(self) -> float | None:
        return self._current.position() if self._current is not None else None

    def is_playing(self) -> bool:
        return self.position() is not None


def _summarise(reasons: list[str]) -> str:
    """One short clause: the real failures, then the players simply not installed."""
    missing = [r.split(":")[0].split(" is not")[0] for r in reasons if r.endswith("not installed")]
    other = [r for r in reasons if not r.endswith("not installed")]
    parts = other + ([f"{', '.join(missing)}: not installed"] if missing else [])
    return "; ".join(parts) or "no players"
