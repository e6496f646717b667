"""A fake OpenWhisk REST API on a loopback port: scripted answers, every request recorded.

The web actions talk to the API with ``http.client`` (``actions/web_action/connections``),
which ``responses`` cannot see, so their unit tests run them against this real HTTP/1.1
server on port 0 instead: each test scripts the answers it expects, by method and path,
and asserts the exact requests that arrived (method, path, query, headers, body bytes).
A request nobody scripted is answered 500 and listed in ``unexpected``, which the
fixture checks at the end of each test. Besides answers, a route can ``hang`` (read the
request, answer nothing until the test ends: a timeout) or ``drop`` (close the
connection without a word).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # as sent, percent-encoding kept
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    connection: int  # which TCP connection carried it (0, 1, ... in order of opening)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Script:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "answer"  # or "hang", "drop"


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.unexpected: list[Call] = []
        self.connections = 0
        self._scripts: dict[tuple[str, str], list[Script]] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll: shutdown() waits for it, at the end of every test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    # -- scripting ---------------------------------------------------------------

    def answer(
        self,
        method: str,
        path: str,
        status: int = 200,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``method path`` so (JSON unless ``body``)."""
        raw = body if body is not None else json.dumps(json_body).encode()
        kind = {"Content-Type": "application/json"} if body is None else {}
        script = Script(status, raw, {**kind, **(headers or {})})
        with self._lock:
            self._scripts.setdefault((method, path), []).extend([script] * times)

    def hang(self, method: str, path: str) -> None:
        with self._lock:
            self._scripts.setdefault((method, path), []).append(Script(action="hang"))

    def drop(self, method: str, path: str) -> None:
        with self._lock:
            self._scripts.setdefault((method, path), []).append(Script(action="drop"))

    def unanswered(self) -> list[tuple[str, str]]:
        """Scripted requests that never came."""
        with self._lock:
            return [key for key, left in self._scripts.items() for _ in left]

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    # -- serving -------------------------------------------------------------------

    def _next(self, call: Call) -> Script | None:
        with self._lock:
            self.calls.append(call)
            left = self._scripts.get((call.method, call.path))
            if not left:
                self.unexpected.append(call)
                return None
            return left.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the platform's API

            def setup(self) -> None:
                super().setup()
                with api._lock:
                    self.number = api.connections
                    api.connections += 1

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                call = Call(
                    self.command,
                    split.path,
                    dict(parse_qsl(split.query, keep_blank_values=True)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.number,
                )
                script = api._next(call)
                if script is None:
                    script = Script(500, b'{"error": "not scripted"}')
                if script.action == "hang":
                    api._released.wait(30)
                    self.close_connection = True
                    return
                if script.action == "drop":
                    self.close_connection = True
                    return
                self.send_response(script.status)
                for name, value in script.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(script.body)))
                self.end_headers()
                self.wfile.write(script.body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was just bound and released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
