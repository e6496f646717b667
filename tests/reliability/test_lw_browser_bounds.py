"""A browser cannot reach the REST API, HTTP resources are bounded, secrets rest private (#10).

Real localwhisk processes on port 0, driven with raw sockets where the point is the
wire: a Host naming another site is 421, a foreign page's request is 403, only an
``--allow-origin`` page gets CORS, private-network preflights are refused, web
actions keep ``Access-Control-Allow-Origin: *``; a 16 MB header is 431 (twenty at
once leave the server's memory flat and other clients served), a stalled head is
408, an idle connection is closed, connections past the cap get 503 and the server
recovers, and with a 256-descriptor limit a flood of idle sockets does not lock
anyone out. The data folder is 0700, the database files 0600, keys from
``--namespaces-file`` stay off the command line and the argv form warns without
showing the key. Every wait is bounded (socket timeouts or polling with a deadline).
"""

from __future__ import annotations

import base64
import json
import socket
import stat
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from lw_helpers import GUEST_AUTH, NS, OTHER_AUTH, OTHER_SPEC, action_body, put, session
from lw_helpers import start_server as start

pytestmark = pytest.mark.integration

PAGE = "http://localhost:5173"
OTHER_BASIC = "Basic " + base64.b64encode(":".join(OTHER_AUTH).encode()).decode()
HEADERS_ECHO = "def main(args):\n    return {'headers': args.get('__ow_headers', {})}\n"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[object]:
    root = tmp_path_factory.mktemp("bounds")
    listing = root / "namespaces"
    listing.write_text(OTHER_SPEC + "\n")
    listing.chmod(0o600)
    srv = start(
        root / "data",
        "--namespaces-file",
        str(listing),
        "--allow-origin",
        PAGE,
        "--allow-host",
        "lan-box",
        "--max-connections",
        "24",
        "--header-timeout",
        "1",
        "--keep-alive-timeout",
        "1",
    )
    s = session()
    web = [{"key": "web-export", "value": True}]
    put(s, srv.url, f"{NS}/actions/bb-web", action_body(HEADERS_ECHO, annotations=web))
    s.close()
    try:
        yield srv
    finally:
        srv.stop()


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", int(parts.port or 80)


def exchange(url: str, raw: bytes, timeout: float = 10.0) -> bytes:
    """Send ``raw`` on a fresh socket and read until the server closes (bounded)."""
    with socket.create_connection(address(url), timeout=timeout) as sock:
        sock.sendall(raw)
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body.startswith(b"{") else {}


def request(url: str, path: str, host: str, extra: str = "") -> bytes:
    raw = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n"
    return exchange(url, raw.encode())


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


# -- the Host and Origin gate ---------------------------------------------------------
def test_host_must_name_this_server(server):
    port = address(server.url)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "lan-box:80"):
        assert status_and_body(request(server.url, "/api/v1", host))[0] == 200, host
    for host in (f"attacker.example:{port}", "127.0.0.1.attacker.example"):
        for path in ("/api/v1", "/api/v1/web/guest/default/bb-web.json"):
            status, body = status_and_body(request(server.url, path, host))
            assert status == 421, (host, path)
            assert server.url in body["error"] and len(body["code"]) == 32


def test_rest_api_grants_cors_only_to_allowed_pages(server):
    plain = requests.get(f"{server.url}/api/v1/namespaces/_/actions", auth=GUEST_AUTH, timeout=10)
    assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain.headers
    foreign = requests.post(
        f"{server.url}{NS}/actions/bb-web",
        auth=GUEST_AUTH,
        headers={"Origin": "https://attacker.example"},
        timeout=10,
    )
    assert foreign.status_code == 403 and "--allow-origin" in foreign.json()["error"]
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = requests.options(
        f"{server.url}{NS}/actions/x",
        headers={"Origin": PAGE, "Access-Control-Request-Method": "PUT"},
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == PAGE
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    private = requests.options(
        f"{server.url}{NS}/actions/x",
        headers={
            "Origin": PAGE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Private-Network": "true",
        },
        timeout=10,
    )
    assert private.status_code == 403
    assert "Access-Control-Allow-Private-Network" not in private.headers


def test_web_actions_keep_open_cors_but_never_get_another_namespaces_key(server):
    url = f"{server.url}/api/v1/web/guest/default/bb-web.json"
    answer = requests.get(
        url, headers={"Origin": "https://anyone.example", "Authorization": OTHER_BASIC}, timeout=30
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    headers = answer.json()["headers"]
    assert headers["origin"] == "https://anyone.example" and "authorization" not in headers
    private = requests.options(
        url, headers={"Access-Control-Request-Private-Network": "true"}, timeout=10
    )
    assert private.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Private-Network" not in private.headers


# -- bounded HTTP resources ------------------------------------------------------------
def send_big_header(url: str, size: int, answers: list[bytes]) -> None:
    with socket.create_connection(address(url), timeout=20) as sock:
        sock.sendall(b"GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        filler = b"a" * 65536
        sent = 0
        try:
            while sent < size:
                sock.sendall(filler)
                sent += len(filler)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and shut its side: read what it said
        answers.append(read_all(sock))


def test_sixteen_megabyte_headers_are_431_and_memory_stays_flat(server):
    pid = server.process.pid
    before = rss_mb(pid)
    answers: list[bytes] = []
    threads = [
        threading.Thread(target=send_big_header, args=(server.url, 16 * MB, answers))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    other = requests.get(f"{server.url}/api/v1", timeout=10)
    other_ms = (time.monotonic() - started) * 1000
    for thread in threads:
        thread.join(timeout=60)
    after = rss_mb(pid)
    print(f"RSS {before:.0f} -> {after:.0f} MB; another client meanwhile {other_ms:.0f} ms")
    assert other.status_code == 200
    assert len(answers) == 20
    for answer in answers:
        status, body = status_and_body(answer)
        assert status == 431 and "65536" in body["error"]
    assert after - before < 40  # 20 x 16 MB buffered would be hundreds of MB


def test_a_stalled_head_is_408_and_a_silent_socket_is_closed(server):
    started = time.monotonic()
    with socket.create_connection(address(server.url), timeout=10) as stalled:
        stalled.sendall(b"GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        status, body = status_and_body(read_all(stalled))
    assert status == 408 and "1 s" in body["error"]
    with socket.create_connection(address(server.url), timeout=10) as silent:
        assert read_all(silent) == b""
    assert (
        time.monotonic() - started < 8
    )  # both freed by the 1 s timer, not the 10 s socket timeout


def test_an_idle_keep_alive_connection_is_closed(server):
    with socket.create_connection(address(server.url), timeout=10) as sock:
        sock.sendall(b"GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        rest = read_all(sock)
    assert time.monotonic() - started < 8
    assert b"HTTP/1.1" not in rest


def open_idle(url: str, count: int) -> list[socket.socket]:
    return [socket.create_connection(address(url), timeout=10) for _ in range(count)]


def poll_ok(url: str, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
    return False


def test_connections_past_the_cap_get_503_and_the_server_recovers(server):
    idle = open_idle(server.url, 30)
    try:
        status, body = status_and_body(request(server.url, "/api/v1", "127.0.0.1"))
        assert status == 503 and "limit 24" in body["error"]
    finally:
        for sock in idle:
            sock.close()
    assert poll_ok(server.url, 10)


def test_idle_sockets_cannot_exhaust_a_small_descriptor_limit(tmp_path):
    srv = start(tmp_path / "data", open_files=256)
    try:
        idle = open_idle(srv.url, 400)
        try:
            answer = exchange(
                srv.url, b"GET /api/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=10
            )
            status, body = status_and_body(answer)
            assert status == 503 and "limit 128" in body["error"]
        finally:
            for sock in idle:
                sock.close()
        assert poll_ok(srv.url, 15)
    finally:
        srv.stop()


# -- secrets at rest ---------------------------------------------------------------------
def test_data_folder_and_database_files_are_private(server):
    data = server.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    names = {p.name for p in data.iterdir()}
    assert {"localwhisk.db", "localwhisk.db-wal", "localwhisk.db-shm"} <= names
    for name in ("localwhisk.db", "localwhisk.db-wal", "localwhisk.db-shm"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


def test_keys_from_the_namespaces_file_work_and_stay_off_the_command_line(server):
    answer = requests.get(f"{server.url}{NS}/actions", auth=OTHER_AUTH, timeout=10)
    assert answer.status_code == 200
    cmdline = open(f"/proc/{server.process.pid}/cmdline", "rb").read()
    assert OTHER_AUTH[1].encode() not in cmdline


def test_the_argv_form_still_works_and_warns_without_the_key(tmp_path):
    srv = start(tmp_path / "data", "--namespace", OTHER_SPEC)
    try:
        answer = requests.get(f"{srv.url}{NS}/actions", auth=OTHER_AUTH, timeout=10)
        assert answer.status_code == 200
        output = "".join(srv.output)
        assert "warning: --namespace puts keys on the command line" in output
        assert OTHER_AUTH[1] not in output
    finally:
        srv.stop()
