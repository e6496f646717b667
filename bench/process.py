"""Starting and watching a localwhisk process for benchmarks (port 0, ready line, RSS)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from whiskfacts.guest import GUEST_AUTH

GUEST = GUEST_AUTH  # "uuid:key", what bench.http and deploy_bench send

READY = re.compile(r"listening on (http://\S+)")


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    data: Path

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.data, ignore_errors=True)  # its database and code folders


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(*extra: str) -> Server:
    data = Path(tempfile.mkdtemp(prefix="lw-bench-"))
    process = subprocess.Popen(
        [sys.executable, "-m", "localwhisk", "--port", "0", "--data", str(data), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 20
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"localwhisk exited with {process.wait()} before it was ready")
        match = READY.search(line)
        if match:
            # Keep draining its output so a chatty server never blocks on a full pipe.
            import threading

            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return Server(process, match.group(1), data)
    process.kill()
    raise RuntimeError("localwhisk printed no ready line within 20 s")


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) so far of ``pid`` and every live descendant.

    What a figure costs in work, whatever the machine's load does to its wall time:
    a busy VM stretches wall times of many-hop paths more than of short ones.
    """
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += spent.get(current, 0.0)
        todo += [child for child, parent in parents.items() if parent == current]
    return total
