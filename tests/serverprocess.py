"""A real localwhisk process on port 0: starting it, reading its ready line, stopping it.

The one owner of running ``python -m localwhisk`` for the tests: the integration
fixtures, the reliability tests and ``bench.soak`` all start servers through
``start_server``, so there is one ``ServerProcess`` class. ``--port 0`` binds a free
port and the server prints ``listening on http://...``; the start waits for that
line (bounded) and keeps everything the server printed for failure messages.

``tests/`` is not a package: pytest finds this module through ``pythonpath`` in
``pyproject.toml``; scripts outside pytest put ``tests/`` on ``sys.path`` first.
"""

from __future__ import annotations

import queue
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whiskfacts.guest import GUEST_KEY, GUEST_UUID

ROOT = Path(__file__).resolve().parents[1]
GUEST_AUTH = (GUEST_UUID, GUEST_KEY)
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass
class ServerProcess:
    """A started server (``process`` None: an external one, not ours to stop)."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str] | None
    output: list[str] = field(default_factory=list)

    def stop(self) -> int | None:
        """SIGTERM and wait (bounded); the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        return self.process.returncode


def _pump(stream: Any, lines: queue.Queue[str | None], keep: list[str]) -> None:
    for line in stream:
        keep.append(line)
        lines.put(line)
    lines.put(None)


def start_server(
    data_dir: Path,
    *extra: str,
    open_files: int | None = None,
    env: dict[str, str] | None = None,
) -> ServerProcess:
    """Start ``python -m localwhisk --port 0`` and wait (bounded) for its ready line.

    ``open_files`` lowers the server's own descriptor limit (only the child's: the
    test process may hold more descriptors than that already); ``env`` replaces the
    server's environment.
    """

    def limit_child() -> None:
        if open_files is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, hard))

    process = subprocess.Popen(
        [sys.executable, "-m", "localwhisk", "--port", "0", "--data", str(data_dir), *extra],
        preexec_fn=limit_child if open_files is not None else None,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = ServerProcess("", data_dir, process)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines, server.output), daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            server.stop()
            raise RuntimeError(
                f"localwhisk not ready in {READY_TIMEOUT_S} s: {server.output}"
            ) from None
        if line is None:
            process.wait(timeout=STOP_TIMEOUT_S)
            raise RuntimeError(
                f"localwhisk exited ({process.returncode}): {''.join(server.output)}"
            )
        if "listening on http://" in line:
            server.url = line.split("listening on ", 1)[1].split()[0]
            return server
