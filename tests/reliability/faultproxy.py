"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a real server, for the reliability tests.

Owns the fault schedule and the request log. Every request is forwarded to
``upstream`` unless the schedule says otherwise; the faults are 429 (with and
without ``Retry-After``), 500/502/503, connection resets and slow answers. A
5xx or a reset happens either *before* the request reaches the server (nothing
applied) or *after* (applied, answer lost): the second kind is what makes
retries and re-runs prove convergence rather than mere persistence.

The schedule is seeded and keyed by the request itself (method, path, query,
body digest and how many times that same request was seen), not by arrival
order, so concurrent requests get the same faults on every run. ``forced``
injects one given status on the n-th request matching a predicate (the 4xx
no-retry checks), and ``on_arrival`` lets a test act at an exact request
(the SIGKILL points). Used by pytest and by ``bench.soak``; stdlib only.
"""

from __future__ import annotations

import hashlib
import http.client
import random
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Statuses the deploy client must never repeat a request for (errors.py: only 429/5xx/connection).
NO_RETRY = frozenset({400, 401, 403, 404, 409})
RETRYABLE = frozenset({429, 500, 502, 503, 504})
FAULTS = ("429", "429-retry-after", "500", "502", "503", "reset", "slow")
# How often serve_forever looks for shutdown(): close() waits up to this long. The
# default 0.5 s cost each test using the proxy half a second of teardown.
POLL_S = 0.02
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)


@dataclass(frozen=True)
class Record:
    """One request as the proxy saw it and what it answered (``status`` None = reset)."""

    run: str
    index: int  # arrival order within the run
    method: str
    path: str  # with the query string
    body_sha: str
    seen: int  # how many identical requests came before this one in the run
    fault: str | None  # what was injected, "" for a plain forward
    forwarded: bool  # did the server get it
    upstream: int | None  # the server's status, if forwarded
    status: int | None  # what the client got; None = connection reset
    at: float  # monotonic time the answer (or reset) went out

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.method, self.path, self.body_sha)


@dataclass
class Forced:
    """Answer ``status`` (or reset) to the ``nth`` request matching ``match``, forwarded or not."""

    match: Callable[[str, str], bool]  # (method, path) -> bool
    status: int | None  # None: a connection reset
    nth: int = 0
    seen: int = 0
    after: bool = False  # forward it first: the server acts, the answer is lost


@dataclass
class Schedule:
    """Seeded faults at ``rate`` (0..1); ``retry_after`` is the header value sent with 429s."""

    seed: int = 0
    rate: float = 0.0
    retry_after: str = "1"
    slow_s: float = 0.3
    kinds: tuple[str, ...] = FAULTS

    def decide(self, method: str, path: str, body_sha: str, seen: int) -> tuple[str | None, bool]:
        """(fault or None, after_forward) for this exact request; same inputs, same answer."""
        rng = random.Random(f"{self.seed}|{method}|{path}|{body_sha}|{seen}")
        if rng.random() >= self.rate:
            return None, False
        kind = rng.choice(self.kinds)
        # 429 means "not processed"; 5xx and resets may come after the server applied it.
        after = kind not in ("429", "429-retry-after", "slow") and rng.random() < 0.5
        return kind, after


class FaultProxy:
    """``with FaultProxy(upstream) as proxy: proxy.url`` — a threaded loopback proxy."""

    def __init__(self, upstream: str, schedule: Schedule | None = None) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the fault proxy only fronts loopback servers, got {upstream}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.schedule = schedule or Schedule()
        self.forced: list[Forced] = []
        # (index, method, path) on arrival, before forwarding; True = drop it (reset, unforwarded)
        self.on_arrival: Callable[[int, str, str], bool] | None = None
        self.records: list[Record] = []
        self.run = ""
        self._seen: Counter[tuple[str, str, str, str]] = Counter()
        self._arrivals: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---- lifecycle -----------------------------------------------------------------

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving (within ``POLL_S``) and close the listening socket."""
        if self._thread.is_alive():  # shutdown() waits for a serve_forever that must be running
            self._server.shutdown()
        self._server.server_close()

    def begin(self, run: str, schedule: Schedule | None = None) -> None:
        """Start a new run (one tool process): its own log slice and repeat counts."""
        with self._lock:
            self.run = run
            self._seen.clear()
            self.forced = []
            self.on_arrival = None
            if schedule is not None:
                self.schedule = schedule

    # ---- figures -------------------------------------------------------------------

    def of(self, run: str | None = None) -> list[Record]:
        with self._lock:
            return [r for r in self.records if run is None or r.run == run]

    def faults(self, run: str | None = None) -> Counter[str]:
        return Counter(
            f"{r.fault}{'-after' if r.forwarded and r.fault not in ('slow',) else ''}"
            for r in self.of(run)
            if r.fault
        )

    def statuses(self, run: str | None = None) -> Counter[str]:
        return Counter("reset" if r.status is None else str(r.status) for r in self.of(run))

    def retries(self, run: str | None = None) -> int:
        """Requests repeating an identical earlier one of the same run."""
        return sum(1 for r in self.of(run) if r.seen > 0)

    def retried_after(self, statuses: frozenset[int], run: str | None = None) -> list[Record]:
        """Requests that repeat one whose answer had a status in ``statuses`` (same run)."""
        last: dict[tuple[str, str, str, str], Record] = {}
        repeats = []
        for r in sorted(self.of(run), key=lambda r: (r.run, r.index)):
            before = last.get((r.run, *r.key))
            if before is not None and before.status in statuses:
                repeats.append(r)
            last[(r.run, *r.key)] = r
        return repeats

    # ---- the handler ---------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as requests' pool expects

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # the log is ``proxy.records``; stderr stays quiet

            def do_GET(self) -> None:
                proxy._handle(self)

            do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_GET

        return Handler

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        body_sha = hashlib.sha256(body).hexdigest()[:16]
        with self._lock:
            run = self.run
            key = (run, h.command, h.path, body_sha)
            seen = self._seen[key]
            self._seen[key] += 1
            index = self._arrivals[run]
            self._arrivals[run] += 1
            forced = None
            for f in self.forced:
                if f.match(h.command, h.path):
                    f.seen += 1
                    if f.seen - 1 == f.nth:
                        forced = f
        hook = self.on_arrival
        if hook is not None and hook(index, h.command, h.path):
            fault, after = "dropped", False
        elif forced is not None:
            fault, after = "forced", forced.after
        else:
            fault, after = self.schedule.decide(h.command, h.path, body_sha, seen)
        upstream: int | None = None
        answer: tuple[int, list[tuple[str, str]], bytes] | None = None
        forwarded = False
        if fault is None or after or fault == "slow":
            if fault == "slow":
                time.sleep(self.schedule.slow_s)  # the fault itself: an answer that takes long
            answer = self._forward(h, body)
            upstream, forwarded = answer[0], True
        status: int | None
        headers: list[tuple[str, str]] = []
        if forced is not None and forced.status is None:
            status, payload = None, b""
        elif forced is not None:
            status, payload = forced.status, _error_body(forced.status)
        elif fault in ("429", "429-retry-after"):
            status, payload = 429, _error_body(429)
            if fault == "429-retry-after":
                headers.append(("Retry-After", self.schedule.retry_after))
        elif fault in ("500", "502", "503"):
            status, payload = int(fault), _error_body(int(fault))
        elif fault in ("reset", "dropped"):
            status, payload = None, b""
        else:
            assert answer is not None
            status, headers, payload = answer
        record = Record(
            run,
            index,
            h.command,
            h.path,
            body_sha,
            seen,
            fault or "",
            forwarded,
            upstream,
            status,
            time.monotonic(),
        )
        with self._lock:
            self.records.append(record)
        if status is None:
            _reset(h)
            return
        try:
            h.send_response(status)
            for name, value in headers:
                h.send_header(name, value)
            if not any(n.lower() == "content-type" for n, _ in headers):
                h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(payload)
        except OSError:  # the client is gone (killed on purpose): nobody to answer
            h.close_connection = True

    def _forward(
        self, h: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=120)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = f"{self.upstream_host}:{self.upstream_port}"
            conn.request(h.command, h.path, body=body or None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
            ]
            return response.status, kept, payload
        finally:
            conn.close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A killed tool leaves its idle keep-alive connections to be reset: expected, not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _error_body(status: int) -> bytes:
    return (
        f'{{"error":"injected by the fault proxy: HTTP {status}","code":"fault{status}"}}'.encode()
    )


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Close with SO_LINGER 0: the client sees a TCP reset, not a polite end of stream."""
    h.close_connection = True
    try:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
    except OSError:
        pass


@dataclass
class Tally:
    """Figures summed over many runs, for the soak's printout."""

    runs: int = 0
    requests: int = 0
    retries: int = 0
    reruns: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, proxy: FaultProxy, run: str) -> None:
        self.requests += len(proxy.of(run))
        self.retries += proxy.retries(run)
        self.faults.update(proxy.faults(run))
        self.statuses.update(proxy.statuses(run))
