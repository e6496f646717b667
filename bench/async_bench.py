"""The async pattern's round trip (issue 12), beside a blocking invoke of the same job.

For each bundle, deployed by the deploy tool on a fresh localwhisk: a zero-length job
started through the web action ``test`` (plain form, no key), then its ``statusUrl``
asked until it answers 200, measured as one round trip; against a blocking invoke of the
worker with the same zero-length job (``?blocking=true&result=true``, with the key).
Both from one keep-alive client each, in alternating rounds, so drift on a shared
machine hits both alike. The status URL is asked again at once, not after its
Retry-After: what is measured is the platform's path, not a client's patience. Beside
the wall times, the CPU the server and its action processes spent per round trip and per
invoke: on a loaded machine a path of many hops waits longer for each, so its wall ratio
grows while the work it costs does not.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.http import AUTH, percentile
from bench.process import GUEST, start_server, tree_cpu_s

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = (
    ("Python", "manifest.yaml", "default"),
    ("Node.js", "manifest.nodejs.yaml", "async-nodejs"),
)
ROUNDS = 5
GOAL = 3.0


class Keepalive:
    """One persistent connection; ``get``/``post`` return (status, body, seconds)."""

    def __init__(self, base: str, auth: bool) -> None:
        parts = urlsplit(base)
        self.host, self.port, self.auth = parts.hostname, parts.port, auth
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": AUTH} if self.auth else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def deploy(url: str, manifest: str) -> None:
    home = tempfile.mkdtemp(prefix="bench-home-")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("WHISK_", "AIO_"))}
    env.update(HOME=home, WHISK_APIHOST=url, WHISK_AUTH=GUEST, WHISK_NAMESPACE="guest")
    subprocess.run(
        [sys.executable, "-m", "deploy", "deploy", "-m", manifest],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def round_trip(caller: Keepalive, package: str) -> tuple[float, int]:
    """Start a zero-length job, poll its status URL until 200: (seconds, polls)."""
    started = time.perf_counter()
    status, body = caller.request("GET", f"/api/v1/web/guest/{package}/test?duration_ms=0")
    if status != 200:
        raise RuntimeError(f"start answered {status}: {body[:200]!r}")
    target = urlsplit(json.loads(body)["statusUrl"])
    path = f"{target.path}?{target.query}"
    polls = 0
    while True:
        polls += 1
        status, body = caller.request("GET", path)
        if status == 200:
            return time.perf_counter() - started, polls
        if status != 202 or polls > 10_000:
            raise RuntimeError(f"status answered {status} after {polls} polls: {body[:200]!r}")


def blocking(client: Keepalive, worker: str) -> float:
    started = time.perf_counter()
    status, body = client.request(
        "POST",
        f"/api/v1/namespaces/_/actions/{worker}?blocking=true&result=true",
        b'{"duration_ms": 0}',
    )
    if status != 200:
        raise RuntimeError(f"blocking invoke answered {status}: {body[:200]!r}")
    return time.perf_counter() - started


def row(name: str, value: str, baseline: str = "", ratio: str = "", goal: str = "") -> None:
    print(f"  {name:<46} {value:>12}   {baseline:>14}   {ratio:>8}   {goal}")


def timed(caller: Keepalive, path: str, expect: int) -> float:
    started = time.perf_counter()
    status, body = caller.request("GET", path)
    if status != expect:
        raise RuntimeError(f"GET {path} answered {status}: {body[:200]!r}")
    return time.perf_counter() - started


def measure(url: str, label: str, package: str, count: int, server_pid: int) -> None:
    worker = "my-worker" if package == "default" else f"{package}/my-worker"
    caller, owner = Keepalive(url, auth=False), Keepalive(url, auth=True)
    trips: list[float] = []
    polls: list[int] = []
    invokes: list[float] = []
    # Where the round trip's time goes: each half alone, and a web action hop that
    # calls no API (a status URL with a bad signature is refused before any call).
    starts: list[float] = []
    reads: list[float] = []
    hops: list[float] = []
    pings: list[float] = []  # GET /api/v1: the cheapest request the API answers
    # CPU of the server and its action processes, per round trip and per invoke.
    cpu = {"trips": 0.0, "invokes": 0.0}
    start = f"/api/v1/web/guest/{package}/test?duration_ms=0"
    try:
        for _ in range(10):  # warm: connections, the three actions' processes
            round_trip(caller, package)
            blocking(owner, worker)
        status, body = caller.request("GET", start)
        done = urlsplit(json.loads(body)["statusUrl"])
        done_path = f"{done.path}?{done.query}"
        forged = done_path[:-4] + ("AAAA" if not done_path.endswith("AAAA") else "BBBB")
        round_trip(caller, package)  # by now the job above has ended
        per_round = max(1, count // ROUNDS)
        for _ in range(ROUNDS):
            before = tree_cpu_s(server_pid)
            for _ in range(per_round):
                seconds, asked = round_trip(caller, package)
                trips.append(seconds)
                polls.append(asked)
            between = tree_cpu_s(server_pid)
            invokes += [blocking(owner, worker) for _ in range(per_round)]
            cpu["trips"] += between - before
            cpu["invokes"] += tree_cpu_s(server_pid) - between
            small = max(1, per_round // 4)
            starts += [timed(caller, start, 200) for _ in range(small)]
            reads += [timed(caller, done_path, 200) for _ in range(small)]
            hops += [timed(caller, forged, 404) for _ in range(small)]
            pings += [timed(caller, "/api/v1", 200) for _ in range(small)]
    finally:
        caller.close()
        owner.close()
    t50, i50 = percentile(trips, 50) * 1000, percentile(invokes, 50) * 1000
    row(f"{label}: blocking invoke, zero-length job, p50", f"{i50:.2f} ms")
    row(
        f"{label}: start + poll status until 200, p50",
        f"{t50:.2f} ms",
        f"{i50:.2f} ms",
        f"{t50 / i50:.2f}x",
        f"goal <= {GOAL:g}x",
    )
    trip_cpu, invoke_cpu = (cpu[k] * 1000 / len(trips) for k in ("trips", "invokes"))
    row(
        f"{label}: CPU per round trip (server + actions)",
        f"{trip_cpu:.2f} ms",
        f"{invoke_cpu:.2f} ms",
        f"{trip_cpu / invoke_cpu:.2f}x" if invoke_cpu else "-",
    )
    row(
        f"{label}: status polls per job, p50 / max",
        f"{percentile([float(p) for p in polls], 50):.0f} / {max(polls)}",
    )
    h50 = percentile(hops, 50) * 1000
    for name, samples in (("start through test alone", starts), ("status of a done job", reads)):
        s50 = percentile(samples, 50) * 1000
        row(f"{label}: {name}, p50", f"{s50:.2f} ms", f"{h50:.2f} ms", f"{s50 / h50:.2f}x")
    row(
        f"{label}: web action hop, no API call, p50",
        f"{h50:.2f} ms",
        f"{i50:.2f} ms",
        f"{h50 / i50:.2f}x",
    )
    # What the round trip cannot go below when its hops run one after another (as they do
    # on one core): the worker's own activation, the two web activations, and the two API
    # calls the web actions make, each at least the cheapest request the API answers.
    floor = i50 + 2 * h50 + 2 * percentile(pings, 50) * 1000
    row(
        f"{label}: floor, invoke + 2 hops + 2 GET /api/v1",
        f"{floor:.2f} ms",
        f"{i50:.2f} ms",
        f"{floor / i50:.2f}x",
        "(context)",
    )


def run(quick: bool = False) -> None:
    count = 50 if quick else 500
    print(f"\nthe async round trip, one keep-alive client each, {ROUNDS} alternating rounds")
    server = start_server()
    try:
        for label, manifest, package in BUNDLES:
            deploy(server.url, manifest)
            measure(server.url, label, package, count, server.process.pid)
    finally:
        server.stop()


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
