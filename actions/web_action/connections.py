"""Keep-alive HTTP connections from a warm action to the OpenWhisk API: the bundle's wire.

The only module of the web actions that opens sockets. Standard library only: the web
actions make one API call per activation, and through ``requests`` each call cost about
0.7 ms more inside the action than the call itself (its session machinery, hooks and
proxy lookups), a quarter of a whole round trip of the async pattern, and its import
100 ms of every cold start.

One connection per API host for the life of the process: a warm action reuses it across
activations. Before reuse, a connection the server closed while idle (readable with
nothing asked) is dropped and opened again; a GET that still finds its reused connection
closed is sent once more on a new one, a POST never is (the worker could start twice).
Every call is bounded: ``connect_timeout`` to connect, ``read_timeout`` for each wait on
the answer. Failures are ``Unreachable`` (``TimedOut`` for the bound), naming the cause's
type only: the API key travels in the ``Authorization`` header and in no message.
"""

import base64
import http.client
import json
import select
import socket
from urllib.parse import urlencode, urlsplit

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
# A reused connection the server had closed fails in one of these ways before any answer.
CLOSED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Unreachable(Exception):
    """No HTTP answer: the connection could not be made or broke."""

    def __init__(self, cause):
        super().__init__(type(cause).__name__)
        self.cause = type(cause).__name__
        self.closed = isinstance(cause, CLOSED)  # by the server, before any answer


class TimedOut(Unreachable):
    """No answer within the bound."""

    def __init__(self, cause, seconds):
        super().__init__(cause)
        self.seconds = seconds


class Response:
    """An answer read in full: ``status``, ``reason``, ``headers`` (case-insensitive), ``body``."""

    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def json(self):
        """The body as JSON; ``ValueError`` when it is not."""
        return json.loads(self.body)


class _Connection(http.client.HTTPConnection):
    """http.client sends the header block and the body in two writes, so the server wakes
    and reads twice; ``body`` rides along with the header block in one ``send``."""

    body = b""

    def send(self, data):
        if self.body:
            data, self.body = data + self.body, b""
        super().send(data)


class _SecureConnection(_Connection, http.client.HTTPSConnection):
    pass


class Connections:
    """``request(method, url, auth, params=None, payload=None)`` -> ``Response``."""

    def __init__(self, connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S):
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self._open = {}  # (scheme, host, port) -> connection
        self._tls = None

    def request(self, method, url, auth, params=None, payload=None):
        split = urlsplit(url)
        target = (split.path or "/") + (f"?{urlencode(params)}" if params else "")
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        body = b""
        if payload is not None:
            body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(body))
        key = (split.scheme, split.hostname, split.port)
        reused = self._reusable(key)
        try:
            return self._exchange(key, method, target, headers, body)
        except Unreachable as failed:
            if not (reused and failed.closed and method == "GET"):
                raise
        return self._exchange(key, method, target, headers, body)  # on a new connection

    def close(self):
        for connection in self._open.values():
            connection.close()
        self._open.clear()

    def _reusable(self, key):
        """Is there an open connection to ``key`` still fit for a request?"""
        connection = self._open.get(key)
        if connection is None or connection.sock is None:
            return False
        if _dropped(connection.sock):
            connection.close()  # closed by the server while idle: open it again
            return False
        return True

    def _exchange(self, key, method, target, headers, body):
        connection = self._connection(key)
        if connection.sock is None:
            try:
                connection.connect()
            except socket.timeout as exc:  # noqa: UP041 (python:3.9: not yet TimeoutError)
                self._discard(key)
                raise TimedOut(exc, self.connect_timeout) from None
            except OSError as exc:  # refused, unresolvable, TLS refused: nothing was sent
                self._discard(key)
                raise Unreachable(exc) from None
        connection.sock.settimeout(self.read_timeout)
        try:
            connection.body = body
            try:
                connection.request(method, target, headers=headers)
            finally:
                connection.body = b""
            answer = connection.getresponse()
            content = answer.read()
        except socket.timeout as exc:  # noqa: UP041
            self._discard(key)
            raise TimedOut(exc, self.read_timeout) from None
        except (OSError, http.client.HTTPException) as exc:
            self._discard(key)
            raise Unreachable(exc) from None
        if answer.will_close:
            self._discard(key)
        return Response(answer.status, answer.reason, answer.headers, content)

    def _connection(self, key):
        connection = self._open.get(key)
        if connection is None:
            scheme, host, port = key
            if scheme == "https":
                connection = _SecureConnection(
                    host, port, timeout=self.connect_timeout, context=self._context()
                )
            else:
                connection = _Connection(host, port, timeout=self.connect_timeout)
            self._open[key] = connection
        return connection

    def _discard(self, key):
        connection = self._open.pop(key, None)
        if connection is not None:
            connection.close()

    def _context(self):
        if self._tls is None:
            import ssl

            self._tls = ssl.create_default_context(cafile=_ca_file())
        return self._tls


def _ca_file():
    """certifi's bundle when the runtime has it (requests trusted exactly that, and the
    OpenWhisk Python images ship it), so no trust decision changes; else the system's."""
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


def _dropped(sock):
    """An idle keep-alive socket that is readable was closed (or garbled) by the server."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
