"""The HTTP/1.1 connection uvicorn runs: its httptools protocol plus the bounds it lacks.

uvicorn (0.3x-0.5x) with httptools reads headers of any size, starts no timer on a
connection until its first answer, and has no cap on accepted connections: its
``limit_concurrency`` answers 503 only once a request's headers are in, while idle
sockets keep being accepted until the process runs out of file descriptors and
nobody can connect. This subclass adds, per connection:

- a header size limit (request line plus headers): 431, then close;
- a header timeout from connect, or from the last answer, to the end of the headers:
  408 (a silent close when nothing of a request arrived), so slow or silent clients
  cannot hold a socket; the idle keep-alive timeout is uvicorn's own;
- a connection cap checked when a socket is accepted: 503 and close, so the server
  stops well before the file-descriptor limit and serves again as soon as clients leave.

Answers are ``{"error", "code"}`` like every other error (the code is a fresh
request id, also sent as ``X-Request-ID``).

uvicorn writes a response's head and its body separately: two segments, and a reader
woken for the head only to wait for the body. Each request's head is held until its
body (or the response's end, or a close) and both go in one write (``_OneWrite``).
"""

from __future__ import annotations

import asyncio
import os
from http import HTTPStatus
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from localwhisk.config import HttpBounds
from localwhisk.http import dumps

# A refused socket waits this long for the request already on its way, so that the
# 503 is read before the close (closing with unread input resets the connection).
REFUSE_WAIT_S = 0.25
# After a 431 or 503 the write side is shut and input discarded this long before the
# close (a "lingering close"), so a client still sending reads the answer, not a reset.
LINGER_S = 0.5
CONNECTION_KEY = "localwhisk.connection"  # in each request's ASGI scope


class _OneWrite:
    """A request's view of the connection's transport: the response head it writes
    first waits for the body, so the two leave together. Anything else passes through."""

    __slots__ = ("_transport", "_cycle", "_head", "_done")

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._done = False  # the head went out: later writes pass straight through

    def write(self, data: bytes) -> None:
        if self._done:
            self._transport.write(data)
        elif self._head is not None:
            self._done = True
            head, self._head = self._head, None
            self._transport.write(head + data)
        elif self._cycle.response_started and not self._cycle.response_complete:
            self._head = bytes(data)  # the status line and headers
        else:  # "100 Continue", sent while the request is read
            self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            self._done = True
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _one_write(cycle: Any) -> None:
    """Give ``cycle`` a ``_OneWrite`` transport; a response without a body (HEAD, 204)
    sends its held head when it completes."""
    held = _OneWrite(cycle.transport, cycle)
    cycle.transport = held
    completed = cycle.on_response

    def on_response() -> None:
        held.flush()
        completed()

    cycle.on_response = on_response


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing; answered with 431."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    bounds: ClassVar[HttpBounds] = HttpBounds()
    # Sockets refused and not yet closed; past a few, new ones close at once.
    refusing: ClassVar[set[BoundedHttpToolsProtocol]] = set()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True  # the next bytes belong to a request line or headers
        self._head_bytes = 0  # exact size of the head's parts parsed so far
        self._pending = 0  # raw bytes received while the head is still incomplete
        self._boundary = False  # a request ended inside the chunk being parsed
        self._oversize = False
        self._refused = False
        self._answered = False
        self._timer: asyncio.TimerHandle | None = None

    # -- accepting ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.bounds.max_connections:
            self._refused = True
            self.transport = transport
            if len(self.refusing) >= max(8, self.bounds.max_connections // 8):
                # A flood: answer and close at once, holding no descriptor for later.
                self._refuse(linger=False)
                return
            self.refusing.add(self)  # until closed: bounds the sockets refusals hold
            self._timer = self.loop.call_later(REFUSE_WAIT_S, self._refuse)
            return
        super().connection_made(transport)
        self._arm()

    def _refuse(self, linger: bool = True) -> None:
        self._cancel()
        self._answer(
            HTTPStatus.SERVICE_UNAVAILABLE,
            f"Too many open connections (limit {self.bounds.max_connections}); "
            "try again shortly or close idle connections.",
            retry_after=True,
            linger=linger,
        )

    def drop(self) -> None:
        """Close now, discarding what is queued for a client that stopped reading."""
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        self.refusing.discard(self)
        super().connection_lost(exc)

    # -- reading --------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._answered:
            return  # lingering after an answer: input is discarded
        if self._refused:
            self._refuse()
            return
        counting = self._reading_head
        self._boundary = False
        super().data_received(data)
        if self.transport.is_closing() or not self._reading_head:
            return
        # Still inside a head: a header value being received is not yet known to the
        # parser's callbacks, so count raw bytes too (unless a request ended in this
        # chunk and the split is unknown: the exact count then covers it next time).
        if counting and not self._boundary:
            self._pending += len(data)
        if self._pending > self.bounds.max_header_bytes:
            self._too_large()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.bounds.max_header_bytes:
            self._oversize = True
            raise _HeadTooLarge()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._pending = 0
        self._cancel()
        # Which TCP connection a request came on (one protocol object per connection):
        # what is learnt of a connection's client end once need not be asked again.
        self.scope[CONNECTION_KEY] = self  # type: ignore[literal-required]
        before = self.cycle
        super().on_headers_complete()
        # A new cycle (not an upgrade) has not run yet: it writes through _OneWrite.
        if self.cycle is not None and self.cycle is not before:
            _one_write(self.cycle)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._pending = 0
        self._head_bytes = 0
        self._boundary = True

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers any parser error with 400; an error we raised for size is 431.
        if self._oversize:
            self._too_large()
        else:
            super().send_400_response(msg)

    def _too_large(self) -> None:
        self._answer(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            f"The request line and headers are larger than {self.bounds.max_header_bytes} "
            "bytes; send fewer or smaller headers (cookies, long URLs).",
            linger=True,
        )

    # -- answering and the header timer --------------------------------------------
    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        self._cancel()
        self._timer = self.loop.call_later(self.bounds.header_timeout_s, self._header_timeout)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _header_timeout(self) -> None:
        self._timer = None
        if self.transport.is_closing() or not self._reading_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered; the timer restarts after it
        if self._pending == 0 and self._head_bytes == 0:
            self.transport.close()  # nothing of a request: just free the socket
            return
        self._answer(
            HTTPStatus.REQUEST_TIMEOUT,
            f"The request's headers did not arrive within {self.bounds.header_timeout_s:g} s.",
        )

    def _answer(
        self, status: HTTPStatus, message: str, *, retry_after: bool = False, linger: bool = False
    ) -> None:
        if self._answered or self.transport.is_closing():
            return
        self._answered = True
        self._cancel()
        request_id = os.urandom(16).hex()
        body = dumps({"error": message, "code": request_id})
        head = [
            f"HTTP/1.1 {status.value} {status.phrase}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            f"x-request-id: {request_id}",
            "connection: close",
        ]
        if retry_after:
            head.append("retry-after: 1")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        if linger and self.transport.can_write_eof():
            self.transport.write_eof()
            self._timer = self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def protocol_class(bounds: HttpBounds) -> type[BoundedHttpToolsProtocol]:
    """A protocol class carrying ``bounds`` (uvicorn instantiates it per connection)."""
    return type(
        "LocalwhiskHttpProtocol",
        (BoundedHttpToolsProtocol,),
        {"bounds": bounds, "refusing": set()},
    )
