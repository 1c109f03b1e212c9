"""The listening bridge inside the TUI: started with the app, following the open project.

The bridge (:mod:`backend.listen`) is standard-library only, so starting it costs nothing at
start-up. While a browser tab is connected, every screen's player sends audio there first
(registered with :func:`backend.audio.playback.register_front`, and ``GsvApp.playback_front``);
otherwise local playback goes on as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from backend.app.listening import Config, ListenBridge, ssh_forward_hint
from backend.errors import GsvError


@dataclass(frozen=True)
class ListenStatus:
    """What the status line and the bridge screen show."""

    running: bool = False
    url: str | None = None
    listeners: int = 0
    ssh_hint: str | None = None
    problem: str | None = None  # why the bridge is off


class ListeningService:
    def __init__(self, config: Config, on_change: Callable[[], None]) -> None:
        self.config = config
        self._on_change = on_change
        self.bridge: ListenBridge | None = None
        self.problem: str | None = None
        self._provider: Callable[[], object | None] | None = None

    def start(self, roots: list[Path]) -> None:
        """Bind the configured port; a port in use leaves the bridge off with the reason."""
        bridge = ListenBridge(roots, host=self.config.listen_host, port=self.config.listen_port)
        try:
            bridge.start()
        except GsvError as e:
            self.problem = f"{e.message} — {e.fix}" if e.fix else e.message
            return
        bridge.on_change = self._on_change
        self.bridge = bridge
        from backend.app.playback import register_front

        register_front(self.front_player)  # every screen's player sends audio to the tab first

    def stop(self) -> None:
        if self.bridge is not None:
            from backend.app.playback import unregister_front

            unregister_front(self.front_player)
            self.bridge.close(wait=False)  # the app is exiting: never hold it up
            self.bridge = None

    def follow_project(self, root: Path | None) -> None:
        if self.bridge is not None:
            self.bridge.set_roots([root] if root is not None else [])

    def status(self) -> ListenStatus:
        b = self.bridge
        if b is None:
            return ListenStatus(problem=self.problem)
        return ListenStatus(True, b.url, b.listeners, ssh_forward_hint(b.port))

    def front_player(self) -> object | None:
        """The browser player while a tab listens, else None (for ``PlayerChooser.add_front``)."""
        if self.bridge is None:
            return None
        if self._provider is None:
            from backend.app.playback import bridge_provider

            self._provider = bridge_provider(self.bridge)
        return self._provider()
