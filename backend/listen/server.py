"""A loopback HTTP server that plays audio in a browser tab on the person's own machine.

The bridge runs uvicorn (FastAPI routes in :mod:`backend.listen.routes`) on its own asyncio
loop in a daemon thread, so it lives inside the Textual process (whose loop we must not block
or share) and inside ``gsv listen`` alike. uvicorn and FastAPI are imported on start, not on
import, so the TUI's start-up does not pay for them.

Protocol (every request needs ``?t=<token>``; anything else is 403):

- ``GET /``               the page (inline HTML/JS/CSS, no build step)
- ``GET /events``         server-sent events: ``hello``, ``play`` {seq, url, name, text, duration, start}, ``stop`` {seq}
- ``GET /files/<i>/<rel>`` an audio file under served root ``i`` (Range requests supported)
- ``POST /state``         the page reports its audio element (clip seq, paused, current time) so
                          the TUI can show what is really playing, and tests can assert on it

Security: bound to loopback unless ``allow_remote`` (then a warning on every start); a token
compared in constant time; exactly one well-formed Host header naming a loopback host (defeats
DNS rebinding); only audio files whose real path (symlinks resolved) lies inside a served root
are served. Limits: each request must arrive within ``request_timeout``, at most
``max_connections`` connections are served at once (the rest get 503), a listen backlog of 2048.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .hosts import BridgeError, check_bind_host, validate_port
from .protocol import AUDIO_TYPES, PageState
from .token import new_token

BACKLOG = 2048
START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class BridgeLimits:
    """How much the bridge accepts before it refuses (see the module docstring)."""

    request_timeout: float = 10.0
    max_connections: int = 256
    keep_alive_s: int = 5


class _Listener:
    """One connected event stream: a queue on the server's loop, fed from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

    def put(self, item: tuple[str, dict[str, Any]] | None) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: the stream is gone
            pass

    async def get(self) -> tuple[str, dict[str, Any]] | None:
        return await self.queue.get()


class ListenBridge:
    """Serve a page and the audio inside ``roots``; push play/stop to connected tabs.

    A root is a folder (everything audio inside it) or a single audio file (that file only).
    """

    def __init__(self, roots: list[Path] | None = None, host: str = "127.0.0.1", port: int = 9877,
                 token: str | None = None, *, allow_remote: bool = False,
                 limits: BridgeLimits = BridgeLimits()) -> None:
        self.host = host
        self.port = validate_port(port)
        self.allow_remote = allow_remote
        self.token = token or new_token()
        self.limits = limits
        self.warning: str | None = None  # shown on every start when bound beyond loopback
        self._roots: list[Path] = []
        self._lock = threading.Lock()
        self._listeners: list[_Listener] = []
        self._seq = 0
        self._state = PageState()
        self._state_changed = threading.Condition(self._lock)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.on_change: Callable[[], object] | None = None  # called (from the server thread) when listeners/state change
        self.set_roots(roots or [])

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> ListenBridge:
        """Bind and serve in a daemon thread. ``port=0`` picks a free port."""
        self.warning = check_bind_host(self.host, self.allow_remote)
        sock = self._bind()
        self.port = sock.getsockname()[1]
        server = _make_server(self, sock)
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="listen-bridge",
                                        daemon=True)
        self._server = server
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server = None
                sock.close()
                raise BridgeError("the listening bridge did not start", "see `gsv doctor`; report the problem")
            time.sleep(0.01)
        return self

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host.strip("[]"), self.port))
            sock.listen(BACKLOG)
        except (OSError, OverflowError) as e:
            sock.close()
            why = getattr(e, "strerror", None) or str(e)
            raise BridgeError(f"cannot listen on {self.host}:{self.port}: {why}",
                              "set another `listen_port` in config.toml (or --port), or stop what uses the port") from None
        sock.setblocking(False)
        return sock

    def close(self, wait: bool = True) -> None:
        """Stop serving. ``wait=False`` returns at once (the server thread finishes on its own)
        — what an app that is exiting wants."""
        with self._lock:
            listeners = list(self._listeners)
        for lst in listeners:
            lst.put(None)
        server, self._server = self._server, None
        if server is None:
            return
        server.should_exit = True
        if wait and self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> ListenBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}/?t={self.token}"

    def renew_token(self, token: str) -> None:
        """Use ``token`` from now on; connected tabs are disconnected (their URL no longer works)."""
        with self._lock:
            self.token = token
            listeners = list(self._listeners)
        for lst in listeners:
            lst.put(None)

    # --- what is served ------------------------------------------------------------------
    def set_roots(self, roots: list[Path]) -> None:
        """Folders (or single files) whose audio may be served (the open project, outputs)."""
        with self._lock:
            self._roots = [Path(r).resolve() for r in roots]

    def resolve_request_path(self, index: int, rel: str) -> Path:
        """Map ``/files/<index>/<rel>`` to a file inside that root, or raise BridgeError."""
        with self._lock:
            roots = list(self._roots)
        if not 0 <= index < len(roots):
            raise BridgeError("no such root")
        if "\0" in rel or rel.startswith(("/", "\\")) or ":" in rel.split("/")[0]:
            raise BridgeError("absolute paths are not served")
        root = roots[index]
        if root.is_file():
            if rel != root.name:
                raise BridgeError("only the given file is served")
            target = root
        else:
            target = (root / rel).resolve()
            if target != root and root not in target.parents:
                raise BridgeError("path leaves the served folder")
        if target.suffix.lower() not in AUDIO_TYPES or not target.is_file():
            raise BridgeError("not an audio file")
        return target

    def url_for(self, path: Path) -> str:
        """The page-relative URL of a file, or BridgeError if it is outside every root."""
        real = Path(path).resolve()
        with self._lock:
            roots = list(self._roots)
        if real.suffix.lower() in AUDIO_TYPES:
            for i, root in enumerate(roots):
                if real == root and root.is_file():
                    return f"/files/{i}/{quote(root.name)}?t={self.token}"
                if root in real.parents:
                    return f"/files/{i}/{quote(real.relative_to(root).as_posix())}?t={self.token}"
        raise BridgeError(f"{path} is not inside the open project or its outputs",
                          "only the project's clips and outputs can be played through the bridge")

    # --- play / stop ---------------------------------------------------------------------
    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    @property
    def state(self) -> PageState:
        with self._lock:
            return PageState(**vars(self._state))

    def play(self, path: Path, *, name: str | None = None, text: str = "", duration: float | None = None,
             start: float = 0.0) -> int:
        """Tell every connected tab to play ``path`` from ``start`` seconds; returns its sequence number."""
        url = self.url_for(path)
        with self._lock:
            self._seq += 1
            ev = {"seq": self._seq, "url": url, "name": name or Path(path).name, "text": text,
                  "duration": duration, "start": start}
            self._broadcast("play", ev)
            return self._seq

    def stop(self) -> int:
        with self._lock:
            self._seq += 1
            self._broadcast("stop", {"seq": self._seq})
            return self._seq

    def wait_for_state(self, predicate: Callable[[PageState], bool], timeout: float) -> PageState | None:
        """Block until the page reports a state satisfying ``predicate`` (used by tests and `gsv listen`)."""
        deadline = time.monotonic() + timeout
        with self._state_changed:
            while not predicate(self._state):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._state_changed.wait(left)
            return PageState(**vars(self._state))

    # --- used by the routes --------------------------------------------------------------
    def check_token(self, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    def attach(self, loop: asyncio.AbstractEventLoop) -> _Listener:
        lst = _Listener(loop)
        with self._lock:
            self._listeners.append(lst)
        self._notify()
        return lst

    def detach(self, lst: _Listener) -> None:
        with self._lock:
            if lst in self._listeners:
                self._listeners.remove(lst)
        self._notify()

    def report_state(self, state: PageState) -> None:
        with self._state_changed:
            self._state = state
            self._state_changed.notify_all()
        self._notify()

    def _broadcast(self, kind: str, data: dict[str, Any]) -> None:  # lock held
        for lst in self._listeners:
            lst.put((kind, data))

    def _notify(self) -> None:
        cb = self.on_change
        if cb is not None:
            try:
                cb()
            except Exception:
                pass


def _make_server(bridge: ListenBridge, sock: socket.socket) -> Any:
    import uvicorn

    from .http_protocol import DeadlineH11Protocol
    from .routes import Guard, build_app

    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # never print over the TUI
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    limits = bridge.limits
    config = uvicorn.Config(
        Guard(build_app(bridge), bridge), http=DeadlineH11Protocol.with_timeout(limits.request_timeout),
        lifespan="off", log_config=None, access_log=False, server_header=False,
        limit_concurrency=limits.max_connections, backlog=BACKLOG, timeout_keep_alive=limits.keep_alive_s,
        timeout_graceful_shutdown=2)
    return uvicorn.Server(config)
