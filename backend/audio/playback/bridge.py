"""The listening bridge as a player: while a browser tab is connected, plays go there."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .base import PlaybackError, Player


class BridgePlayer:
    """Adapts a :class:`backend.listen.ListenBridge` to the :class:`Player` interface."""

    name = "browser"

    def __init__(self, bridge: Any) -> None:
        self.bridge = bridge
        self._playing = False

    def unavailable(self) -> str | None:
        return None if self.bridge.listeners > 0 else "browser: no tab connected"

    def play(self, path: Path, start: float = 0.0, info: dict[str, Any] | None = None) -> None:
        info = info or {}
        try:
            self.bridge.play(Path(path), name=info.get("name"), text=info.get("text", ""),
                             duration=info.get("duration"), start=start)
        except Exception as e:  # e.g. the file is outside what the bridge may serve
            raise PlaybackError(f"browser: {getattr(e, 'message', e)}", "open the clip from the project") from None
        self._playing = True

    def stop(self) -> None:
        if self._playing:
            self.bridge.stop()
        self._playing = False

    def position(self) -> float | None:
        if not self._playing:
            return None
        st = self.bridge.state
        return None if st.paused else float(st.current_time)


def bridge_provider(bridge: Any) -> Callable[[], Player | None]:
    """A front provider for :meth:`PlayerChooser.add_front`: the bridge while a tab listens."""
    player = BridgePlayer(bridge)

    def provide() -> Player | None:
        return player if player.unavailable() is None else None

    return provide
