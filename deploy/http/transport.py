"""``HttpSession``: the deploy tool's default HTTP transport, over the standard library.

Owns sockets and bytes on the wire, nothing else: it offers the part of
``requests.Session`` that ``client`` uses (``request``, ``auth``, ``headers``) so
``client`` keeps one code path for retries and error mapping whichever transport
runs under it. ``requests`` costs a deploy about 100 ms of imports and ~2 ms of CPU
per request; this costs a fraction of both. One keep-alive connection per thread
(``apply`` runs requests from a pool). It never retries: a failure is a
``TransportError`` saying whether any byte of the request may have left, so
``client`` can decide. ``sessions.default_session`` picks requests instead when a proxy
is configured.
"""

from __future__ import annotations

import base64
import http.client
import json
import select
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit


class TransportError(Exception):
    """The request failed below HTTP: no answer to map, only whether it may have been sent."""

    def __init__(self, cause: BaseException, *, sent: bool, timed_out: bool = False) -> None:
        super().__init__(type(cause).__name__)
        self.cause_name = type(cause).__name__
        self.sent = sent  # False only when the connection itself failed: nothing left
        self.timed_out = timed_out  # sent, and no answer within the read timeout
        self.refused = isinstance(cause, ConnectionRefusedError)  # nothing listens there


class HttpResponse:
    """The answer, read in full: the attributes of ``requests.Response`` that ``client`` reads."""

    def __init__(self, status: int, reason: str, headers: Any, content: bytes, url: str) -> None:
        self.status_code = status
        self.reason = reason
        self.headers = headers  # http.client's message: case-insensitive get() and `in`
        self.content = content
        self.url = url

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Raises ``ValueError`` (as requests does) when the body is not JSON."""
        return json.loads(self.content)


class _Connection(http.client.HTTPConnection):
    """http.client's connection, but the header block and the body leave in one send.

    http.client sends them separately: on loopback each send costs the server a
    wake-up and a read, twice per PUT. ``body`` is held here and joined to the header
    block in ``send`` (the public hook), so the request bytes are unchanged.
    """

    body = b""

    def send(self, data: Any) -> None:
        if self.body:
            data, self.body = data + self.body, b""
        super().send(data)


class _HttpsConnection(_Connection, http.client.HTTPSConnection):
    pass


class HttpSession:
    """Requests to one scheme://host:port; ``verify`` is a CA file, True (default CAs) or False."""

    def __init__(self, apihost: str, verify: str | bool = True) -> None:
        parts = urlsplit(apihost)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port
        self.verify = verify
        self.auth: tuple[str, str] | None = None
        self.headers: dict[str, str] = {}
        self._local = threading.local()
        self._ssl_context: Any = None
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        timeout: tuple[float, float] = (10.0, 75.0),
    ) -> HttpResponse:
        connect_timeout, read_timeout = timeout
        split = urlsplit(url)
        target = split.path or "/"
        query = "&".join(q for q in (split.query, urlencode(params) if params else "") if q)
        if query:
            target += "?" + query
        headers = dict(self.headers)
        if self.auth is not None:
            token = base64.b64encode(":".join(self.auth).encode()).decode("ascii")
            headers["Authorization"] = "Basic " + token
        body = None
        if json is not None:
            body = _dumps(json)
            headers["Content-Type"] = "application/json"
        connection = self._connection(connect_timeout)
        if connection.sock is None:
            try:
                connection.connect()
            except OSError as exc:  # refused, unresolvable, connect timeout: nothing was sent
                connection.close()
                raise TransportError(exc, sent=False) from None
        connection.sock.settimeout(read_timeout)
        try:
            if body is not None:
                headers["Content-Length"] = str(len(body))
                connection.body = body
            try:
                connection.request(method, target, headers=headers)
            finally:
                connection.body = b""  # never carried over to another request
            answer = connection.getresponse()
            content = answer.read()
        except TimeoutError as exc:
            connection.close()
            raise TransportError(exc, sent=True, timed_out=True) from None
        except (OSError, http.client.HTTPException) as exc:
            # Reset, broken pipe, a closed or garbled answer: the request may have arrived.
            connection.close()
            raise TransportError(exc, sent=True) from None
        if answer.will_close:
            connection.close()
        shown = f"{self.scheme}://{split.netloc}{target}"
        return HttpResponse(answer.status, answer.reason, answer.headers, content, shown)

    def close(self) -> None:
        """Close this thread's connection (others close with their threads or the process)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()

    def _connection(self, connect_timeout: float) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self.scheme == "https":
                connection = _HttpsConnection(
                    self.host, self.port, timeout=connect_timeout, context=self._context()
                )
            else:
                connection = _Connection(self.host, self.port, timeout=connect_timeout)
            self._local.connection = connection
        elif connection.sock is not None and _dropped(connection.sock):
            connection.close()  # the server closed it while idle: reconnect, as urllib3 does
        return connection

    def _context(self) -> Any:
        with self._lock:
            if self._ssl_context is None:
                import ssl

                if self.verify is False:
                    context = ssl._create_unverified_context()
                else:
                    context = ssl.create_default_context(cafile=_ca_file(self.verify))
                self._ssl_context = context
            return self._ssl_context


def _ca_file(verify: str | bool) -> str | None:
    """A given CA file; else certifi's, which requests trusts, so the transport changes no
    trust decision; else None (the system's CAs)."""
    if isinstance(verify, str):
        return verify
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


def _dumps(document: Any) -> bytes:
    # allow_nan=False: NaN is not JSON, and requests refuses it the same way
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _dropped(sock: Any) -> bool:
    """An idle keep-alive socket that is readable has been closed (or garbled) by the server."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
