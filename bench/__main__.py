"""``make bench``: every figure printed beside its baseline, measured in the same run."""

from __future__ import annotations

import argparse
import importlib.util

from bench import async_bench, containment_bench, dashboard_bench, localwhisk_bench

PARTS = ("localwhisk", "async", "containment", "dashboard", "deploy", "dependencies")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    parser.add_argument("--only", choices=PARTS, help="run one part only")
    args = parser.parse_args()
    if args.only in (None, "localwhisk"):
        print("== localwhisk ==")
        localwhisk_bench.run(quick=args.quick)
    if args.only in (None, "async"):
        print("\n== the async pattern ==")
        async_bench.run(quick=args.quick)
    if args.only in (None, "containment"):
        print("\n== containment ==")
        containment_bench.run(quick=args.quick)
    if args.only in (None, "dashboard"):
        print("\n== the dashboard (headless chromium) ==")
        dashboard_bench.run(quick=args.quick)
    # The deploy half is a separate module; a tree without it still benchmarks localwhisk.
    if args.only in (None, "deploy") and importlib.util.find_spec("bench.deploy_bench"):
        from bench import deploy_bench

        print("\n== deploy ==")
        deploy_bench.run(quick=args.quick)
    if args.only in (None, "dependencies"):
        from bench import dependencies_bench

        print("\n== dependencies ==")
        dependencies_bench.run(quick=args.quick)


main()
