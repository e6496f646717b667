"""``python -m localwhisk.readiness LOGFILE [--timeout 15]``: wait for the server's ready line.

Polls the log the server writes (``make up`` starts it in the background) at a
short interval for a bounded time. Exit 0 with the ready line; exit 1 with the
log's last lines when the server reported a fatal error or the bound expired.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

READY = "listening on http://"
FATAL = ("localwhisk: error:", "Traceback (most recent call last)")
POLL_S = 0.05
TAIL = 20


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_ready(path: Path, timeout: float, pid: int | None = None) -> tuple[bool, str]:
    """(ready, ready line or the log's tail)."""
    deadline = time.monotonic() + timeout
    while True:
        text = _read(path)
        for line in text.splitlines():
            if READY in line:
                return True, line
        if any(marker in text for marker in FATAL) or not _alive(pid):
            return False, "\n".join(text.splitlines()[-TAIL:])
        if time.monotonic() >= deadline:
            tail = "\n".join(text.splitlines()[-TAIL:])
            return False, f"not ready after {timeout:g} s\n{tail}".rstrip()
        time.sleep(POLL_S)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localwhisk.readiness")
    parser.add_argument("logfile", type=Path)
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--pid", type=int, default=None, help="fail early if this process dies")
    args = parser.parse_args(argv)
    ready, text = wait_ready(args.logfile, args.timeout, args.pid)
    if ready:
        print(text, flush=True)
        return 0
    print(f"localwhisk did not start:\n{text}", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
