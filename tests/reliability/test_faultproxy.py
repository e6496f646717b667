"""The fault proxy itself: it forwards, and closing it is prompt and really closes it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from faultproxy import POLL_S, FaultProxy

# Far below the 0.5 s that serve_forever's default poll made every teardown cost, and
# far above POLL_S, so a loaded machine does not make this flaky.
PROMPT_CLOSE_S = 0.3


class Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_S})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_closing_right_after_opening_is_prompt_and_frees_the_port(upstream: str) -> None:
    proxy = FaultProxy(upstream)
    with proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        started = time.monotonic()
    took = time.monotonic() - started
    assert took < PROMPT_CLOSE_S, f"closing the proxy took {took:.2f} s"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_it_still_forwards_and_logs_each_request(upstream: str) -> None:
    with FaultProxy(upstream) as proxy:
        proxy.begin("plain")
        answer = requests.get(f"{proxy.url}/api/v1?x=1", timeout=10)
        assert (answer.status_code, answer.text) == (200, "ok")
        [record] = proxy.of("plain")
        assert (record.method, record.path, record.forwarded, record.status) == (
            "GET",
            "/api/v1?x=1",
            True,
            200,
        )
