"""The bridge's HTTP surface (FastAPI), see :mod:`backend.listen.server` for the protocol.

Every response carries ``Cache-Control: no-store`` and ``X-Content-Type-Options: nosniff``;
the Host header and the token are checked before any route runs (:class:`Guard`).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, MutableMapping
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)

from .hosts import BridgeError, host_header_allowed
from .protocol import AUDIO_TYPES, PageState

if TYPE_CHECKING:
    from .server import ListenBridge

HEARTBEAT_S = 10.0
MAX_STATE_BYTES = 65536
_SECURITY_HEADERS = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]


class Guard:
    """ASGI middleware: refuse a bad Host header or token with 403, add the security headers."""

    def __init__(self, app: Any, bridge: ListenBridge) -> None:
        self.app = app
        self.bridge = bridge

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_secured(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _SECURITY_HEADERS if k not in names]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        hosts = [v.decode("latin-1") for k, v in scope["headers"] if k == b"host"]
        token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("t", [""])[0]
        b = self.bridge
        if not (host_header_allowed(hosts, b.host, b.allow_remote) and b.check_token(token)):
            response = PlainTextResponse("forbidden\n", status_code=403)
            return await response(scope, receive, send_secured)
        await self.app(scope, receive, send_secured)


def parse_page_state(data: Any, received: float) -> PageState:
    """The page's report, type-checked field by field (a mistyped report is a 400, not a crash)."""
    if not isinstance(data, dict):
        raise ValueError("the state must be a JSON object")

    def number(key: str) -> float:
        v = data.get(key) or 0
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{key} must be a non-negative number")
        return float(v)

    seq = data.get("seq") or 0
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ValueError("seq must be a non-negative integer")
    paused = data.get("paused", True)
    if not isinstance(paused, bool):
        raise ValueError("paused must be true or false")
    error = data.get("error")
    if error is not None and not isinstance(error, str):
        raise ValueError("error must be a string or null")
    return PageState(seq=seq, paused=paused, current_time=number("currentTime"), duration=number("duration"),
                     error=error or None, received=received)


def _page_html() -> bytes:
    return resources.files(__package__).joinpath("page.html").read_bytes()


def build_app(bridge: ListenBridge) -> Any:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.api_route("/", methods=["GET", "HEAD"])
    @app.api_route("/index.html", methods=["GET", "HEAD"])
    def page() -> Response:
        return HTMLResponse(_page_html())

    @app.api_route("/files/{index}/{rel:path}", methods=["GET", "HEAD"])
    def file(index: str, rel: str, request: Request) -> Response:
        try:
            target = bridge.resolve_request_path(int(index), rel)
        except (ValueError, BridgeError):
            return PlainTextResponse("forbidden\n", status_code=403)
        return FileResponse(target, media_type=AUDIO_TYPES[target.suffix.lower()])

    @app.post("/state")
    async def state(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_STATE_BYTES:
                return PlainTextResponse("state too large\n", status_code=413)
        try:
            report = parse_page_state(json.loads(body or b"{}"), received=time.time())
        except (ValueError, UnicodeDecodeError) as e:
            return PlainTextResponse(f"bad state: {e}\n", status_code=400)
        bridge.report_state(report)
        return Response(status_code=204)

    @app.get("/events")
    async def events() -> Response:
        return StreamingResponse(_event_stream(bridge), media_type="text/event-stream; charset=utf-8")

    return app


async def _event_stream(bridge: ListenBridge) -> AsyncIterator[bytes]:
    listener = bridge.attach(asyncio.get_running_loop())
    try:
        yield _sse("hello", {"listeners": bridge.listeners})
        while True:
            try:
                item = await asyncio.wait_for(listener.get(), HEARTBEAT_S)
            except TimeoutError:
                yield b": ping\n\n"
                continue
            if item is None:
                return
            yield _sse(*item)
    finally:
        bridge.detach(listener)


def _sse(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
