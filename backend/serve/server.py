"""Uvicorn on a socket we bind ourselves, in a thread the stage can stop.

Why bind first: a port already in use becomes a named error with the fix (not a uvicorn log
line), and ``--port 0`` gives a free port whose number is known before the first request.
Why a thread: the job runner turns SIGTERM (``gsv jobs cancel``) into an exception in the main
thread; uvicorn in another thread installs no signal handlers of its own, so cancelling reaches
the stage, which then stops uvicorn and the model worker cleanly.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any

from ..errors import GsvError
from .app import ServerState, create_app
from .worker import ModelWorker, WorkerPool


class ServeBindError(GsvError):
    """The server cannot listen where it was asked to."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServeBindError(f"cannot listen on {host}:{port}: {e.strerror or e}",
                             "pass another --port (or stop what uses this one), or check --host") from None
    sock.listen(128)
    return sock


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


@dataclass
class RunningServer:
    """A started server: its address, its uvicorn instance and thread, its worker."""

    host: str
    port: int
    server: Any
    thread: threading.Thread
    worker: ModelWorker | WorkerPool

    @property
    def url(self) -> str:
        return url_of(self.host, self.port)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.worker.stop()


def start(state: ServerState, worker: ModelWorker | WorkerPool, sock: socket.socket) -> RunningServer:
    """Serve ``state`` on the bound ``sock`` in a background thread (returns once it is up)."""
    import uvicorn

    app = create_app(state, worker)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="gsv-serve-http", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.05)
    if not server.started:
        raise ServeBindError("the HTTP server did not start", "see the job log for uvicorn's message")
    host, port = sock.getsockname()[:2]
    return RunningServer(str(host), int(port), server, thread, worker)
