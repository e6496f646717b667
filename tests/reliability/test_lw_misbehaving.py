"""Misbehaving actions through a real localwhisk (issue #5).

Each hostile action ends with the platform's status and message (apache/openwhisk
``common/scala/.../http/Messages.scala`` and ``containerpool/ContainerProxy.scala``:
time limit, memory, log truncation, invalid result; a lost result channel or a process
exit in the words of the Python runtime's proxy, apache/openwhisk-runtime-go
``openwhisk/runHandler.go``) and, while they all run at once, the server keeps
answering GET /api/v1 and a warm no-op invoke: every probe request is answered 200. No timed
assertions here; ``bench/soak_localwhisk.py`` prints the p50 latencies.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from lw_helpers import NOOP, NS, action_body, probe, put, session, start_server

from localwhisk.runtime import launcher
from localwhisk.runtime.sandbox import choose

pytestmark = pytest.mark.integration

TIMEOUT_MS = 2000
DEV = "action developer error"
# The Python runtime's proxy outlives the action's process and says so
# (apache/openwhisk-runtime-go openwhisk/runHandler.go).
EXITED = "command exited"
TIME_LIMIT = f"The action exceeded its time limits of {TIMEOUT_MS} milliseconds."
TRUNCATED = "Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes."

# name -> (source, expected response.status, expected result, extra check on the record)
BAD: dict[str, tuple[str, str, Any]] = {
    "loop": ("def main(args):\n    while True:\n        pass\n", DEV, {"error": TIME_LIMIT}),
    "sleeper": (
        "import time\ndef main(args):\n    time.sleep(120)\n    return {}\n",
        DEV,
        {"error": TIME_LIMIT},
    ),
    "hog": (
        "def main(args):\n    hoard = []\n    while True:\n"
        "        hoard.append(bytearray(16 * 1024 * 1024))\n",
        DEV,
        {"error": "The action exhausted its memory and was aborted."},
    ),
    "chatty": (  # 50 MB of logs against a 1 MB log limit: truncated, but the action succeeds
        "import sys\ndef main(args):\n    line = 'x' * 1023 + '\\n'\n"
        "    for _ in range(50 * 1024):\n        sys.stdout.write(line)\n    return {'ok': True}\n",
        "success",
        {"ok": True},
    ),
    "forker": (  # forked children live on; the activation itself is fine
        "import os, time\ndef main(args):\n    for _ in range(30):\n        if os.fork() == 0:\n"
        "            time.sleep(20)\n            os._exit(0)\n    return {'forked': 30}\n",
        "success",
        {"forked": 30},
    ),
    "closer": (
        "import os\ndef main(args):\n    os.close(3)\n    return {}\n",
        DEV,
        {"error": EXITED},
    ),
    "garbage": (
        "import os\ndef main(args):\n    os.write(3, b'garbage\\n')\n    return {}\n",
        DEV,
        {"error": "The action did not produce a valid JSON or JSON Array response: garbage"},
    ),
    "exiter": ("import sys\ndef main(args):\n    sys.exit(3)\n", DEV, {"error": EXITED}),
    "hard-exit": ("import os\ndef main(args):\n    os._exit(0)\n", DEV, {"error": EXITED}),
    "segfault": (
        "import ctypes\ndef main(args):\n    ctypes.string_at(0)\n    return {}\n",
        DEV,
        {"error": EXITED},
    ),
    "stdin-reader": (  # the action's stdin is empty, not the protocol stream
        "import sys\ndef main(args):\n    return {'stdin': sys.stdin.read()}\n",
        "success",
        {"stdin": ""},
    ),
}


def create_bad_actions(url: str) -> None:
    s = session()
    put(s, url, f"{NS}/actions/lw-noop", action_body(NOOP))
    for name, (source, _, _) in BAD.items():
        limits = {"timeout": TIMEOUT_MS, "memory": 128, "logs": 1}
        put(s, url, f"{NS}/actions/lw-bad-{name}", action_body(source, limits=limits))
    s.close()


def invoke_bad(url: str, name: str) -> dict[str, Any]:
    s = session()
    try:
        r = s.post(f"{url}{NS}/actions/lw-bad-{name}?blocking=true", json={}, timeout=90)
        assert r.status_code == (200 if BAD[name][1] == "success" else 502), (name, r.text[:300])
        return r.json()
    finally:
        s.close()


def check_record(name: str, record: dict[str, Any]) -> None:
    _, status, result = BAD[name]
    assert record["response"]["status"] == status, (name, record["response"])
    assert record["response"]["result"] == result, (name, record["response"])
    timeout = next(a["value"] for a in record["annotations"] if a["key"] == "timeout")
    assert timeout is (result == {"error": TIME_LIMIT}), name
    if name == "chatty":
        assert record["logs"][-1].endswith(TRUNCATED)
        assert sum(len(line) for line in record["logs"]) <= 1_100_000
    elif status == DEV:  # a developer error ends its logs with the platform's line
        assert record["logs"][-1].endswith(
            "The action did not initialize or run as expected. Log data might be missing."
        ), (name, record["logs"][-3:])


def test_misbehaving_actions_end_correctly_while_the_server_keeps_answering(tmp_path):
    server = start_server(tmp_path / "data")
    try:
        create_bad_actions(server.url)
        _, _, bad_before = probe(server.url, 5)  # warms the no-op
        assert bad_before == 0
        finished = threading.Event()
        answered = {"probes": 0, "bad": 0}

        def keep_probing() -> None:
            # At least a few rounds, then until every hostile action has ended.
            rounds = 0
            while rounds < 3 or not finished.is_set():
                _, _, bad = probe(server.url, 1)
                answered["probes"] += 2
                answered["bad"] += bad
                rounds += 1

        prober = threading.Thread(target=keep_probing)
        prober.start()
        try:
            with ThreadPoolExecutor(max_workers=len(BAD)) as pool:
                records = dict(
                    zip(BAD, pool.map(lambda n: invoke_bad(server.url, n), BAD), strict=True)
                )
        finally:
            finished.set()
            prober.join(timeout=120)
        assert not prober.is_alive()
        assert answered["bad"] == 0 and answered["probes"] >= 6
        for name, record in records.items():
            check_record(name, record)
        # Second round, one at a time: a replaced process behaves exactly the same.
        for name in ("closer", "garbage", "exiter", "segfault", "stdin-reader"):
            check_record(name, invoke_bad(server.url, name))
        _, _, bad_after = probe(server.url, 5)
        assert bad_after == 0
    finally:
        server.stop()


SANDBOXED = choose("auto").sandboxed

ESCAPES = """
import os, signal
def main(args):
    if os.fork() == 0:  # a detached grandchild that would outlive everything
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", args["token"]])
        os._exit(0)
    os.wait()
    forks = 0
    try:
        for _ in range(1500):
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "30"])
            forks += 1
    except OSError:
        pass
    try:
        os.kill(args["server"], signal.SIGSTOP)
        stopped = True
    except OSError:
        stopped = False
    return {"forks": forks, "stopped": stopped}
"""


def _sleepers(token: str) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                found += [int(entry)] if token.encode() in f.read() else []
        except OSError:
            pass
    return found


@pytest.mark.skipif(not SANDBOXED, reason="bubblewrap cannot start here: sandbox NOT tested")
def test_a_sandboxed_action_cannot_stop_the_server_fork_storm_or_outlive_it(tmp_path):
    """Through a real server: SIGSTOP on the server fails, forks stop at the platform's
    1024 processes, and a setsid grandchild ends with the server (and is not back after
    a restart)."""
    token = f"7200.{os.getpid() % 997}"
    server = start_server(tmp_path / "data")
    try:
        assert any("isolation: bubblewrap" in line for line in server.output)
        s = session()
        put(s, server.url, f"{NS}/actions/lw-noop", action_body(NOOP))  # what probe invokes
        put(s, server.url, f"{NS}/actions/escape", action_body(ESCAPES, limits={"timeout": 60000}))
        r = s.post(
            f"{server.url}{NS}/actions/escape?blocking=true&result=true",
            json={"token": token, "server": server.process.pid},
            timeout=90,
        )
        s.close()
        assert r.status_code == 200, r.text[:300]
        assert r.json() == {"forks": launcher.MAX_PROCESSES - 2, "stopped": False}
        assert probe(server.url, 2)[2] == 0  # still answering
        assert _sleepers(token)  # alive while its warm process lives
    finally:
        assert server.stop() == 0
    deadline = time.monotonic() + 10
    while _sleepers(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _sleepers(token)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "a setsid grandchild outlived the server"
    again = start_server(tmp_path / "data")
    try:
        assert not _sleepers(token)
        assert len(list((tmp_path / "data" / "work").glob("runner-*"))) == 1
    finally:
        again.stop()
