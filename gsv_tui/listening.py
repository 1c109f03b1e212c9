"""The listening bridge inside the TUI: started with the app, following the open project.

The bridge (:mod:`backend.listen`) runs uvicorn in its own thread; it is started from another
thread after the first frame, so importing its server stack never holds up the TUI. Its token is
the workspace's (kept across restarts, so an open tab keeps working). While a browser tab is connected, every screen's player sends audio there first
(registered with :func:`backend.audio.playback.register_front`, and ``GsvApp.playback_front``);
otherwise local playback goes on as before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from backend.app import describe
from backend.app.listening import Config, ListenBridge, new_token, ssh_forward_hint, workspace_token
from backend.errors import GsvError

if TYPE_CHECKING:
    from backend.app.playback import Player


@dataclass(frozen=True)
class ListenStatus:
    """What the status line and the bridge screen show."""

    running: bool = False
    url: str | None = None
    listeners: int = 0
    ssh_hint: str | None = None
    problem: str | None = None  # why the bridge is off
    warning: str | None = None  # e.g. bound beyond loopback (listen_allow_remote)


class ListeningService:
    def __init__(self, config: Config, on_change: Callable[[], object], home: Path | None = None) -> None:
        self.config = config
        self.home = home  # the workspace whose stored token the bridge uses (None: a fresh one)
        self._on_change = on_change
        self.bridge: ListenBridge | None = None
        self.problem: str | None = None
        self._provider: Callable[[], Player | None] | None = None
        self._roots: list[Path] = []
        self._lock = threading.Lock()
        self._stopped = False

    def start(self, roots: list[Path]) -> None:
        """Bind the configured port from a background thread; ``on_change`` fires when the bridge
        is up, or when it stays off (port in use, a refused address) with the reason."""
        self._roots = list(roots)
        threading.Thread(target=self._start, name="listen-bridge-start", daemon=True).start()

    def _start(self) -> None:
        roots = self._roots
        try:
            token = workspace_token(self.home) if self.home is not None else None
            bridge = ListenBridge(roots, host=self.config.listen_host, port=self.config.listen_port, token=token,
                                  allow_remote=self.config.listen_allow_remote)
            bridge.start()
        except GsvError as e:
            self.problem = describe(e, sep=" — ")
            self._on_change()
            return
        with self._lock:
            if self._stopped:  # the app exited while the bridge was starting
                bridge.close(wait=False)
                return
            bridge.set_roots(self._roots)  # the project may have changed meanwhile
            bridge.on_change = self._on_change
            self.bridge = bridge
        from backend.app.playback import register_front

        register_front(self.front_player)  # every screen's player sends audio to the tab first
        self._on_change()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        if self.bridge is not None:
            from backend.app.playback import unregister_front

            unregister_front(self.front_player)
            self.bridge.close(wait=False)  # the app is exiting: never hold it up
            self.bridge = None

    def renew_token(self) -> None:
        """A new access token (stored for the workspace): every open tab must load the new URL."""
        if self.bridge is None:
            return
        token = workspace_token(self.home, renew=True) if self.home is not None else new_token()
        self.bridge.renew_token(token)
        self._on_change()

    def follow_project(self, root: Path | None) -> None:
        self._roots = [root] if root is not None else []
        if self.bridge is not None:
            self.bridge.set_roots([root] if root is not None else [])

    def status(self) -> ListenStatus:
        b = self.bridge
        if b is None:
            return ListenStatus(problem=self.problem)
        return ListenStatus(True, b.url, b.listeners, ssh_forward_hint(b.port), warning=b.warning)

    def front_player(self) -> Player | None:
        """The browser player while a tab listens, else None (for ``PlayerChooser.add_front``)."""
        if self.bridge is None:
            return None
        if self._provider is None:
            from backend.app.playback import bridge_provider

            self._provider = bridge_provider(self.bridge)
        return self._provider()
