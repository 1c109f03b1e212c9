"""A loopback HTTP server that plays audio in a browser tab on the person's own machine.

Why the standard library: the bridge is one page, one event stream and static files. A
``ThreadingHTTPServer`` in a daemon thread needs no event loop of its own, so it lives happily
inside the Textual process (whose asyncio loop we must not block or share) and inside
``gsv listen`` alike.

Protocol (every request needs ``?t=<token>``; anything else is 403):

- ``GET /``               the page (inline HTML/JS/CSS, no build step)
- ``GET /events``         server-sent events: ``hello``, ``play`` {seq, url, name, text, duration, start}, ``stop`` {seq}
- ``GET /files/<i>/<rel>`` an audio file under served root ``i`` (Range requests supported)
- ``POST /state``         the page reports its audio element (clip seq, paused, current time) so
                          the TUI can show what is really playing, and tests can assert on it

Security: bound to loopback by default; a random token, compared in constant time; the Host
header must name a loopback host (defeats DNS rebinding); only audio files whose real path
(symlinks resolved) lies inside a served root are served.
"""

from __future__ import annotations

import getpass
import hmac
import json
import mimetypes
import os
import queue
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..errors import GsvError

AUDIO_TYPES = {
    ".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
    ".opus": "audio/ogg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".webm": "audio/webm",
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
HEARTBEAT_S = 10.0


class BridgeError(GsvError):
    """The bridge cannot serve or play what was asked."""


@dataclass
class PageState:
    """What the browser tab last reported about its audio element."""

    seq: int = 0
    paused: bool = True
    current_time: float = 0.0
    duration: float = 0.0
    error: str | None = None
    received: float = 0.0


@dataclass
class _Listener:
    events: "queue.Queue[tuple[str, dict[str, Any]] | None]" = field(default_factory=queue.Queue)


def ssh_forward_hint(port: int, environ: dict[str, str] | None = None) -> str | None:
    """The exact ``ssh -L`` command to reach this machine's bridge, when we run inside SSH.

    ``SSH_CONNECTION`` is ``client_ip client_port server_ip server_port``; the host name the
    person typed is not known to us, so we offer this machine's name and say so in the TUI.
    """
    env = os.environ if environ is None else environ
    conn = env.get("SSH_CONNECTION") or env.get("SSH_CLIENT")
    if not conn:
        return None
    parts = conn.split()
    ssh_port = parts[3] if len(parts) >= 4 else "22"
    host = socket.getfqdn() or (parts[2] if len(parts) >= 3 else "HOST")
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = env.get("USER", "")
    target = f"{user}@{host}" if user else host
    port_opt = f" -p {ssh_port}" if ssh_port != "22" else ""
    return f"ssh -L {port}:127.0.0.1:{port}{port_opt} {target}"


class ListenBridge:
    """Serve a page and the audio inside ``roots``; push play/stop to connected tabs."""

    def __init__(self, roots: list[Path] | None = None, host: str = "127.0.0.1", port: int = 9877,
                 token: str | None = None) -> None:
        self.host = host
        self.port = port
        self.token = token or secrets.token_urlsafe(18)
        self._roots: list[Path] = []
        self._lock = threading.Lock()
        self._listeners: list[_Listener] = []
        self._seq = 0
        self._last_play: dict[str, Any] | None = None
        self._state = PageState()
        self._state_changed = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.on_change: Callable[[], None] | None = None  # called (from a server thread) when listeners/state change
        self.set_roots(roots or [])

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> "ListenBridge":
        """Bind and serve in a daemon thread. ``port=0`` picks a free port."""
        handler = _make_handler(self)
        try:
            self._server = _Server((self.host, self.port), handler)
        except OSError as e:
            raise BridgeError(f"cannot listen on {self.host}:{self.port}: {e.strerror or e}",
                              "set another `listen_port` in config.toml, or stop what uses the port") from None
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="listen-bridge", daemon=True)
        self._thread.start()
        return self

    def close(self, wait: bool = True) -> None:
        """Stop serving. ``wait=False`` returns at once (the server thread finishes on its own
        within its poll interval) — what an app that is exiting wants."""
        with self._lock:
            for lst in self._listeners:
                lst.events.put(None)
        server, self._server = self._server, None
        if server is None:
            return

        def stop() -> None:
            server.shutdown()
            server.server_close()

        if wait:
            stop()
        else:
            threading.Thread(target=stop, name="listen-bridge-stop", daemon=True).start()

    def __enter__(self) -> "ListenBridge":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/?t={self.token}"

    # --- what is served ------------------------------------------------------------------
    def set_roots(self, roots: list[Path]) -> None:
        """Folders whose audio may be served (the open project, generated outputs)."""
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
        for i, root in enumerate(roots):
            if real == root or root in real.parents:
                rel = real.relative_to(root).as_posix()
                if real.suffix.lower() not in AUDIO_TYPES:
                    break
                return f"/files/{i}/{quote(rel)}?t={self.token}"
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
            self._last_play = ev
            self._broadcast("play", ev)
            return self._seq

    def stop(self) -> int:
        with self._lock:
            self._seq += 1
            self._last_play = None
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

    # --- internals used by the handler ---------------------------------------------------
    def _broadcast(self, kind: str, data: dict[str, Any]) -> None:  # lock held
        for lst in self._listeners:
            lst.events.put((kind, data))

    def _attach(self) -> _Listener:
        lst = _Listener()
        with self._lock:
            self._listeners.append(lst)
        self._notify()
        return lst

    def _detach(self, lst: _Listener) -> None:
        with self._lock:
            if lst in self._listeners:
                self._listeners.remove(lst)
        self._notify()

    def _report_state(self, data: dict[str, Any]) -> None:
        with self._state_changed:
            self._state = PageState(
                seq=int(data.get("seq") or 0), paused=bool(data.get("paused", True)),
                current_time=float(data.get("currentTime") or 0.0), duration=float(data.get("duration") or 0.0),
                error=(str(data["error"]) if data.get("error") else None), received=time.time())
            self._state_changed.notify_all()
        self._notify()

    def _notify(self) -> None:
        cb = self.on_change
        if cb is not None:
            try:
                cb()
            except Exception:
                pass

    def _check_token(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.token.encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser closing a connection mid-stream is normal; never print over the TUI."""


def _page_html() -> bytes:
    return resources.files(__package__).joinpath("page.html").read_bytes()


def _make_handler(bridge: ListenBridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gsv-listen"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # never print over the TUI
            pass

        # -- helpers --
        def _send(self, status: int, body: bytes = b"", ctype: str = "text/plain; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _authorised(self) -> tuple[bool, str]:
            parts = urlsplit(self.path)
            host = _host_name(self.headers.get("Host") or "")
            if host and host not in LOOPBACK_HOSTS and host != bridge.host:
                return False, parts.path
            token = parse_qs(parts.query).get("t", [""])[0]
            return bridge._check_token(token), parts.path

        # -- verbs --
        def do_GET(self) -> None:
            ok, path = self._authorised()
            if not ok:
                return self._send(HTTPStatus.FORBIDDEN, b"forbidden\n")
            if path in ("/", "/index.html"):
                return self._send(HTTPStatus.OK, _page_html(), "text/html; charset=utf-8")
            if path == "/events":
                return self._events()
            if path.startswith("/files/"):
                return self._file(path[len("/files/"):])
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")

        do_HEAD = do_GET

        def do_POST(self) -> None:
            ok, path = self._authorised()
            if not ok:
                return self._send(HTTPStatus.FORBIDDEN, b"forbidden\n")
            if path != "/state":
                return self._send(HTTPStatus.NOT_FOUND, b"not found\n")
            try:
                length = min(int(self.headers.get("Content-Length") or 0), 65536)
                data = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(data, dict):
                    raise ValueError
            except ValueError:
                return self._send(HTTPStatus.BAD_REQUEST, b"bad state\n")
            bridge._report_state(data)
            self._send(HTTPStatus.NO_CONTENT)

        def _file(self, rest: str) -> None:
            index_s, _, rel = rest.partition("/")
            try:
                target = bridge.resolve_request_path(int(index_s), unquote(rel))
            except (ValueError, BridgeError):
                return self._send(HTTPStatus.FORBIDDEN, b"forbidden\n")
            size = target.stat().st_size
            ctype = AUDIO_TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            start, end = 0, size - 1
            status = HTTPStatus.OK
            rng = self.headers.get("Range")
            if rng:
                parsed = _parse_range(rng, size)
                if parsed is None:
                    return self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"",
                                      headers={"Content-Range": f"bytes */{size}"})
                start, end = parsed
                status = HTTPStatus.PARTIAL_CONTENT
            length = max(0, end - start + 1)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Cache-Control", "no-store")
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            with open(target, "rb") as f:
                f.seek(start)
                left = length
                while left > 0:
                    chunk = f.read(min(65536, left))
                    if not chunk:
                        break
                    try:
                        self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    left -= len(chunk)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "keep-alive")
            self.end_headers()
            self.close_connection = True
            listener = bridge._attach()
            try:
                self._sse("hello", {"listeners": bridge.listeners})
                while True:
                    try:
                        item = listener.events.get(timeout=HEARTBEAT_S)
                    except queue.Empty:
                        self.wfile.write(b": ping\n\n")
                        self.wfile.flush()
                        continue
                    if item is None:
                        break
                    self._sse(*item)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            finally:
                bridge._detach(listener)

        def _sse(self, kind: str, data: dict[str, Any]) -> None:
            payload = json.dumps(data, ensure_ascii=False)
            self.wfile.write(f"event: {kind}\ndata: {payload}\n\n".encode("utf-8"))
            self.wfile.flush()

    return Handler


def _host_name(header: str) -> str:
    """The host part of a Host header: ``[::1]:9877`` -> ``[::1]``, ``localhost:8000`` -> ``localhost``."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0]


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range (what audio elements send); None when unsatisfiable."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":  # suffix: the last N bytes
            n = int(last)
            if n <= 0:
                return None
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)
