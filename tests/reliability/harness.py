"""The scenarios the reliability tests and ``bench.soak`` share: projects, tool runs, checks.

Owns the test projects (``rel-app`` in two versions, and a ``bystander`` project
plus a hand-made action that no undeploy of ``rel-app`` may touch), running the
deploy tool as a whole process (``python -m deploy``), and the convergence
checks: a ``plan`` straight against the server (not through the proxy) must
find nothing to do, and the namespace must hold exactly the expected names.
The scenarios themselves (``fault_run``, ``sigkill_run``) return their figures
so the fast tests assert on them and the soak prints them. Loopback only.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

# tests/ holds serverprocess; pytest has it on the path, bench.soak (which loads this
# file by path) does not.
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from faultproxy import NO_RETRY, FaultProxy, Schedule  # noqa: E402 (after the insert)
from serverprocess import GUEST_AUTH, ROOT, ServerProcess, start_server  # noqa: E402

__all__ = ["ServerProcess", "start_server"]
KEY = ":".join(GUEST_AUTH)
TOOL_TIMEOUT_S = 120.0
COLLECTIONS = ("packages", "actions", "triggers", "rules")


# ---- projects -------------------------------------------------------------------------

WORKER = "def main(args):\n    return {'job': 'done', 'version': %d}\n"
WEB = "def main(args):\n    return {'body': 'started'}\n"
ECHO = "def main(args):\n    return args\n"

APP_V1 = """\
project:
  name: rel-app
  packages:
    relpkg:
      actions:
        echo:
          function: actions/echo.py
          runtime: python:3.11
      sequences:
        twice: {actions: "echo, echo"}
    default:
      actions:
        worker:
          function: actions/worker
          runtime: python:3.11
          limits: {timeout: 120000}
        web:
          function: actions/web.py
          runtime: python:3.11
          web: true
          inputs: {worker_action: worker}
      triggers:
        tick: {}
      rules:
        tick-rule: {trigger: tick, action: worker}
"""
# v2 differs in every way a re-deploy of v1 must undo: changed code and limits, an extra
# action, a rule pointing elsewhere, a missing sequence and web flag.
APP_V2 = """\
project:
  name: rel-app
  packages:
    relpkg:
      actions:
        echo:
          function: actions/echo.py
          runtime: python:3.11
          limits: {memorySize: 512}
    default:
      actions:
        worker:
          function: actions/worker
          runtime: python:3.11
        web:
          function: actions/web.py
          runtime: python:3.11
        extra:
          function: actions/echo.py
          runtime: python:3.11
      triggers:
        tick: {}
        tock: {}
      rules:
        tick-rule: {trigger: tick, action: web}
"""
APP_NAMES = {
    1: {
        "packages": ["relpkg"],
        "actions": ["relpkg/echo", "relpkg/twice", "web", "worker"],
        "triggers": ["tick"],
        "rules": ["tick-rule"],
    },
    2: {
        "packages": ["relpkg"],
        "actions": ["extra", "relpkg/echo", "web", "worker"],
        "triggers": ["tick", "tock"],
        "rules": ["tick-rule"],
    },
}
BYSTANDER = """\
project:
  name: bystander
  packages:
    default:
      actions:
        keep-me: {function: keep.py, runtime: python:3.11}
      triggers:
        keep-trigger: {}
"""
BYSTANDER_NAMES = {"actions": ["keep-me"], "triggers": ["keep-trigger"]}
HANDMADE = "handmade"  # an action no project owns


def write_app(folder: Path, version: int) -> Path:
    (folder / "actions" / "worker").mkdir(parents=True, exist_ok=True)
    (folder / "actions" / "worker" / "__main__.py").write_text(WORKER % version)
    (folder / "actions" / "web.py").write_text(WEB)
    (folder / "actions" / "echo.py").write_text(ECHO)
    (folder / "manifest.yaml").write_text(APP_V1 if version == 1 else APP_V2)
    return folder


def write_bystander(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "keep.py").write_text(ECHO)
    (folder / "manifest.yaml").write_text(BYSTANDER)
    return folder


# ---- running the tool -----------------------------------------------------------------


def tool_env(apihost: str, home: Path) -> dict[str, str]:
    """The caller's environment minus any OpenWhisk credentials, aimed at ``apihost``."""
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("WHISK_", "AIO_", "WSK_"))
    }
    env.update(HOME=str(home), WHISK_APIHOST=apihost, WHISK_AUTH=KEY, PYTHONPATH=str(ROOT))
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "deploy", *args]


def run_tool(
    folder: Path, apihost: str, home: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args),
        cwd=folder,
        env=tool_env(apihost, home),
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
    )


def run_here(
    folder: Path, apihost: str, home: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``run_tool`` in this process (``deploy.cli.main``): the same code, without the
    interpreter start; for the set-up and check steps around the runs under test."""
    import contextlib
    import io

    from deploy.cli import main

    out, err = io.StringIO(), io.StringIO()
    environ = {"WHISK_APIHOST": apihost, "WHISK_AUTH": KEY}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "-m", str(folder / "manifest.yaml")], environ=environ, home=home)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def check_clean_failure(done: subprocess.CompletedProcess[str]) -> None:
    """A failed run is an error message, never a bug's traceback, and never shows the key."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (1, 2), (done.returncode, done.stderr)
    assert "error: " in done.stderr, done.stderr


# ---- what the namespace holds (straight from the server) ------------------------------


def listing(server: str) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for collection in COLLECTIONS:
        r = requests.get(
            f"{server}/api/v1/namespaces/_/{collection}",
            params={"limit": 200},
            auth=GUEST_AUTH,
            timeout=30,
        )
        r.raise_for_status()
        out[collection] = r.json()
    return out


def _name(doc: dict[str, Any]) -> str:
    _, _, package = str(doc.get("namespace", "")).partition("/")
    return f"{package}/{doc['name']}" if package else doc["name"]


def _project(doc: dict[str, Any]) -> str | None:
    for a in doc.get("annotations") or []:
        if a.get("key") == "whisk-managed" and isinstance(a.get("value"), dict):
            return a["value"].get("projectName")
    return None


def names_of(server: str, project: str | None) -> dict[str, list[str]]:
    """Names per collection owned by ``project`` (None = owned by nobody)."""
    return {
        collection: sorted(_name(d) for d in docs if _project(d) == project)
        for collection, docs in listing(server).items()
    }


def setup_bystanders(server: str, folder: Path, home: Path) -> None:
    done = run_here(write_bystander(folder), server, home, "deploy")
    assert done.returncode == 0, done.stderr
    body = {"exec": {"kind": "python:3.11", "code": ECHO}}
    r = requests.put(
        f"{server}/api/v1/namespaces/_/actions/{HANDMADE}",
        params={"overwrite": "true"},
        json=body,
        auth=GUEST_AUTH,
        timeout=30,
    )
    r.raise_for_status()


def bystanders_intact(server: str) -> None:
    mine = names_of(server, "bystander")
    assert {k: v for k, v in mine.items() if v} == BYSTANDER_NAMES, mine
    assert HANDMADE in names_of(server, None)["actions"]


def assert_converged(server: str, folder: Path, home: Path, version: int) -> None:
    """Exactly the manifest: the right names, and a plan against the server finds nothing to do."""
    assert names_of(server, "rel-app") == APP_NAMES[version]
    done = run_here(folder, server, home, "plan", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["plan"]["summary"]
    total = sum(len(v) for v in APP_NAMES[version].values())
    assert summary == {"create": 0, "update": 0, "delete": 0, "unchanged": total}, summary
    rule = requests.get(
        f"{server}/api/v1/namespaces/_/rules/tick-rule", auth=GUEST_AUTH, timeout=30
    ).json()
    assert rule.get("status") == "active", rule


def assert_gone(server: str) -> None:
    left = {k: v for k, v in names_of(server, "rel-app").items() if v}
    assert left == {}, f"undeploy left {left}"
    bystanders_intact(server)


# ---- scenario 1: deploy and undeploy through faults -----------------------------------


@dataclass
class FaultFigures:
    deploy_runs: int = 0
    undeploy_runs: int = 0
    reruns: int = 0  # tool runs that exited 1 (all retries spent) and were run again


def run_until_ok(
    proxy: FaultProxy,
    label: str,
    folder: Path,
    home: Path,
    args: tuple[str, ...],
    figures: FaultFigures,
    max_runs: int = 3,
) -> None:
    """Run the tool through the proxy; a run that gives up must fail cleanly and a re-run finish."""
    for attempt in range(max_runs):
        proxy.begin(f"{label}#{attempt}")
        done = run_tool(folder, proxy.url, home, *args)
        assert KEY.split(":")[1] not in done.stdout + done.stderr
        repeats = proxy.retried_after(NO_RETRY, proxy.run)
        assert not repeats, f"retried after a non-retryable status: {repeats}"
        if done.returncode == 0:
            return
        check_clean_failure(done)
        figures.reruns += 1
    raise AssertionError(f"{label}: no success in {max_runs} runs: {done.stderr}")


def fault_run(
    proxy: FaultProxy,
    server: str,
    folder: Path,
    home: Path,
    seed: int,
    rate: float,
    figures: FaultFigures,
    retry_after: str = "1",
) -> None:
    """Deploy a fresh v1 through faults, check it, undeploy through faults, check nothing is left."""
    proxy.schedule = Schedule(seed=seed, rate=rate, retry_after=retry_after)
    run_until_ok(proxy, f"deploy-{seed}", folder, home, ("deploy",), figures)
    figures.deploy_runs += 1
    assert_converged(server, folder, home, 1)
    proxy.schedule = Schedule(seed=seed + 10_000, rate=rate, retry_after=retry_after)
    run_until_ok(proxy, f"undeploy-{seed}", folder, home, ("undeploy",), figures)
    figures.undeploy_runs += 1
    assert_gone(server)


def retry_after_honoured(proxy: FaultProxy, minimum: float, runs: tuple[str, ...]) -> list[str]:
    """In runs named ``runs*``, every retry after a ``Retry-After`` 429 came ``minimum`` s later."""
    problems = []
    records = sorted(proxy.of(), key=lambda r: (r.run, r.index))
    for r in records:
        if r.fault != "429-retry-after" or not r.run.startswith(runs):
            continue
        later = [x for x in records if x.run == r.run and x.key == r.key and x.seen == r.seen + 1]
        if later and later[0].at - r.at < minimum:
            problems.append(f"{r.method} {r.path} retried after {later[0].at - r.at:.2f} s")
    return problems


# ---- scenario 2: SIGKILL at a chosen request ------------------------------------------


@dataclass(frozen=True)
class KillPoint:
    start: int  # the namespace holds nothing (0) or rel-app v2 (2) before the killed deploy
    index: int  # the request (arrival order) at which the process dies
    applied: bool  # does that request still reach the server


def kill_points(seed: int, count: int, requests_by_start: dict[int, int]) -> list[KillPoint]:
    """``count`` distinct points drawn (seeded, without repeats) from every request of every
    start, applied or dropped: 30 of the 72 for rel-app, so every kind of request is met."""
    every = [
        KillPoint(start, index, applied)
        for start, total in sorted(requests_by_start.items())
        for index in range(total)
        for applied in (False, True)
    ]
    return random.Random(seed).sample(every, min(count, len(every)))


def prepare_start(server: str, folder: Path, home: Path, start: int) -> None:
    """Bring the namespace to ``start``: rel-app absent, or rel-app v2 deployed on nothing.

    Always from nothing, so the killed deploy meets the same state (and makes the same
    requests) as the undisturbed one that measured the kill range.
    """
    done = run_here(folder, server, home, "undeploy")
    assert done.returncode == 0, done.stderr
    if start == 2:
        write_app(folder, 2)
        done = run_here(folder, server, home, "deploy")
        assert done.returncode == 0, done.stderr
    write_app(folder, 1)


def count_requests(proxy: FaultProxy, server: str, folder: Path, home: Path, start: int) -> int:
    """How many requests an undisturbed v1 deploy from ``start`` makes (the kill range)."""
    prepare_start(server, folder, home, start)
    proxy.begin(f"count-{start}", Schedule())
    done = run_here(folder, proxy.url, home, "deploy")
    assert done.returncode == 0, done.stderr
    return len(proxy.of(proxy.run))


def sigkill_run(
    proxy: FaultProxy, server: str, folder: Path, home: Path, point: KillPoint, label: str
) -> dict[str, Any]:
    """Kill a v1 deploy at ``point``; re-run it; check; undeploy; check. Returns figures."""
    prepare_start(server, folder, home, point.start)
    proxy.begin(label, Schedule())
    process = subprocess.Popen(
        command("deploy"),
        cwd=folder,
        env=tool_env(proxy.url, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed_at: list[str] = []

    def on_arrival(index: int, method: str, path: str) -> bool:
        if index != point.index:
            return False
        killed_at.append(f"{method} {path.split('?')[0]}")
        os.kill(process.pid, signal.SIGKILL)
        # dead before the request is (or is not) applied; the main thread reaps it
        wait_until(lambda: _dead(process.pid), 10.0, "the killed deploy to die")
        return not point.applied  # True = drop it: the server never sees it

    proxy.on_arrival = on_arrival
    try:
        process.communicate(timeout=TOOL_TIMEOUT_S)
    finally:
        proxy.on_arrival = None
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert killed_at, f"{label}: the deploy finished before request {point.index}"
    assert process.returncode == -signal.SIGKILL
    rerun = run_here(folder, server, home, "deploy")
    assert rerun.returncode == 0, f"{label}: re-run after kill at {killed_at}: {rerun.stderr}"
    assert_converged(server, folder, home, 1)
    bystanders_intact(server)
    gone = run_here(folder, server, home, "undeploy")
    assert gone.returncode == 0, gone.stderr
    assert_gone(server)
    return {"killed_at": killed_at[0], "requests_before_kill": point.index}


def _dead(pid: int) -> bool:
    """Gone or a zombie (``/proc/<pid>/stat`` state Z): it will never send another byte."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.05)  # poll interval, bounded by the deadline
