"""The dashboard's event streams against a real localwhisk: hostile followers.

Followers of a running activation with a big log that never read must not make the
server hold that log for each of them (memory measured as the server's VmRSS), and one
key opening stream after stream is refused with 429 past its namespace's cap while
other requests, that key's own included, are still answered.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator

import pytest
from lw_helpers import GUEST_AUTH, NS, action_body, put, session, start_server

pytestmark = pytest.mark.integration

AUTH = "Basic " + base64.b64encode(":".join(GUEST_AUTH).encode()).decode()
EVENTS = "/dashboard/api/namespaces/_/events"
LINES = 200_000  # ~9 MB of raw output, ~18 MB once shaped as log lines: under 10 MB logs
BIG_LOG = f"""
import sys, time
def main(args):
    for n in range({LINES}):
        print("line %06d %s" % (n, "x" * 40))
    sys.stdout.flush()
    time.sleep(args.get("hold", 30))
    return {{}}
"""
FOLLOWERS = 30  # under the per-namespace cap, so every one is served
# The old code queued the whole log (~11 MB) for each follower: 30 of them, ~330 MB.
# Bounded events leave a few hundred KB each at most; the rest is allocator slack.
GROWTH_BOUND_MB = 120


@pytest.fixture(scope="module")
def server() -> Iterator[object]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        srv = start_server(Path(tmp))
        try:
            yield srv
        finally:
            srv.stop()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_stream(url: str, query: str = "", rcvbuf: int | None = None) -> socket.socket:
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET {EVENTS}{query} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {AUTH}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    return sock


def status_of(sock: socket.socket) -> tuple[int, bytes]:
    """The status and what arrived up to the end of the head (and of a short body)."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or (b" 200 " not in data[:13] and not data.endswith(b"}")):
        part = sock.recv(4096)
        if not part:
            break
        data += part
    return int(data.split(b" ", 2)[1]), data


def test_followers_that_never_read_do_not_each_hold_the_log(server):
    s = session()
    put(s, server.url, f"{NS}/actions/biglog", action_body(BIG_LOG))
    started = s.post(f"{server.url}{NS}/actions/biglog", json={}, params={"blocking": "false"})
    activation_id = started.json()["activationId"]
    # Until the whole log is printed: a follower that reads sees its last line.
    reader = open_stream(server.url, f"?follow={activation_id}")
    last = f"line {LINES - 1:06d} ".encode()
    deadline = time.monotonic() + 60
    tail = b""
    try:
        reader.settimeout(30)  # a loaded 2-core machine can pause a stream for seconds
        while last not in tail:
            assert time.monotonic() < deadline, "the action did not print its log in time"
            part = reader.recv(1 << 16)
            assert part, "the stream ended early"
            tail = tail[-64:] + part
    finally:
        reader.close()
    pid = server.process.pid
    before = rss_mb(pid)
    followers = [
        open_stream(server.url, f"?follow={activation_id}", rcvbuf=4096) for _ in range(FOLLOWERS)
    ]
    try:
        peak = before
        for _ in range(20):  # 5 s: the old code had queued everything within the first
            time.sleep(0.25)
            peak = max(peak, rss_mb(pid))
        print(f"RSS {before:.0f} -> {peak:.0f} MB with {FOLLOWERS} followers")
        answer = s.get(f"{server.url}/api/v1", timeout=10)
        assert answer.status_code == 200
        assert peak - before < GROWTH_BOUND_MB, (
            f"server RSS grew {peak - before:.0f} MB for {FOLLOWERS} non-reading followers"
            f" ({before:.0f} -> {peak:.0f} MB)"
        )
    finally:
        for sock in followers:
            sock.close()
    # A follower that reads gets the log in order, in bounded events.
    reader = open_stream(server.url, f"?follow={activation_id}")
    try:
        reader.settimeout(30)  # a loaded 2-core machine can pause a stream for seconds
        data = b""
        while data.count(b"event: logs") < 3:
            part = reader.recv(1 << 16)
            assert part, "the stream ended early"
            data += part
    finally:
        reader.close()
    body = data.split(b"\r\n\r\n", 1)[1].decode("latin-1")
    first = [b for b in body.split("\n\n") if "event: logs" in b][0]
    event = json.loads(first.split("data: ", 1)[1].split("\r\n", 1)[0])
    assert event["from"] == 0 and 0 < len(event["lines"]) < LINES
    assert "line 000000 " in event["lines"][0]


def test_streams_past_the_namespace_cap_are_429_while_the_api_still_answers(server):
    streams = [open_stream(server.url) for _ in range(32)]
    try:
        assert all(status_of(sock)[0] == 200 for sock in streams)
        refused = open_stream(server.url)
        try:
            status, head = status_of(refused)
        finally:
            refused.close()
        assert status == 429, head
        error = json.loads(head.split(b"\r\n\r\n", 1)[1])
        assert "Too many open event streams for namespace 'guest'" in error["error"]
        assert "allowed: 32" in error["error"] and len(error["code"]) == 32
        assert b"retry-after: 5" in head.lower()
        s = session()
        assert s.get(f"{server.url}/api/v1", timeout=10).status_code == 200
        listed = s.get(f"{server.url}{NS}/actions", timeout=10)
        assert listed.status_code == 200
    finally:
        for sock in streams:
            sock.close()
    # Closed streams free their slots (polled with a bound: the server learns of each close).
    deadline = time.monotonic() + 10
    while True:
        again = open_stream(server.url)
        try:
            status, _ = status_of(again)
        finally:
            again.close()
        if status == 200:
            break
        assert time.monotonic() < deadline, "slots were not freed after the streams closed"
        time.sleep(0.1)
