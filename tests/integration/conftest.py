"""A real localwhisk process for the integration tests, started once per session.

``python -m localwhisk --port 0`` binds a free port and prints its ready line; the
fixture reads that line (bounded wait) and yields the URL. Set ``OW_TEST_APIHOST``
(and optionally ``OW_TEST_AUTH`` as ``uuid:key``) to run the same tests against
another OpenWhisk instead. ``start_server`` is reused by tests that restart.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lw_client import Client, wait_for

from whiskfacts.guest import GUEST_KEY, GUEST_UUID

ROOT = Path(__file__).resolve().parents[2]
GUEST_AUTH = (GUEST_UUID, GUEST_KEY)
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass
class ServerProcess:
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


def start_server(data_dir: Path, *extra: str) -> ServerProcess:
    """Start ``python -m localwhisk --port 0`` and wait (bounded) for its ready line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "localwhisk", "--port", "0", "--data", str(data_dir), *extra],
        cwd=ROOT,
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


@pytest.fixture(scope="session")
def localwhisk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    external = os.environ.get("OW_TEST_APIHOST")
    if external:
        yield ServerProcess(external.rstrip("/"), Path(), None)
        return
    server = start_server(tmp_path_factory.mktemp("localwhisk-data"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def localwhisk_url(localwhisk_server: ServerProcess) -> str:
    return localwhisk_server.url


@pytest.fixture(scope="session")
def guest_auth() -> tuple[str, str]:
    external = os.environ.get("OW_TEST_AUTH")
    if external:
        uuid, _, key = external.partition(":")
        return uuid, key
    return GUEST_AUTH


@pytest.fixture
def api(localwhisk_url: str, guest_auth: tuple[str, str]) -> Iterator[Client]:
    client = Client(localwhisk_url, guest_auth)
    yield client
    client.session.close()


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., Any]:
    """``wait_for(predicate, timeout)``: poll with a hard bound."""
    return wait_for


@pytest.fixture(scope="session")
def start_localwhisk() -> Callable[..., ServerProcess]:
    """Start extra servers (e.g. to restart on the same data directory)."""
    return start_server
