"""HttpSession, the CLI's default transport, against a real HTTP server on 127.0.0.1:0.

`responses` only intercepts requests, so this transport is checked on the wire: exact
request bytes, keep-alive, and which failures count as "never sent" (retryable for a
POST) or "maybe sent" (not). The retry policy itself is the client's, tested in
``test_client.py``; here it is checked only where the transport feeds it.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from deploy.errors import ConnectError
from deploy.http.client import OpenWhiskClient
from deploy.http.sessions import default_session
from deploy.http.transport import HttpSession, TransportError
from deploy.settings import LOCAL_SOURCE, Settings

KEY = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:" + "k" * 64


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[dict[str, Any]] = []
        self.behaviour: dict[str, str] = {}  # path -> "reset" | "close" | "hang" | "500"
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise
    server: Recorder

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        self.server.seen.append(
            {
                "method": self.command,
                "target": self.path,
                "headers": dict(self.headers),
                "body": body,
                "peer": self.client_address,
            }
        )
        behaviour = self.server.behaviour.get(path, "")
        if behaviour == "reset":  # the request arrived; the answer is lost
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            self.close_connection = True
            return
        if behaviour == "hang":
            self.server.release.wait(10)
            self.close_connection = True
            return
        status = 500 if behaviour == "500" else 404 if path.endswith("/missing") else 200
        answer = json.dumps({"path": path, "error": "boom"} if status >= 400 else {"path": path})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        if behaviour == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer.encode())

    do_GET = do_PUT = do_POST = do_DELETE = _handle


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    thread = threading.Thread(target=recorder.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield recorder
    recorder.release.set()
    recorder.shutdown()
    recorder.server_close()


def session(url: str) -> HttpSession:
    s = HttpSession(url)
    s.auth = ("user", "secret-key")
    s.headers = {"Accept": "application/json"}
    return s


def client(
    url: str, retries: int = 2, source: str = "flags"
) -> tuple[OpenWhiskClient, list[float]]:
    sleeps: list[float] = []
    c = OpenWhiskClient(
        Settings(url, KEY, "guest", source), retries=retries, sleep=sleeps.append, timeout=1.0
    )
    return c, sleeps


def test_request_line_auth_and_json_body_are_as_requests_sends_them(server: Recorder) -> None:
    s = session(server.url)
    answer = s.request(
        "PUT", f"{server.url}/api/v1/x%20y", params={"overwrite": "true"}, json={"a": [1, "é"]}
    )
    assert answer.status_code == 200 and answer.json() == {"path": "/api/v1/x%20y"}
    [seen] = server.seen
    assert (seen["method"], seen["target"]) == ("PUT", "/api/v1/x%20y?overwrite=true")
    assert seen["headers"]["Authorization"] == "Basic " + base64.b64encode(
        b"user:secret-key"
    ).decode("ascii")
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Accept"] == "application/json"
    assert json.loads(seen["body"]) == {"a": [1, "é"]}
    assert answer.url == f"{server.url}/api/v1/x%20y?overwrite=true"


def test_one_connection_is_kept_alive_and_renewed_after_the_server_closes_it(
    server: Recorder,
) -> None:
    s = session(server.url)
    for _ in range(3):
        s.request("GET", f"{server.url}/a")
    server.behaviour["/b"] = "close"
    s.request("GET", f"{server.url}/b")
    s.request("GET", f"{server.url}/a")
    peers = [seen["peer"] for seen in server.seen]
    assert len(set(peers[:4])) == 1, "the first four requests share one connection"
    assert peers[4] != peers[3], "a closed connection is replaced"


def test_threads_get_their_own_connections(server: Recorder) -> None:
    s = session(server.url)
    threads = [
        threading.Thread(target=s.request, args=("GET", f"{server.url}/t")) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({seen["peer"] for seen in server.seen}) == 3


def test_a_refused_connection_was_never_sent() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        with pytest.raises(TransportError) as err:
            session(url).request("POST", f"{url}/x", json={})
    assert err.value.sent is False and err.value.cause_name == "ConnectionRefusedError"


def test_a_reset_after_the_request_arrived_may_have_been_sent(server: Recorder) -> None:
    server.behaviour["/r"] = "reset"
    with pytest.raises(TransportError) as err:
        session(server.url).request("POST", f"{server.url}/r", json={})
    assert err.value.sent is True and err.value.timed_out is False


def test_no_answer_within_the_read_timeout_is_a_timeout(server: Recorder) -> None:
    server.behaviour["/slow"] = "hang"
    with pytest.raises(TransportError) as err:
        session(server.url).request("GET", f"{server.url}/slow", timeout=(1.0, 0.05))
    assert err.value.sent is True and err.value.timed_out is True


def test_client_never_resends_a_post_whose_answer_was_lost(server: Recorder) -> None:
    server.behaviour["/api/v1/namespaces/guest/actions/a"] = "reset"
    c, sleeps = client(server.url)
    with pytest.raises(ConnectError) as err:
        c.invoke("a", {"n": 1})
    assert [seen["method"] for seen in server.seen] == ["POST"] and sleeps == []
    assert "not retried" in str(err.value) and KEY.split(":")[1] not in str(err.value)


def test_client_retries_a_put_after_a_reset_and_a_500(server: Recorder) -> None:
    path = "/api/v1/namespaces/guest/triggers/t"
    server.behaviour[path] = "reset"
    c, sleeps = client(server.url, retries=3)
    with pytest.raises(ConnectError):
        c.put("triggers", "t", {})
    assert len(server.seen) == 4 and len(sleeps) == 3
    server.behaviour[path] = "500"
    server.seen.clear()
    with pytest.raises(Exception, match="HTTP 500"):
        c.put("triggers", "t", {})
    assert len(server.seen) == 4


def test_client_reads_404_as_missing(server: Recorder) -> None:
    c, _ = client(server.url)
    assert c.get("actions", "missing") is None
    assert c.get("actions", "there") == {"path": "/api/v1/namespaces/guest/actions/there"}


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        (LOCAL_SOURCE, "(start localwhisk with `make up`)"),
        ("flags", "(start it (localwhisk: `make up`), or check the apihost given by flags)"),
    ],
)
def test_a_refused_loopback_connection_fails_at_once_naming_the_port(source, hint) -> None:
    # Nothing between us and our own machine can be transient: retrying only waited 5.7 s.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        down, sleeps = client(f"http://127.0.0.1:{port}", retries=4, source=source)
        with pytest.raises(ConnectError) as err:
            down.server_info()
    assert str(err.value) == (
        f"GET http://127.0.0.1:{port}/ failed: connection refused: nothing listens on "
        f"127.0.0.1:{port} {hint}"
    )
    assert sleeps == [] and down.request_count == 1


def test_the_default_session_is_this_transport_unless_a_proxy_is_set() -> None:
    assert isinstance(default_session("http://127.0.0.1:3233", {}), HttpSession)
    assert isinstance(default_session("https://x.example", {"NO_PROXY": "x"}), HttpSession)
    chosen = default_session("https://x.example", {"HTTPS_PROXY": "http://proxy:3128"})
    assert type(chosen).__name__ == "Session" and type(chosen).__module__ == "requests.sessions"


class SendLog:
    """A socket stand-in that records each send: the wire is the same, the calls are seen."""

    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))


def test_headers_and_body_leave_in_one_send() -> None:
    from deploy.http.transport import _Connection

    connection = _Connection("127.0.0.1", 9)
    connection.sock = SendLog()  # type: ignore[assignment]
    connection.body = b'{"a":1}'
    connection.request("PUT", "/x", headers={"Content-Length": "7"})
    (only,) = connection.sock.sends
    assert only.startswith(b"PUT /x HTTP/1.1\r\n") and only.endswith(b'\r\n\r\n{"a":1}')
    assert connection.body == b""  # consumed: the next request carries no stale body
