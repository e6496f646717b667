"""``make bench``: every figure printed beside its baseline, measured in the same run."""

from __future__ import annotations

import argparse

from bench import localwhisk_bench


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    args = parser.parse_args()
    print("== localwhisk ==")
    localwhisk_bench.run(quick=args.quick)


main()
