"""uvicorn's h11 protocol with a deadline for receiving each whole request.

uvicorn times out idle keep-alive connections, but not a request that stops half-way: its
keep-alive timer is cancelled by the first byte and re-armed only after a response. A client
that sends half a request head (or a body shorter than its Content-Length) would hold the
connection forever. Here every request must arrive completely within ``request_timeout``
seconds of its first byte (or of the connection opening); otherwise the connection is closed.
Streaming responses (the event stream) are not affected: the deadline ends when the request
is in.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class DeadlineH11Protocol(H11Protocol):
    request_timeout: float = 10.0  # set on a subclass per bridge (see with_timeout)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    @classmethod
    def with_timeout(cls, seconds: float) -> type[DeadlineH11Protocol]:
        return type("DeadlineH11Protocol", (cls,), {"request_timeout": float(seconds)})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of a new request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the request is in (or the connection is done with)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()
