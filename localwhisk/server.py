"""The HTTP layer only: ASGI scope and body <-> ``Request``/``Response`` values.

Routing is ``routes``; everything the platform decides lives in the handlers.
This module refuses a Host that does not name the server and REST requests from
foreign web pages (``origins``), reads bodies in chunks and stops at the size
limit, stamps every response with ``X-Request-ID`` (and CORS for granted origins),
and turns ``ApiError`` into ``{"error", "code"}`` and anything else into a logged 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from localwhisk import routes
from localwhisk.backend import Backend
from localwhisk.config import CODE_SIZE_LIMIT
from localwhisk.errors import (
    ApiError,
    InternalError,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
)
from localwhisk.http import Request, Response, error_response, parse_query
from localwhisk.origins import OriginPolicy
from localwhisk.protocol import CONNECTION_KEY

log = logging.getLogger("localwhisk.server")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

NO_BODY_STATUSES = (204, 304)
REST_PREFIXES = ("/api/v1", "/runtime/")
# The dashboard's data (``api/dashboardapi``) takes a key like the REST API, so it is gated
# like it: its pages (``api/dashboard``) are static files any client may read.
DASHBOARD = "/dashboard"
DASHBOARD_DATA = "/dashboard/api/"
# uvicorn's send waits until the connection's write buffer drains below its high-water
# mark before writing more, so a reader that stops stalls its own stream. A stream
# stalled this long (no keep-alive taken in four rounds) is dropped, freeing its slot
# and the bytes queued for it.
STALL_S = 60.0


class App:
    """The ASGI application. ``startup`` builds the backend inside the server's loop."""

    def __init__(
        self,
        startup: Callable[[], Awaitable[Backend]],
        shutdown: Callable[[Backend], Awaitable[None]] | None = None,
    ) -> None:
        self._startup = startup
        self._shutdown = shutdown
        self.backend: Backend | None = None
        self.policy: OriginPolicy | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.backend = await self._startup()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._shutdown is not None and self.backend is not None:
                    try:
                        await self._shutdown(self.backend)
                    except Exception:
                        log.exception("shutdown failed")
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = os.urandom(16).hex()
        method: str = scope["method"]
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else scope["path"]
        # The REST API: OpenWhisk's, Adobe I/O Runtime's /runtime settings beside it, and
        # route management, a web path that writes with the caller's key.
        rest = (
            raw_path.startswith(REST_PREFIXES)
            and (not raw_path.startswith("/api/v1/web/") or routes.is_management(raw_path))
        ) or raw_path.startswith(DASHBOARD_DATA)
        headers = _headers(scope)
        cors: list[tuple[bytes, bytes]] = []
        try:
            policy = self._origin_policy()
            policy.check_host(headers.get("host"))
            if rest:
                cors = policy.admit(headers)
            response = await self._respond(
                scope, receive, headers, method, raw_path, request_id, rest
            )
        except ApiError as err:
            response = error_response(err.status, err.message, request_id, list(err.headers))
        except Exception:
            log.exception("unhandled error serving %s %s", method, scope["path"])
            failure = InternalError()
            response = error_response(failure.status, failure.message, request_id)
        await self._send(send, response, request_id, cors, receive, scope.get(CONNECTION_KEY))

    def _origin_policy(self) -> OriginPolicy:
        if self.policy is None:
            assert self.backend is not None, "request before start-up completed"
            self.policy = policy_of(self.backend)
        return self.policy

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        method: str,
        raw_path: str,
        request_id: str,
        api: bool,
    ) -> Response:
        if method == "OPTIONS" and api:
            return Response(200, b"", None)
        # HEAD on an API resource answers like GET without the body (transparent HEAD).
        lookup = "GET" if method == "HEAD" and (api or raw_path.startswith(DASHBOARD)) else method
        found = routes.match(lookup, raw_path)
        if found is None:
            allowed = routes.allowed_methods(raw_path)
            if allowed:
                raise MethodNotAllowed(allowed)
            raise RouteNotFound()
        route, args = found
        backend = self.backend
        assert backend is not None, "request before start-up completed"
        who = backend.auth.authenticate(headers.get("authorization", "")) if route.auth else None
        limit = backend.settings.limits.payload_bytes
        if method == "PUT" and raw_path.startswith("/api/v1/namespaces/"):
            limit = max(limit, CODE_SIZE_LIMIT)  # entities carry code; arguments do not
        body = await _read_body(receive, headers, limit)
        query_string = scope.get("query_string", b"").decode("latin-1")
        request = Request(
            method=method,
            path=scope["path"],
            query=parse_query(query_string) if query_string else {},
            headers=headers,
            body=body,
            request_id=request_id,
            raw_query=query_string,
            raw_path=raw_path,
            peer=_address(scope.get("client")),
            server=_address(scope.get("server")),
            connection=scope.get(CONNECTION_KEY),
        )
        return await route.handler(backend, request, who, args)

    async def _send(
        self,
        send: Send,
        response: Response,
        request_id: str,
        cors: list[tuple[bytes, bytes]],
        receive: Receive,
        connection: Any = None,
    ) -> None:
        headers: list[tuple[bytes, bytes]] = [(b"x-request-id", request_id.encode())]
        if response.content_type is not None:
            headers.append((b"content-type", response.content_type.encode("latin-1")))
        if response.status not in NO_BODY_STATUSES and response.stream is None:
            headers.append((b"content-length", str(len(response.body)).encode()))
        headers.extend(cors)
        for name, value in response.headers:
            headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        if response.stream is not None:
            await _stream(send, receive, response.stream, headers, response.status, connection)
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        # uvicorn drops the body of a HEAD answer itself; Content-Length stays the GET's.
        body = b"" if response.status in NO_BODY_STATUSES else response.body
        await send({"type": "http.response.body", "body": body})


async def _stream(
    send: Send,
    receive: Receive,
    chunks: AsyncIterator[bytes],
    headers: list[tuple[bytes, bytes]],
    status: int = 200,
    connection: Any = None,
    stall_s: float = STALL_S,
) -> None:
    """Send ``chunks`` as they come until they end or the client leaves (uvicorn would
    otherwise drop writes to a closed connection silently and the stream run on), or
    until one write has waited ``stall_s`` for the client to read: then the connection
    (``protocol``) is dropped. ``chunks`` is closed whatever happens."""

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    left = asyncio.ensure_future(gone())
    source = chunks.__aiter__()
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        while True:
            following = asyncio.ensure_future(source.__anext__())
            await asyncio.wait({following, left}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await following
                return
            try:
                chunk = following.result()
            except StopAsyncIteration:
                break
            message = {"type": "http.response.body", "body": chunk, "more_body": True}
            try:
                await asyncio.wait_for(send(message), stall_s)
            except asyncio.TimeoutError:
                log.warning("dropped an event stream whose client read nothing for %g s", stall_s)
                if connection is not None:
                    connection.drop()
                    # Closed on the loop's next turn: then uvicorn knows the client left.
                    await asyncio.wait({left}, timeout=1.0)
                return
        await send({"type": "http.response.body", "body": b""})
    finally:
        left.cancel()
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


def policy_of(backend: Backend) -> OriginPolicy:
    settings = backend.settings
    url = settings.api_host or f"http://127.0.0.1:{settings.port}"
    return OriginPolicy.of(settings.host, url, settings.allowed_hosts, settings.allowed_origins)


def _address(value: Any) -> tuple[str, int] | None:
    """An ASGI ``client``/``server`` entry as (host, port); None for a Unix socket or none."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[1], int):
        return str(value[0]), value[1]
    return None


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole body, refusing with 413 as soon as it is known to exceed ``limit``."""
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(size, limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
