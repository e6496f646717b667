"""``make soak``'s contract fuzz (issue #10): long schemathesis runs against a fresh localwhisk.

The long version of ``tests/reliability/test_lw_contract_fuzz.py``, on the same helper
(``tests/contract_fuzz.py``, imported by path): first the coverage and fuzzing phases
with many examples per operation, then a long stateful run (chains of create, read,
update, invoke and delete through the links schemathesis infers from the contract),
each bounded by a time budget, with the guest key and a fixed seed. Prints for each
run the requests made by status and the server errors, which must be 0; 5xx that
``contract_fuzz.KNOWN`` names (fixed on other branches) are counted apart and shown.
A run that finds a server error raises after every figure is printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
for _folder in (TESTS, TESTS / "reliability"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import contract_fuzz as cf  # noqa: E402
import lw_helpers as lw  # noqa: E402

# (label, phases, examples per operation, seconds; quick examples, quick seconds)
RUNS = (
    ("coverage+fuzzing", "coverage,fuzzing", 300, 150, 20, 20),
    ("stateful", "stateful", 100, 240, 20, 20),
)


def run(quick: bool = False) -> None:
    problems: list[str] = []
    total = errors = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-fuzz-") as tmp:
        root = Path(tmp)
        server = lw.start_server(root / "data")
        try:
            for label, phases, examples, seconds, quick_examples, quick_seconds in RUNS:
                budget = quick_seconds if quick else seconds
                began = time.monotonic()
                fuzzed = cf.fuzz(
                    server.url,
                    lw.GUEST_AUTH,
                    root / label,
                    max_examples=quick_examples if quick else examples,
                    phases=phases,
                    max_time_s=budget,
                    timeout_s=budget * 3 + 120,
                )
                total += fuzzed.requests
                errors += len(fuzzed.server_errors)
                print(f"fuzz {label}: {time.monotonic() - began:.0f} s, {fuzzed.summary()}")
                for exchange in fuzzed.server_errors[:10]:
                    print(f"  server error: {exchange}")
                for reason, exchange in fuzzed.known[:3]:
                    print(f"  known ({reason}): {exchange}")
                if fuzzed.server_errors:
                    problems.append(f"{label}: {len(fuzzed.server_errors)} server errors")
                if server.process is not None and server.process.poll() is not None:
                    problems.append(f"{label}: localwhisk exited ({server.process.returncode})")
                    break
        finally:
            code = server.stop()
    if code not in (0, None):
        problems.append(f"localwhisk did not stop cleanly (exit {code})")
    print(
        f"\ncontract fuzz soak: requests {total}, server errors {errors},"
        f" {time.monotonic() - started:.0f} s"
    )
    if problems:
        raise AssertionError("contract fuzz soak failed: " + "; ".join(problems))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_fuzz")
    parser.add_argument("--quick", action="store_true", help="small budgets, a smoke run")
    run(quick=parser.parse_args().quick)


if __name__ == "__main__":
    main()
