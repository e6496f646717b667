"""localwhisk reliability helpers: server start, the mixed-load driver, record checks, latency.

Owned by the localwhisk reliability tests (``test_lw_*.py``) and reused by
``bench/soak_localwhisk.py`` for the long runs, so the fast tests and the soak prove
the same properties with different sizes. Servers come from
``serverprocess.start_server``, the one that starts every test server.
Traffic goes to 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

# tests/ holds serverprocess and contract; pytest has it on the path, bench.soak_localwhisk
# (which loads this file by path) does not.
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from contract import (  # noqa: E402 (reachable after the insert)
    ContractError,
    load_spec,
    template_for,
    validate_response,
)
from serverprocess import GUEST_AUTH, ServerProcess, start_server  # noqa: E402

__all__ = [
    "GUEST_AUTH",
    "ContractError",
    "ServerProcess",
    "load_spec",
    "start_server",
    "template_for",
    "validate_response",
]

NS = "/api/v1/namespaces/_"
# A second tenant for the isolation tests (the key must be 64 characters).
OTHER_NAME = "other"
OTHER_AUTH = ("11111111-2222-4333-8444-555555555555", "K" * 64)
OTHER_SPEC = f"{OTHER_NAME}:{OTHER_AUTH[0]}:{OTHER_AUTH[1]}"

ECHO = "def main(args):\n    return {'n': args.get('n')}\n"
NOOP = "def main(args):\n    return {}\n"
# The same actions in each language the server runs; the reliability tests that take a
# ``language`` parameter run their scenario once per language, the same checks each time.
KINDS_OF = {"python": "python:3.11", "nodejs": "nodejs:20"}
ECHOES = {
    "python": ECHO,
    "nodejs": "function main(args) { return {n: args.n === undefined ? null : args.n} }",
}
NOOPS = {"python": NOOP, "nodejs": "function main() { return {} }"}
NODE = shutil.which("node")


def language_params() -> list[Any]:
    """``language`` for pytest.mark.parametrize: Node.js skipped, visibly, without node."""
    import pytest  # only the tests use this; bench.soak_localwhisk loads the module too

    no_node = pytest.mark.skipif(NODE is None, reason="needs node on PATH: Node.js NOT tested")
    return [pytest.param("python"), pytest.param("nodejs", marks=no_node)]


# Load entities: one action per kind of traffic, so records are easy to tell apart.
LOAD_ACTION = "lw-load"
WEB_ACTION = "lw-web"
RULE_ACTION = "lw-fired"
TRIGGER = "lw-trigger"
RULE = "lw-rule"
KINDS = ("blocking", "nonblocking", "web", "fire")
MIX = (0.35, 0.35, 0.15, 0.15)


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / "localwhisk.db"


def session(auth: tuple[str, str] | None = GUEST_AUTH) -> requests.Session:
    s = requests.Session()
    s.auth = auth
    return s


def put(s: requests.Session, url: str, path: str, body: Any, **kw: Any) -> requests.Response:
    response = s.put(url + path, json=body, params={"overwrite": "true"}, timeout=60, **kw)
    if response.status_code != 200:
        raise AssertionError(f"PUT {path}: {response.status_code} {response.text[:300]}")
    return response


def action_body(source: str, *, language: str = "python", **extra: Any) -> dict[str, Any]:
    return {"exec": {"kind": KINDS_OF[language], "code": source}, **extra}


def create_load_entities(url: str, language: str = "python") -> None:
    """The actions, trigger and rule the mixed load uses (idempotent)."""
    s = session()
    echo = ECHOES[language]
    put(s, url, f"{NS}/actions/{LOAD_ACTION}", action_body(echo, language=language))
    put(
        s,
        url,
        f"{NS}/actions/{WEB_ACTION}",
        action_body(echo, language=language, annotations=[{"key": "web-export", "value": True}]),
    )
    put(s, url, f"{NS}/actions/{RULE_ACTION}", action_body(echo, language=language))
    put(s, url, f"{NS}/triggers/{TRIGGER}", {})
    put(
        s,
        url,
        f"{NS}/rules/{RULE}",
        {"trigger": f"/_/{TRIGGER}", "action": f"/_/{RULE_ACTION}"},
    )
    s.close()


@dataclass
class LoadResult:
    acked: dict[str, str] = field(default_factory=dict)  # activation id -> kind
    statuses: Counter = field(default_factory=Counter)  # (kind, status) of every answer
    transport_errors: int = 0  # connection refused/reset: only expected around a kill
    sent: int = 0
    seconds: float = 0.0


def plan(total: int, seed: int) -> list[str]:
    """The seeded sequence of operations: the same run every time."""
    rng = random.Random(seed)
    return rng.choices(KINDS, weights=MIX, k=total)


def _one(s: requests.Session, url: str, kind: str, n: int) -> tuple[int, str | None]:
    """Send one operation; (status, acknowledged activation id or None)."""
    if kind == "blocking":
        r = s.post(f"{url}{NS}/actions/{LOAD_ACTION}?blocking=true", json={"n": n}, timeout=90)
        return r.status_code, r.headers.get("x-openwhisk-activation-id")
    if kind == "nonblocking":
        r = s.post(f"{url}{NS}/actions/{LOAD_ACTION}", json={"n": n}, timeout=90)
    elif kind == "web":
        r = s.get(f"{url}/api/v1/web/guest/default/{WEB_ACTION}.json?n={n}", timeout=90)
        return r.status_code, r.headers.get("x-openwhisk-activation-id")
    else:
        r = s.post(f"{url}{NS}/triggers/{TRIGGER}", json={"n": n}, timeout=90)
    ident = r.json().get("activationId") if r.status_code == 202 else None
    return r.status_code, ident


def run_load(
    url: str,
    total: int,
    clients: int = 64,
    seed: int = 5,
    on_progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """``total`` operations from ``clients`` keep-alive clients; every ack recorded.

    ``on_progress(acked so far)`` is called after each answer (the SIGKILL test kills
    the server from it). After a transport error a client keeps going, so a dead
    server makes every remaining operation fail fast instead of hanging.
    """
    ops = plan(total, seed)
    result = LoadResult()
    lock = threading.Lock()
    cursor = iter(enumerate(ops))

    def client() -> None:
        s = session()
        try:
            while True:
                with lock:
                    item = next(cursor, None)
                if item is None:
                    return
                n, kind = item
                try:
                    status, ident = _one(s, url, kind, n)
                except (requests.RequestException, ValueError):  # a kill can cut an answer anywhere
                    with lock:
                        result.transport_errors += 1
                        result.sent += 1
                    continue
                with lock:
                    result.sent += 1
                    result.statuses[(kind, status)] += 1
                    if ident is not None:
                        assert ident not in result.acked, f"id {ident} acknowledged twice"
                        result.acked[ident] = kind
                    done = len(result.acked)
                if on_progress is not None:
                    on_progress(done)
        finally:
            s.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(client) for _ in range(clients)]
        for future in futures:
            future.result()
    result.seconds = time.monotonic() - started
    return result


# -- checking the records -------------------------------------------------------------


def read_records(data_dir: Path) -> dict[str, tuple[int, dict[str, Any]]]:
    """activation id -> (running flag, record) straight from the database (read-only)."""
    db = sqlite3.connect(f"file:{db_path(data_dir)}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("select id, running, doc from activations").fetchall()
    finally:
        db.close()
    return {ident: (running, json.loads(doc)) for ident, running, doc in rows}


def integrity_check(data_dir: Path) -> str:
    db = sqlite3.connect(str(db_path(data_dir)), timeout=30)
    try:
        return db.execute("pragma integrity_check").fetchone()[0]
    finally:
        db.close()


def wait_settled(
    url: str,
    acked: dict[str, str],
    timeout: float = 120.0,
    auth: tuple[str, str] = GUEST_AUTH,
) -> None:
    """Bounded: until no acknowledged activation (nor its rule children) is still running.

    Asks the server (it sees records not yet written) for the ids still open; polls
    the shrinking set, so the cost is one GET per unfinished activation per round.
    ``auth`` is a key of the activations' namespace.
    """
    s = session(auth)
    open_ids = list(acked)
    deadline = time.monotonic() + timeout
    try:
        while open_ids:
            still = []
            for ident in open_ids:
                r = s.get(f"{url}{NS}/activations/{ident}", timeout=60)
                if r.status_code != 200:
                    still.append(ident)
            open_ids = still
            if open_ids and time.monotonic() > deadline:
                raise AssertionError(f"{len(open_ids)} activations never finished: {open_ids[:5]}")
            if open_ids:
                time.sleep(0.2)  # poll interval between rounds, not a wait for an event
    finally:
        s.close()


def settle_all(url: str, acked: dict[str, str], timeout: float = 120.0) -> int:
    """Wait (bounded) for the acknowledged activations and the rule activations their
    trigger records name; then make the server commit (a count request syncs its
    writer) so the database file holds everything. Returns the count it reported."""
    wait_settled(url, acked, timeout)
    s = session()
    try:
        children: dict[str, str] = {}
        for ident, kind in acked.items():
            if kind != "fire":
                continue
            record = s.get(f"{url}{NS}/activations/{ident}", timeout=60).json()
            for line in record.get("logs", []):
                child = json.loads(line).get("activationId")
                if child:
                    children[child] = "rule"
        wait_settled(url, children, timeout)
        counted = s.get(f"{url}{NS}/activations", params={"count": "true"}, timeout=60)
        return int(counted.json()["activations"])
    finally:
        s.close()


@dataclass
class Audit:
    records: int
    lost: list[str]  # acknowledged ids without a record
    unfinished: list[str]  # records still marked running
    failed_without_message: list[str]
    bad_trigger_logs: list[str]  # log entries naming no real activation (or twice)
    orphans: list[str]  # records nobody acknowledged and no trigger names (duplicates)
    statuses: Counter


def audit(data_dir: Path, acked: dict[str, str], allow_failed: bool = False) -> Audit:
    """One record per acknowledged activation, trigger logs naming real ones, no extras."""
    records = read_records(data_dir)
    lost = [i for i in acked if i not in records]
    unfinished = [i for i, (running, _) in records.items() if running]
    statuses: Counter = Counter()
    no_message = []
    for ident, (_, doc) in records.items():
        status = doc.get("status")
        statuses[status] += 1
        if status != "success":
            error = (
                (doc.get("result") or {}).get("error")
                if isinstance(doc.get("result"), dict)
                else None
            )
            if not allow_failed or not error:
                no_message.append(ident)
    named: Counter = Counter()
    bad_logs = []
    for ident, kind in acked.items():
        if kind != "fire" or ident not in records:
            continue
        for line in records[ident][1].get("logs", []):
            entry = json.loads(line)
            child = entry.get("activationId")
            if not entry.get("success") or child not in records:
                bad_logs.append(f"{ident}: {line}")
            elif records[child][1].get("name") != RULE_ACTION:
                bad_logs.append(f"{ident}: names {child} of {records[child][1].get('name')}")
            else:
                named[child] += 1
    bad_logs += [f"{child} named {n} times" for child, n in named.items() if n > 1]
    orphans = [i for i in records if i not in acked and i not in named]
    return Audit(len(records), lost, unfinished, no_message, bad_logs, orphans, statuses)


# -- latency while something else happens ----------------------------------------------


def p50_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000 if samples else float("nan")


def probe(url: str, count: int) -> tuple[list[float], list[float], int]:
    """``count`` GET /api/v1 and ``count`` warm no-op invokes on one keep-alive client.

    Returns (meta seconds, invoke seconds, answers that were not 200): the
    "every request answered" property and the p50 figures both come from here.
    """
    s = session()
    meta, invoke, bad = [], [], 0
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            r = s.get(f"{url}/api/v1", timeout=60)
            meta.append(time.perf_counter() - t0)
            bad += r.status_code != 200
            t0 = time.perf_counter()
            r = s.post(f"{url}{NS}/actions/lw-noop?blocking=true&result=true", json={}, timeout=60)
            invoke.append(time.perf_counter() - t0)
            bad += r.status_code != 200
    finally:
        s.close()
    return meta, invoke, bad


# -- poison batches (issue #10) ----------------------------------------------------------

# Writes its result line raw, as a runtime whose JSON writer allows it would (Node's
# JSON.stringify writes "\ud800" and any depth): the launcher's json.dumps answers once
# with the text the caller chose.
POISON_ACTION = (
    "import json\n"
    "def main(args):\n"
    "    real = json.dumps\n"
    "    def once(*a, **k):\n"
    "        json.dumps = real\n"
    "        return args['raw']\n"
    "    json.dumps = once\n"
    "    return {}\n"
)
# The same in Node.js: the launcher's JSON.stringify answers once with the caller's text.
POISON_ACTIONS = {
    "python": POISON_ACTION,
    "nodejs": (
        "function main(args) {\n"
        "  const real = JSON.stringify;\n"
        "  JSON.stringify = function () { JSON.stringify = real; return args.raw; };\n"
        "  return {};\n"
        "}\n"
    ),
}
POISON_RESULTS = {
    "depth 1,000": '{"d":' + "[" * 1000 + "1" + "]" * 1000 + "}",
    "lone surrogate": '{"s":"\\ud800"}',
    "integers beyond 64 bits": '{"n":123456789012345678901234567890,"m":-18446744073709551617}',
}
POISON_BODIES = {
    "depth 1,000": b'{"d":' + b"[" * 1000 + b"1" + b"]" * 1000 + b"}",
    "lone surrogate": b'{"s":"\\ud800"}',
    "integers beyond 64 bits": b'{"n":123456789012345678901234567890}',
}
STORABLE = "integers beyond 64 bits"  # accepted everywhere and stored as it is


@dataclass
class PoisonResult:
    sent: int = 0
    acked: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (namespace key, what)
    refused: int = 0  # 400 for a poisoned request body: never acknowledged
    server_errors: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # landed, but not as the platform reports it


def create_poison_entities(
    url: str, auths: dict[str, tuple[str, str]], language: str = "python"
) -> None:
    for auth in auths.values():
        s = session(auth)
        put(s, url, f"{NS}/actions/p-echo", action_body(ECHOES[language], language=language))
        poison = action_body(POISON_ACTIONS[language], language=language)
        put(s, url, f"{NS}/actions/p-poison", poison)
        put(s, url, f"{NS}/triggers/p-trigger", {})
        put(s, url, f"{NS}/rules/p-rule", {"trigger": "/_/p-trigger", "action": "/_/p-echo"})
        s.close()


def _poison_ops(rounds: int, auths: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(namespace key, operation, poison or "") in rounds: each poison among ordinary traffic."""
    ops = []
    names = list(auths)
    for n in range(rounds):
        for what in POISON_RESULTS:
            who = names[n % len(names)]
            ops += [(who, "result-blocking", what), (who, "result-nonblocking", what)]
            ops += [(who, "fire-body", what), (who, "invoke-body", what)]
        for i in range(12):
            ops.append((names[i % len(names)], ("nonblocking", "blocking", "fire")[i % 3], ""))
    random.Random(rounds).shuffle(ops)
    return ops


def _poison_one(
    s: requests.Session, url: str, op: str, what: str, n: int
) -> tuple[int, str | None]:
    base = f"{url}{NS}"
    json_type = {"Content-Type": "application/json"}
    if op in ("result-blocking", "result-nonblocking"):
        blocking = "true" if op == "result-blocking" else "false"
        r = s.post(
            f"{base}/actions/p-poison?blocking={blocking}",
            json={"raw": POISON_RESULTS[what]},
            timeout=90,
        )
        return r.status_code, r.headers.get("x-openwhisk-activation-id")
    if op == "fire-body":
        r = s.post(
            f"{base}/triggers/p-trigger", data=POISON_BODIES[what], headers=json_type, timeout=90
        )
    elif op == "invoke-body":
        r = s.post(
            f"{base}/actions/p-echo", data=POISON_BODIES[what], headers=json_type, timeout=90
        )
    elif op == "fire":
        r = s.post(f"{base}/triggers/p-trigger", json={"n": n}, timeout=90)
    else:
        blocking = "true" if op == "blocking" else "false"
        r = s.post(f"{base}/actions/p-echo?blocking={blocking}", json={"n": n}, timeout=90)
        return r.status_code, r.headers.get("x-openwhisk-activation-id")
    ident = r.json().get("activationId") if r.status_code == 202 else None
    return r.status_code, ident


def run_poison_batches(
    url: str,
    data_dir: Path,
    auths: dict[str, tuple[str, str]],
    rounds: int,
    clients: int = 16,
    language: str = "python",
) -> PoisonResult:
    """Poisoned results and bodies among other namespaces' traffic, from ``clients`` at once;
    then every acknowledged activation (and each fire's rule activations) is looked for
    in the database file."""
    create_poison_entities(url, auths, language)
    ops = _poison_ops(rounds, auths)
    result = PoisonResult()
    lock = threading.Lock()
    cursor = iter(enumerate(ops))

    def client() -> None:
        sessions = {who: session(auth) for who, auth in auths.items()}
        try:
            while (item := next(cursor, None)) is not None:  # next() on an iterator is atomic
                n, (who, op, what) = item
                status, ident = _poison_one(sessions[who], url, op, what, n)
                with lock:
                    result.sent += 1
                    if status >= 500 and not (op == "result-blocking" and status == 502):
                        result.server_errors.append(f"{op} {what}: {status}")
                    if op.endswith("-body") and what != STORABLE:
                        if status == 400:
                            result.refused += 1
                        else:
                            result.wrong.append(f"{op} {what}: {status}, expected 400")
                    if ident is not None:
                        result.acked[ident] = (who, f"{op} {what}".strip())
        finally:
            for s in sessions.values():
                s.close()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    _settle_poison(url, auths, result)
    records = read_records(data_dir)
    for ident, (_, label) in result.acked.items():
        doc = records.get(ident, (0, None))[1]
        if doc is None:
            result.lost.append(f"{ident} ({label})")
        elif label.startswith("result-"):
            what = label.split(" ", 1)[1]
            expected = "success" if what == STORABLE else "action developer error"
            if doc.get("status") != expected:
                result.wrong.append(f"{ident} ({label}): {doc.get('status')}, expected {expected}")
    return result


def _settle_poison(url: str, auths: dict[str, tuple[str, str]], result: PoisonResult) -> None:
    """Bounded: until every acknowledged activation and each fire's rule children are
    finished; the rule children join ``acked``. A count then makes the server commit."""
    sessions = {who: session(auth) for who, auth in auths.items()}
    deadline = time.monotonic() + 120
    try:
        waiting = dict(result.acked)
        while waiting:
            for ident, (who, label) in list(waiting.items()):
                r = sessions[who].get(f"{url}{NS}/activations/{ident}", timeout=60)
                if r.status_code != 200:
                    continue
                del waiting[ident]
                if label.startswith("fire"):
                    for line in r.json().get("logs", []):
                        child = json.loads(line).get("activationId")
                        if child:
                            result.acked[child] = (who, "rule")
                            waiting[child] = (who, "rule")
            if waiting and time.monotonic() > deadline:
                raise AssertionError(f"{len(waiting)} activations never finished")
            if waiting:
                time.sleep(0.2)  # poll interval between rounds, not a wait for an event
        for who, s in sessions.items():
            r = s.get(f"{url}{NS}/activations", params={"count": "true"}, timeout=60)
            if r.status_code != 200:
                result.server_errors.append(f"count in {who}: {r.status_code}")
    finally:
        for s in sessions.values():
            s.close()


# -- action processes seen from the host ----------------------------------------------


def descendants(root: int) -> dict[int, list[bytes]]:
    """pid -> argv of every live descendant of ``root``, read from /proc (host pids, so
    sandboxed processes in their own PID namespaces are found too)."""
    parents: dict[int, int] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                parents[int(entry)] = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found: dict[int, list[bytes]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid in [p for p, pp in parents.items() if pp == parent]:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    found[pid] = f.read().split(b"\0")
            except OSError:
                continue
            frontier.append(pid)
    return found


def action_processes(server_pid: int) -> set[int]:
    """Host pids of the server's action processes (Python or Node.js running a launcher),
    warm or spare; not the sandboxes around them."""
    return {
        pid
        for pid, argv in descendants(server_pid).items()
        if not argv[0].endswith(b"bwrap")
        and any(arg.endswith((b"launcher.py", b"launcher.js")) for arg in argv)
    }


def action_sandboxes(server_pid: int) -> set[int]:
    """The server's own children that hold action processes: the bubblewrap sandboxes, or
    the launchers themselves without one. The server reaps these."""
    children = set()
    for task in os.listdir(f"/proc/{server_pid}/task"):
        try:
            with open(f"/proc/{server_pid}/task/{task}/children") as f:
                children.update(int(pid) for pid in f.read().split())
        except OSError:
            continue
    return {
        pid
        for pid, argv in descendants(server_pid).items()
        if pid in children and any(arg.endswith((b"launcher.py", b"launcher.js")) for arg in argv)
    }
