"""Loopback HTTP servers standing in for the network: :func:`loopback` serves any handler, and
:func:`fake_hub` is the HuggingFace hub: ``/{owner}/{repo}/resolve/{rev}/{path}`` (any repository,
files by path) with the headers huggingface_hub reads (commit, etag = the file's SHA-256 as for LFS
files, size), so the real download code runs without the network."""

from __future__ import annotations

import hashlib
import http.server
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any


@dataclass
class FakeHub:
    url: str
    files: dict[str, bytes]
    corrupt: set[str] = field(default_factory=set)  # served with one bit flipped


@contextmanager
def loopback(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[http.server.HTTPServer]:
    """``handler`` served on 127.0.0.1 (a free port) from a thread; ``server.url`` is its address."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def serving_folder(root: Path) -> Any:
    """:func:`loopback` of a quiet static-file handler over ``root`` (no ``Range`` support)."""
    return loopback(partial(_QuietFiles, directory=str(root)))


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fake_hub(files: dict[str, bytes]) -> Iterator[FakeHub]:
    with loopback(_Handler) as server:
        hub = FakeHub(server.url, dict(files))  # type: ignore[attr-defined]
        server.hub = hub  # type: ignore[attr-defined]
        yield hub


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002 - keep test output clean
        pass

    def _head(self) -> bytes | None:
        hub: FakeHub = self.server.hub  # type: ignore[attr-defined]
        parts = urllib.parse.unquote(self.path.split("?")[0]).split("/", 5)  # "", owner, repo, resolve, rev, path
        name = parts[5] if len(parts) == 6 and parts[3] == "resolve" else ""
        if name not in hub.files:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        body = hub.files[name]
        sha = hashlib.sha256(body).hexdigest()
        if name in hub.corrupt:
            body = body[:-1] + bytes([body[-1] ^ 1])
        self.send_response(200)
        self.send_header("X-Repo-Commit", "b" * 40)
        self.send_header("ETag", f'"{sha}"')
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(len(body)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return body

    def do_HEAD(self) -> None:
        self._head()

    def do_GET(self) -> None:
        body = self._head()
        if body is not None:
            self.wfile.write(body)
