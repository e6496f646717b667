"""localwhisk soak (issue #5): the long versions of tests/reliability/test_lw_*.py, with figures.

Three parts, each against a fresh ``python -m localwhisk --port 0`` on 127.0.0.1:

* load: 20,000 seeded operations (blocking and non-blocking invokes, web actions,
  trigger fires) from 64 clients; every acknowledged activation has exactly one record.
* SIGKILL: three runs of mixed load killed at seeded points and restarted on the same
  data; every acknowledged activation is complete or failed with a message, entities
  are intact, ``PRAGMA integrity_check`` is ok.
* poison batches (issue #10): results nested 1,000 deep, with a lone surrogate or
  integers beyond 64 bits, and such request bodies, among two namespaces' ordinary
  invokes and fires; records sent, acknowledged, refused and lost (must be 0).
* misbehaving actions: p50 of GET /api/v1 and of a warm no-op invoke before and while
  the hostile actions of ``test_lw_misbehaving`` run over and over, and their outcomes.

``run(quick=True)`` shrinks every size (for a smoke run). Figures are printed; a lost,
duplicated or wrongly ended activation makes it raise after printing them.
The workload, checks and hostile actions are shared with the tests (imported by path).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

RELIABILITY = Path(__file__).resolve().parents[1] / "tests" / "reliability"
if str(RELIABILITY) not in sys.path:
    sys.path.insert(0, str(RELIABILITY))

import lw_helpers as lw  # noqa: E402
import test_lw_misbehaving as bad  # noqa: E402
import test_lw_sigkill as sk  # noqa: E402

CLIENTS = 64


class Tally:
    def __init__(self) -> None:
        self.runs = 0
        self.faults = 0
        self.activations = 0
        self.lost = 0
        self.problems: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.problems.append(what)


def load(tally: Tally, total: int) -> None:
    print(f"\nload: {total} operations from {CLIENTS} clients (seed 5)")
    with TemporaryDirectory(prefix="lw-soak-") as tmp:
        server = lw.start_server(Path(tmp) / "data")
        try:
            lw.create_load_entities(server.url)
            result = lw.run_load(server.url, total, CLIENTS, seed=5)
            counted = lw.settle_all(server.url, result.acked, timeout=600)
            audit = lw.audit(server.data_dir, result.acked)
        finally:
            server.stop()
    fires = sum(1 for kind in result.acked.values() if kind == "fire")
    by_kind = {k: sum(1 for v in result.acked.values() if v == k) for k in lw.KINDS}
    other = {f"{k}:{s}": n for (k, s), n in result.statuses.items() if s not in (200, 202)}
    print(f"  acknowledged           {len(result.acked)}  {by_kind}")
    print(f"  rate                   {len(result.acked) / result.seconds:.0f} ops/s")
    print(f"  other answers          {other or 'none'}  transport errors {result.transport_errors}")
    print(f"  records                {audit.records} (acked + rule activations = {total + fires})")
    print(f"  lost                   {len(audit.lost)}")
    print(f"  duplicated/unnamed     {len(audit.orphans)}")
    print(f"  bad trigger log lines  {len(audit.bad_trigger_logs)}")
    print(
        f"  unfinished             {len(audit.unfinished)}   not success {len(audit.failed_without_message)}"
    )
    tally.runs += 1
    tally.activations += audit.records
    tally.lost += len(audit.lost)
    tally.check(not other and result.transport_errors == 0, f"load: unexpected answers {other}")
    tally.check(audit.records == total + fires == counted, "load: record count")
    for name in ("lost", "orphans", "bad_trigger_logs", "unfinished", "failed_without_message"):
        tally.check(not getattr(audit, name), f"load: {name} {getattr(audit, name)[:3]}")


def sigkill(tally: Tally, runs: int, total: int) -> None:
    rng = random.Random(17)
    print(f"\nSIGKILL mid-load: {runs} runs of {total} operations, restart on the same data")
    for run in range(runs):
        kill_after = rng.randrange(total // 10, total // 2)
        with TemporaryDirectory(prefix="lw-soak-") as tmp:
            data = Path(tmp) / "data"
            server = lw.start_server(data)
            try:
                lw.create_load_entities(server.url)
                before = sk.entities(server.url)
                result = sk.kill_mid_load(server, total, CLIENTS, kill_after, seed=100 + run)
            finally:
                server.stop()
            integrity_killed = lw.integrity_check(data)
            restarted = lw.start_server(data)
            try:
                try:
                    audit = sk.check_after_restart(restarted, result.acked, before)
                    verdict = "ok"
                except AssertionError as exc:
                    audit = lw.audit(restarted.data_dir, result.acked, allow_failed=True)
                    verdict = f"FAILED: {str(exc)[:200]}"
            finally:
                restarted.stop()
            integrity_after = lw.integrity_check(data)
        interrupted = audit.statuses.get("whisk internal error", 0)
        print(
            f"  run {run + 1}: killed after {len(result.acked)} acks (aim {kill_after}),"
            f" {result.transport_errors} refused; after restart {audit.records} records,"
            f" {interrupted} marked interrupted, lost {len(audit.lost)},"
            f" integrity {integrity_killed}/{integrity_after}, {verdict}"
        )
        tally.runs += 1
        tally.faults += 1
        tally.activations += audit.records
        tally.lost += len(audit.lost)
        tally.check(verdict == "ok", f"sigkill run {run + 1}: {verdict}")
        tally.check(integrity_killed == integrity_after == "ok", "sigkill: integrity_check")


def misbehaving(tally: Tally, samples: int, rounds: int) -> None:
    print(
        f"\nmisbehaving actions: {len(bad.BAD)} kinds x {rounds} rounds; p50 over {samples} probes"
    )
    with TemporaryDirectory(prefix="lw-soak-") as tmp:
        server = lw.start_server(Path(tmp) / "data")
        try:
            bad.create_bad_actions(server.url)
            lw.probe(server.url, 20)  # warm the no-op
            meta0, inv0, bad0 = lw.probe(server.url, samples)
            wrong: list[str] = []
            ended: list[str] = []  # list.append is atomic across the worker threads
            stop = threading.Event()

            def hammer(name: str) -> None:
                for _ in range(rounds):
                    if stop.is_set():
                        return
                    try:
                        bad.check_record(name, bad.invoke_bad(server.url, name))
                        ended.append(name)
                    except AssertionError as exc:
                        wrong.append(f"{name}: {str(exc)[:160]}")

            workers = [threading.Thread(target=hammer, args=(n,)) for n in bad.BAD]
            for worker in workers:
                worker.start()
            meta1, inv1, bad1 = lw.probe(server.url, samples)
            for worker in workers:
                worker.join(timeout=600)
            stop.set()
        finally:
            server.stop()
    print(f"  {'':34} {'before':>10} {'during':>10}")
    print(f"  {'GET /api/v1 p50':34} {lw.p50_ms(meta0):>8.2f}ms {lw.p50_ms(meta1):>8.2f}ms")
    print(f"  {'warm no-op invoke p50':34} {lw.p50_ms(inv0):>8.2f}ms {lw.p50_ms(inv1):>8.2f}ms")
    print(
        f"  probes not answered 200: {bad0 + bad1}; hostile activations ended as the platform does: {len(ended)}, wrong: {len(wrong)}"
    )
    for line in wrong[:5]:
        print(f"    {line}")
    tally.runs += 1
    tally.faults += len(bad.BAD) * rounds
    tally.activations += len(ended) + 2 * samples
    tally.check(bad0 + bad1 == 0, "misbehaving: a probe was not answered 200")
    tally.check(not wrong, f"misbehaving: {wrong[:3]}")


def poison(tally: Tally, rounds: int) -> None:
    print(f"\npoison batches: {rounds} rounds, two namespaces, 16 clients")
    with TemporaryDirectory(prefix="lw-soak-") as tmp:
        server = lw.start_server(Path(tmp) / "data", "--namespace", lw.OTHER_SPEC)
        try:
            auths = {"guest": lw.GUEST_AUTH, "other": lw.OTHER_AUTH}
            result = lw.run_poison_batches(server.url, server.data_dir, auths, rounds)
        finally:
            code = server.stop()
    print(f"  requests sent          {result.sent}")
    print(f"  acknowledged           {len(result.acked)}  (with the rule activations fires named)")
    print(f"  refused (400)          {result.refused}")
    print(f"  server errors          {len(result.server_errors)}  {result.server_errors[:3]}")
    print(f"  wrongly recorded       {len(result.wrong)}  {result.wrong[:3]}")
    print(f"  lost                   {len(result.lost)}")
    print(f"  clean stop             {code == 0}")
    tally.runs += 1
    tally.activations += len(result.acked)
    tally.lost += len(result.lost)
    tally.check(not result.server_errors, "poison: server errors")
    tally.check(not result.wrong and code == 0, "poison: wrong records or unclean stop")


def run(quick: bool = False) -> None:
    started = time.monotonic()
    tally = Tally()
    load(tally, 2_000 if quick else 20_000)
    sigkill(tally, 1 if quick else 3, 1_000 if quick else 5_000)
    poison(tally, 5 if quick else 100)
    misbehaving(tally, 50 if quick else 300, 1 if quick else 3)
    print(
        f"\nlocalwhisk soak: runs {tally.runs}, faults injected {tally.faults},"
        f" activations {tally.activations}, lost = {tally.lost},"
        f" problems {len(tally.problems)}, {time.monotonic() - started:.0f} s"
    )
    if tally.problems:
        raise AssertionError("localwhisk soak failed: " + "; ".join(tally.problems))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_localwhisk")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    run(quick=parser.parse_args().quick)


if __name__ == "__main__":
    main()
