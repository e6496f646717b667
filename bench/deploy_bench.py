"""Deploy figures (issue 4): ``python -m deploy`` against aio-lib-runtime on the same local server.

Owns the deploy half of ``make bench``: the fixtures (the repo's ``manifest.yaml`` and a
generated 200-action project, each with a Node.js-kind copy for the peer, written under a
temp dir at run time), running both tools as whole processes on loopback, and printing every
figure beside its same-run baseline. The peer is ``bench/peer/deploy.js`` (``aio rt deploy
sync`` without the CLI around it). Each cold deploy gets a fresh server; ours and the peer's
runs alternate so drift on the machine hits both. Peak RSS and CPU come from ``wait4`` on
each child. The --parallelism curve is drawn on loopback and through ``DelayProxy`` (a
10 ms round trip), because loopback alone cannot show what parallelism is for.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.process import GUEST, Server, start_server

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / "bench" / "peer"
ACTIONS = 200
PARALLELISM = (1, 4, 8, 16)
FAR_DELAY = 0.005  # seconds each way through DelayProxy: a 10 ms round trip
# The child counts calls by method on both transports the tool may use (the standard
# library's by default, requests' behind a proxy); used only for the request-count runs,
# never for the timed ones.
COUNTING = """
import atexit, collections, json, sys
import requests
from deploy.http.transport import HttpSession
counts = collections.Counter()
def counting(original):
    def request(self, method, url, *args, **kwargs):
        counts[method.upper()] += 1
        return original(self, method, url, *args, **kwargs)
    return request
requests.Session.request = counting(requests.Session.request)
HttpSession.request = counting(HttpSession.request)
atexit.register(lambda: print("methods: " + json.dumps(counts), file=sys.stderr))
from deploy.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Run:
    seconds: float
    rss_mb: float
    out: str
    err: str
    cpu: float = 0.0  # the child's user + system seconds: steadier than wall on a busy box

    def requests(self) -> int | None:
        """Ours prints ``requests: N`` with -v; the peer prints a JSON line with its count."""
        match = re.search(r"^requests: (\d+)$", self.err, re.M)
        if match:
            return int(match.group(1))
        for line in self.out.splitlines():
            if line.startswith("{"):
                return json.loads(line).get("requests")
        return None

    def entities(self) -> int | None:
        """Entities written: ours from the plan summary, the peer's from its JSON line."""
        match = re.search(r"^summary: (\d+) to create, (\d+) to update", self.out, re.M)
        if match:
            return int(match.group(1)) + int(match.group(2))
        for line in self.out.splitlines():
            if line.startswith("{"):
                doc = json.loads(line)
                return doc["packages"] + doc["actions"] + doc["triggers"] + doc["rules"]
        return None

    def methods(self) -> dict[str, int]:
        match = re.search(r"^methods: (\{.*\})$", self.err, re.M)
        return json.loads(match.group(1)) if match else {}


def child(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run one process to completion: wall time and its own peak RSS (``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(
            seconds,
            usage.ru_maxrss / 1024,
            out.read().decode(),
            err.read().decode(),
            usage.ru_utime + usage.ru_stime,
        )
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])} exited {process.returncode}:\n{run.out[-1500:]}{run.err[-1500:]}"
        )
    return run


# ---- fixtures --------------------------------------------------------------------------


@dataclass
class Fixture:
    name: str
    ours: Path  # manifest for python -m deploy
    peer: Path  # the peer's copy: Node.js kinds, zips it can read
    change: Callable[[], None] | None = None  # edits one action's source (ours only)


def _zip(sources: dict[str, bytes], target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(sources.items()):
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return target


def bundle_fixture(tmp: Path) -> Fixture:
    """The repo's manifest.yaml as is, and the same project for the peer (zips, nodejs:20)."""
    peer = tmp / "bundle-peer"
    peer.mkdir()
    zips = {
        name: _zip(
            {p.name: p.read_bytes() for p in (ROOT / "actions" / folder).iterdir() if p.is_file()},
            peer / f"{name}.zip",
        )
        for name, folder in (("my-worker", "worker"), ("test", "web_action"))
    }
    (peer / "manifest.yaml").write_text(
        f"""project:
  name: openwhisk-async
  packages:
    default:
      actions:
        my-worker:
          function: {zips["my-worker"]}
          runtime: nodejs:20
          limits:
            timeout: 120000
        test:
          function: {zips["test"]}
          runtime: nodejs:20
          web: true
          inputs:
            worker_action: my-worker
          annotations:
            provide-api-key: true
      triggers:
        my-worker-trigger: {{}}
      rules:
        async-rule:
          trigger: my-worker-trigger
          action: my-worker
"""
    )
    return Fixture(
        "bundle (2 actions, 1 trigger, 1 rule)", ROOT / "manifest.yaml", peer / "manifest.yaml"
    )


def many_fixture(tmp: Path, count: int = ACTIONS) -> Fixture:
    """``count`` single-file Python actions in one project; the peer gets the same code zipped."""
    ours, peer = tmp / "many", tmp / "many-peer"
    (ours / "src").mkdir(parents=True)
    peer.mkdir()
    ours_lines = ["project:", "  name: bench-many", "  packages:", "    default:", "      actions:"]
    peer_lines = list(ours_lines)
    for i in range(count):
        name = f"a{i:03d}"
        code = f"def main(args):\n    return {{'action': {name!r}, 'n': {i}}}\n"
        (ours / "src" / f"{name}.py").write_text(code)
        archive = _zip({"__main__.py": code.encode()}, peer / f"{name}.zip")
        ours_lines += [f"        {name}:", f"          function: src/{name}.py"]
        ours_lines += ["          runtime: python:3.11"]
        peer_lines += [f"        {name}:", f"          function: {archive}"]
        peer_lines += ["          runtime: nodejs:20"]
    (ours / "manifest.yaml").write_text("\n".join(ours_lines) + "\n")
    (peer / "manifest.yaml").write_text("\n".join(peer_lines) + "\n")

    def change() -> None:
        source = ours / "src" / "a007.py"
        source.write_text(source.read_text() + f"# changed {time.time_ns()}\n")

    return Fixture(f"{count} actions", ours / "manifest.yaml", peer / "manifest.yaml", change)


# ---- the two tools -----------------------------------------------------------------------


def _base_env(home: Path) -> dict[str, str]:
    # Only the given credentials: nothing from the caller's WHISK_*/AIO_*/.wskprops. Python
    # children keep byte code (in a cache beside HOME, not in the tree) as an installed tool
    # does: without it every run recompiles the deploy package (~50 ms), which no user pays.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("WHISK_", "AIO_", "__OW_", "PYTHONDONTWRITEBYTECODE"))
    }
    return {**env, "HOME": str(home), "PYTHONPYCACHEPREFIX": str(home.parent / "pycache")}


def _env(server: Server | DelayProxy, home: Path) -> dict[str, str]:
    return {
        **_base_env(home),
        "WHISK_APIHOST": server.url,
        "WHISK_AUTH": GUEST,
        "WHISK_NAMESPACE": "guest",
    }


def ours(
    server: Server | DelayProxy, home: Path, manifest: Path, *extra: str, counting: bool = False
) -> Run:
    head = [sys.executable, "-c", COUNTING] if counting else [sys.executable, "-m", "deploy"]
    return child([*head, "deploy", "-v", "-m", str(manifest), *extra], _env(server, home), ROOT)


def peer(server: Server, home: Path, manifest: Path) -> Run:
    return child(["node", str(PEER / "deploy.js"), str(manifest)], _env(server, home), PEER)


def ensure_peer() -> None:
    if not (PEER / "node_modules" / "@adobe" / "aio-lib-runtime").is_dir():
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=PEER, check=True)


# ---- printing ----------------------------------------------------------------------------


def row(name: str, value: str, baseline: str = "", ratio: str = "", goal: str = "") -> None:
    print(
        f"  {name:<46} {value:>12}   {baseline:>14}   {ratio:>8}   {'goal ' + goal if goal else ''}"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def med(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


# ---- figures -----------------------------------------------------------------------------


# What a deploy imports before its first request: the floor under any no-op redeploy.
DEPLOY_IMPORTS = (
    "import yaml, deploy.cli, deploy.commands, deploy.manifest.loader, deploy.bundle,"
    " deploy.http.client, deploy.http.transport, deploy.plan, deploy.state, deploy.preflight, deploy.ui"
)


def help_time(home: Path, samples: int) -> None:
    env = _base_env(home)
    commands = {
        "bare": [sys.executable, "-c", "pass"],
        "help": [sys.executable, "-m", "deploy", "--help"],
        "requests": [sys.executable, "-c", "import requests"],
        "imports": [sys.executable, "-c", DEPLOY_IMPORTS],
    }
    for argv in commands.values():
        child(argv, env, ROOT)  # warm-up: page cache, byte-code cache
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(samples):  # interleaved, so drift on the machine hits all of them
        for name, argv in commands.items():
            runs[name].append(child(argv, env, ROOT))
    b, h, r, i = (med(runs[name]) for name in commands)
    print(f"\nstart-up (median of {samples})")
    row("python -c pass (baseline)", ms(b))
    row("python -m deploy --help", ms(h), ms(b), f"{h / b:.2f}x", "<= 150 ms")
    row("  for reference: import requests", ms(r), ms(b), f"{r / b:.2f}x")
    row("  for reference: every module a deploy imports", ms(i), ms(b), f"{i / b:.2f}x")


def compare(fixture: Fixture, home: Path, samples: int, goals: tuple[str, str]) -> list[Run]:
    """Cold and no-op deploys, ours and the peer's alternating, each pair on a fresh server."""
    cold, noop, peer_cold, peer_noop = [], [], [], []
    for i in range(samples):
        for side in ("ours", "peer") if i % 2 == 0 else ("peer", "ours"):
            server = start_server()
            try:
                if side == "ours":
                    cold.append(ours(server, home, fixture.ours))
                    noop.append(ours(server, home, fixture.ours))
                else:
                    peer_cold.append(peer(server, home, fixture.peer))
                    peer_noop.append(peer(server, home, fixture.peer))
            finally:
                server.stop()
    c, n, pc, pn = med(cold), med(noop), med(peer_cold), med(peer_noop)
    print(f"\n{fixture.name}: median of {samples} alternating runs, whole processes")
    row("peer cold deploy (aio-lib-runtime)", ms(pc), "", "", "")
    row("cold deploy", ms(c), ms(pc), f"{c / pc:.2f}x", goals[0])
    row("peer no-op redeploy (re-PUTs everything)", ms(pn))
    row("no-op redeploy", ms(n), ms(pn), f"{n / pn:.2f}x", goals[1])
    row(
        "entities written: cold (ours / peer)",
        f"{cold[0].entities()}",
        f"{peer_cold[0].entities()}",
    )
    for label, mine, theirs in (("cold", cold, peer_cold), ("no-op", noop, peer_noop)):
        a, b = (statistics.median(r.cpu for r in runs) for runs in (mine, theirs))
        row(f"  client CPU, {label} (ours / peer)", ms(a), ms(b), f"{a / b:.2f}x")
    row("requests: cold (ours / peer)", f"{cold[0].requests()}", f"{peer_cold[0].requests()}")
    row("requests: no-op (ours / peer)", f"{noop[0].requests()}", f"{peer_noop[0].requests()}")
    return cold + noop


def counts(fixture: Fixture, home: Path) -> list[Run]:
    """Requests by method for a cold, a no-op and a one-action-changed deploy (untimed)."""
    server = start_server()
    try:
        cold = ours(server, home, fixture.ours, counting=True)
        noop = ours(server, home, fixture.ours, counting=True)
        runs = [cold, noop]
        print(f"\n{fixture.name}: requests by method (ours)")
        row("cold deploy", _methods(cold))
        row("no-op redeploy", _methods(noop), "", "", "no PUT; only list pages (<= 10)")
        if fixture.change is not None:
            fixture.change()
            changed = ours(server, home, fixture.ours, counting=True)
            runs.append(changed)
            row("one action changed", _methods(changed), "", "", "exactly one PUT")
    finally:
        server.stop()
    return runs


def _methods(run: Run) -> str:
    found = run.methods()
    return " ".join(f"{k} {v}" for k, v in sorted(found.items())) or "?"


class DelayProxy:
    """A TCP relay on 127.0.0.1 that holds each chunk ``delay`` seconds each way.

    Loopback makes a deploy CPU-bound, where parallelism only overlaps client and
    server CPU; against a real OpenWhisk every request waits a round trip, which is what
    parallelism is for. A few milliseconds each way stand in for that far server.
    """

    def __init__(self, upstream: str, delay: float) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.delay = delay
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the delay proxy did not start")

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", 0)
        )
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        ready.set()
        self.loop.run_forever()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(
                self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
            )
        except asyncio.CancelledError:
            pass  # stop(): ends quietly (asyncio logs a stream handler that ends cancelled)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        due = 0.0  # strictly increasing, so chunks leave in the order they came
        try:
            while data := await reader.read(65536):
                due = max(due + 1e-6, self.loop.time() + self.delay)
                self.loop.call_at(due, writer.write, data)
        finally:
            self.loop.call_at(max(due, self.loop.time()) + 1e-6, writer.close)

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def _curve(
    fixture: Fixture, home: Path, samples: int, delay: float
) -> tuple[dict[int, float], list[Run]]:
    runs: dict[int, list[Run]] = {p: [] for p in PARALLELISM}
    for i in range(samples):
        order = PARALLELISM if i % 2 == 0 else tuple(reversed(PARALLELISM))
        for p in order:
            server = start_server()
            proxy = DelayProxy(server.url, delay) if delay else None
            try:
                target = proxy if proxy else server
                runs[p].append(ours(target, home, fixture.ours, "--parallelism", str(p)))
            finally:
                if proxy:
                    proxy.stop()
                server.stop()
    return {p: med(r) for p, r in runs.items()}, [r for rs in runs.values() for r in rs]


def parallelism_curve(fixture: Fixture, home: Path, samples: int) -> list[Run]:
    near, near_runs = _curve(fixture, home, samples, 0.0)
    far_samples = max(2, samples // 2)
    far, far_runs = _curve(fixture, home, far_samples, FAR_DELAY)
    print(f"\n{fixture.name}: cold deploy by --parallelism (fresh server each)")
    for title, medians, _ in (
        (f"loopback, median of {samples}", near, samples),
        (
            f"+{FAR_DELAY * 2000:.0f} ms round trip (delay relay), median of {far_samples}",
            far,
            far_samples,
        ),
    ):
        print(f"  {title}")
        for p, m in medians.items():
            base = medians[PARALLELISM[0]]
            row(
                f"  --parallelism {p}" + (" (baseline)" if p == PARALLELISM[0] else ""),
                ms(m),
                ms(base) if p != PARALLELISM[0] else "",
                f"{m / base:.2f}x" if p != PARALLELISM[0] else "",
            )
    # The default: the smallest setting within 10% of the best against the far server (what
    # parallelism is for) that also stays within 10% of the best on loopback (no GIL thrash).
    far_best, near_best = min(far.values()), min(near.values())
    fits = [p for p in PARALLELISM if far[p] <= far_best * 1.1 and near[p] <= near_best * 1.1]
    pick = min(fits) if fits else min(far, key=far.__getitem__)
    print(f"  picked --parallelism {pick} from these curves; the CLI default is {_default()}")
    return near_runs + far_runs


def _default() -> int:
    from deploy.cli import build_parser

    parser = build_parser()
    return parser.parse_args(["deploy"]).parallelism


def run(quick: bool) -> None:
    ensure_peer()
    samples = 3 if quick else 7  # medians of 7: other work on the machine skews single runs
    tmp = Path(tempfile.mkdtemp(prefix="deploy-bench-"))
    home = tmp / "home"  # an empty HOME: no .wskprops of the person running the bench
    home.mkdir()
    try:
        version = json.loads(
            (PEER / "node_modules" / "@adobe" / "aio-lib-runtime" / "package.json").read_text()
        )["version"]
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        print(
            f"peer: @adobe/aio-lib-runtime {version} on node {node}, bench/peer/deploy.js"
            " (syncProject, as `aio rt deploy sync`); its actions are nodejs:20 (stored, not run)"
        )
        help_time(home, 5 if quick else 10)
        bundle = bundle_fixture(tmp)
        many = many_fixture(tmp)
        all_runs = compare(bundle, home, samples, ("<= 0.4x", "<= 0.35x, no upload"))
        all_runs += counts(bundle, home)
        all_runs += compare(many, home, samples, ("<= 0.3x", "<= 0.1x"))
        all_runs += counts(many, home)
        all_runs += parallelism_curve(many, home, 2 if quick else samples)
        peak = max(r.rss_mb for r in all_runs)
        print("\nmemory")
        row("peak RSS of any deploy process (ours)", f"{peak:.1f} MB", "", "", "<= 80 MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
