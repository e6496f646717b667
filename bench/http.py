"""Keep-alive HTTP timing from Python, and wrk for throughput (a second process on loopback)."""

from __future__ import annotations

import base64
import http.client
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.process import GUEST

AUTH = "Basic " + base64.b64encode(GUEST.encode()).decode()


class Client:
    """One persistent connection; returns (status, body bytes, seconds)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

    def request(
        self, method: str, path: str, body: object | None = None
    ) -> tuple[int, bytes, float]:
        headers = {"Authorization": AUTH}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection (uvicorn: after 5 s): reconnect.
            self.conn.close()
            started = time.perf_counter()
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def time_requests(
    base: str, method: str, path: str, count: int, body: object | None = None, expect: int = 200
) -> list[float]:
    """Seconds per request, one request repeated on one connection after a warm-up."""
    return time_interleaved(base, [(method, path, body)], count, expect)[0]


def time_interleaved(
    base: str, requests: list[tuple[str, str, object | None]], count: int, expect: int = 200
) -> list[list[float]]:
    """Samples per request, the requests taken in turn on one connection.

    For a ratio between two requests: the two run within a millisecond of each other, so
    a shared machine's load (which comes and goes over seconds) weighs on both alike.
    """
    client = Client(base)
    try:
        for _ in range(min(50, count)):  # warm-up: connection, warm processes, caches
            for method, path, body in requests:
                client.request(method, path, body)
        samples: list[list[float]] = [[] for _ in requests]
        turns = list(zip(requests, samples, strict=True))
        for i in range(count):
            # Every other round backwards: no request always follows the same one.
            for (method, path, body), into in turns if i % 2 == 0 else reversed(turns):
                status, payload, seconds = client.request(method, path, body)
                if status != expect:
                    raise RuntimeError(f"{method} {path} answered {status}: {payload[:200]!r}")
                into.append(seconds)
        return samples
    finally:
        client.close()


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    # wrk is a Debian package; the bench installs it on first use (root on these machines).
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and could not be installed with apt-get")
    return found


WRK_SCRIPT = """
wrk.method = "{method}"
wrk.headers["Authorization"] = "{auth}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{body}'
"""


def wrk(
    base: str, method: str, path: str, connections: int, seconds: float = 5.0, body: str = "{}"
) -> dict[str, float]:
    """Run wrk and return requests/s and latency percentiles in ms."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT.format(method=method, auth=AUTH, body=body))
    threads = min(2, connections)
    out = subprocess.run(
        [
            ensure_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            base + path,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    script.unlink()
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
        "non_2xx": float(m.group(1))
        if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out))
        else 0.0,
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),
    }


def _ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group(0))
    unit = text[len(re.match(r"[\d.]+", text).group(0)) :]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
