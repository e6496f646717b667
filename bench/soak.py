"""``make soak`` (issue #5): the long reliability runs, with figures; ``--only deploy|localwhisk|fuzz``.

The deploy half is the long version of ``tests/reliability/test_deploy_faults.py``
and ``test_deploy_sigkill.py``, on the same scenarios (``harness``) and proxy
(``faultproxy``), imported by path, against a fresh localwhisk on 127.0.0.1:

* faults: 50 seeded runs at 20 % injected faults (429 with and without Retry-After,
  500/502/503 before or after the server applied the request, resets, slow answers),
  each a fresh ``deploy`` then an ``undeploy`` as whole processes; after each deploy a
  plan against the server finds nothing to do, after each undeploy nothing of the
  project is left and the other project and a hand-made action are intact.
* SIGKILL: 30 seeded kill points (request, applied or not, from nothing or from an
  older version); each killed deploy converges on re-run and undeploys cleanly.

Figures: runs, faults injected by kind, answers by status, retries, re-runs, and
``lost`` (runs that did not converge) which must be 0; a failed check raises after
the figures so far are printed. The localwhisk half is ``bench.soak_localwhisk.run()``,
owned elsewhere, run when that module exists; the contract fuzz (issue #10) is
``bench.soak_fuzz.run()``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

RELIABILITY = Path(__file__).resolve().parents[1] / "tests" / "reliability"
if str(RELIABILITY) not in sys.path:
    sys.path.insert(0, str(RELIABILITY))

import harness as h  # noqa: E402
from faultproxy import NO_RETRY, FaultProxy  # noqa: E402

PARTS = ("deploy", "localwhisk", "containment", "fuzz")
FAULT_RUNS, FAULT_RATE, KILL_POINTS, SEED = 50, 0.2, 30, 2024


def _show(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"


def soak_faults(proxy: FaultProxy, server: str, root: Path, runs: int) -> int:
    """50 deploy + 50 undeploy runs through faults; returns the number that did not converge."""
    folder = h.write_app(root / "app", 1)
    home = root / "home"
    figures = h.FaultFigures()
    lost, started = 0, time.monotonic()
    for seed in range(runs):
        retry_after = "1" if seed % 2 else "0"  # both kinds of Retry-After, and the wait honoured
        try:
            h.fault_run(proxy, server, folder, home, seed, FAULT_RATE, figures, retry_after)
        except AssertionError:
            lost += 1
            print(f"  run {seed} did not converge:\n{traceback.format_exc()}")
            h.run_here(folder, server, home, "undeploy")  # the next run starts from nothing
    records = proxy.of()
    deploys = [r for r in records if r.run.startswith("deploy-")]
    undeploys = [r for r in records if r.run.startswith("undeploy-")]
    late = h.retry_after_honoured(
        proxy, 0.9, tuple(f"{v}-{s}#" for s in range(1, runs, 2) for v in ("deploy", "undeploy"))
    )
    print(
        f"faults: {runs} runs at {FAULT_RATE:.0%} in {time.monotonic() - started:.0f} s: "
        f"deploy runs ok {figures.deploy_runs}, undeploy runs ok {figures.undeploy_runs}, "
        f"re-runs after a clean exit 1: {figures.reruns}"
    )
    for label, part in (("deploy", deploys), ("undeploy", undeploys)):
        injected = Counter(
            f"{r.fault}{'-after' if r.forwarded and r.fault != 'slow' else ''}"
            for r in part
            if r.fault
        )
        statuses = Counter("reset" if r.status is None else str(r.status) for r in part)
        print(f"  {label}: requests {len(part)}, retries {sum(1 for r in part if r.seen)}")
        print(f"    faults injected ({sum(injected.values())}): {_show(injected)}")
        print(f"    answers by status: {_show(statuses)}")
    repeats = proxy.retried_after(NO_RETRY)
    print(f"  requests repeated after 400/401/403/404/409: {len(repeats)} (must be 0)")
    print(f"  retries sooner than Retry-After: {len(late)} (must be 0)")
    print(f"  lost = {lost}  (runs not converged to exactly the manifest / to nothing)")
    return lost + len(repeats) + len(late)


def soak_sigkill(proxy: FaultProxy, server: str, root: Path, points: int) -> int:
    folder = h.write_app(root / "kill-app", 1)
    home = root / "home"
    started = time.monotonic()
    counts = {start: h.count_requests(proxy, server, folder, home, start) for start in (0, 2)}
    chosen = h.kill_points(SEED, points, counts)
    lost, where = 0, Counter()
    for number, point in enumerate(chosen):
        try:
            figures = h.sigkill_run(proxy, server, folder, home, point, f"kill-{number}")
            verb, path = figures["killed_at"].split()
            parts = path.split("/")  # /api/v1/namespaces/_/<collection>/...
            what = parts[5] if len(parts) > 5 else "namespace" if len(parts) > 3 else "info"
            where[f"{verb} {what}{'' if point.applied else ' (dropped)'}"] += 1
        except AssertionError:
            lost += 1
            print(f"  kill point {number} {point} did not converge:\n{traceback.format_exc()}")
            h.run_here(folder, server, home, "undeploy")
    print(
        f"sigkill: {points} kill points in {time.monotonic() - started:.0f} s "
        f"(requests per undisturbed deploy: from nothing {counts[0]}, from v2 {counts[2]})"
    )
    print(f"  killed at: {_show(where)}")
    print(
        f"  from nothing {sum(1 for p in chosen if p.start == 0)}, "
        f"from v2 {sum(1 for p in chosen if p.start == 2)}"
    )
    print(f"  lost = {lost}  (re-runs not converged, or undeploy not leaving exactly the others)")
    return lost


def run_deploy(quick: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="soak-deploy-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        server = h.start_server(root / "data")
        try:
            h.setup_bystanders(server.url, root / "bystander", root / "home")
            with FaultProxy(server.url) as proxy:
                bad = soak_faults(proxy, server.url, root, 5 if quick else FAULT_RUNS)
            with FaultProxy(server.url) as proxy:
                bad += soak_sigkill(proxy, server.url, root, 5 if quick else KILL_POINTS)
        finally:
            server.stop()
    if bad:
        raise SystemExit(f"deploy soak: {bad} failed checks (see above)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--only", choices=PARTS, help="run one part only")
    parser.add_argument("--quick", action="store_true", help="a few runs of each (smoke run)")
    args = parser.parse_args()
    if args.only in (None, "deploy"):
        print("== deploy ==")
        run_deploy(quick=args.quick)
    # The localwhisk half is another module; a tree without it still soaks the deploy tool.
    if args.only in (None, "localwhisk") and importlib.util.find_spec("bench.soak_localwhisk"):
        from bench import soak_localwhisk

        print("\n== localwhisk ==")
        soak_localwhisk.run(quick=args.quick)
    if args.only in (None, "containment"):
        from bench import soak_containment

        print("\n== containment ==")
        soak_containment.run(quick=args.quick)
    if args.only in (None, "fuzz"):
        from bench import soak_fuzz

        print("\n== contract fuzz ==")
        soak_fuzz.run(quick=args.quick)


if __name__ == "__main__":
    main()
