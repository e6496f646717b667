"""Misbehaving actions through a real localwhisk (issues #5 and #11), in Python and Node.js.

Each hostile action ends with the platform's status and message (apache/openwhisk
``common/scala/.../http/Messages.scala`` and ``containerpool/ContainerProxy.scala``:
time limit, memory, log truncation, invalid result; a lost result channel or a process
exit in the words of each runtime: the Python runtime's proxy, apache/openwhisk-runtime-go
``openwhisk/runHandler.go``, outlives the process, Node.js's runtime dies with it) and, while
they all run at once, the server keeps answering GET /api/v1 and a warm no-op invoke: every
probe request is answered 200. The Node.js table holds the same misbehaviours written the
way a JavaScript action commits them, plus what only JavaScript can do (an unhandled
rejection, a BigInt or circular result). No timed
assertions here; ``bench/soak_localwhisk.py`` prints the p50 latencies.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import pytest
from lw_helpers import (
    NOOPS,
    NS,
    action_body,
    action_processes,
    descendants,
    language_params,
    probe,
    put,
    session,
    start_server,
)

from localwhisk.runtime import launcher
from localwhisk.runtime.languages import NODE_DATA_SLACK_MB
from localwhisk.runtime.sandbox import choose

pytestmark = pytest.mark.integration

TIMEOUT_MS = 2000
SLOW_MS = 20000  # for the cases that must not hit the limit while all run at once
DEV = "action developer error"
APP = "application error"
# The Python runtime's proxy outlives the action's process and says so
# (apache/openwhisk-runtime-go openwhisk/runHandler.go); Node.js's runtime is the process.
PY_EXITED = "command exited"
EXITED = "The action did not produce a valid response and exited unexpectedly."
TIME_LIMIT = f"The action exceeded its time limits of {TIMEOUT_MS} milliseconds."
OOM = "The action exhausted its memory and was aborted."
TRUNCATED = "Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes."
DID_NOT_RUN = "The action did not initialize or run as expected. Log data might be missing."
GARBAGE = "The action did not produce a valid JSON or JSON Array response: garbage"
HUGE = 5 * 1024 * 1024  # one line of this many bytes written to fd 3
BIG = 2 * 1024 * 1024  # a result string of this many characters


def too_long(line: str) -> dict[str, str]:
    """What the platform answers for a result line longer than 1 MB (Messages.truncatedResponse)."""
    return {
        "error": f"The action produced a response that exceeded the allowed length: "
        f"{len(line.encode())} > 1048576 bytes. The truncated response was: {line[:1024]}"
    }


class Case(NamedTuple):
    source: str
    status: str  # response.status
    result: Any  # response.result; a str is the start of result["error"]
    timeout: int = SLOW_MS
    memory: int = 128
    log: str = ""  # a text some log line must hold


BAD: dict[str, dict[str, Case]] = {
    "python": {
        "loop": Case(
            "def main(args):\n    while True:\n        pass\n",
            DEV,
            {"error": TIME_LIMIT},
            TIMEOUT_MS,
        ),
        "sleeper": Case(
            "import time\ndef main(args):\n    time.sleep(120)\n    return {}\n",
            DEV,
            {"error": TIME_LIMIT},
            TIMEOUT_MS,
        ),
        "hog": Case(  # prints the megabytes it holds: the last figure is below the limit
            "def main(args):\n    hoard = []\n    while True:\n"
            "        hoard.append(bytearray(16 * 1024 * 1024))\n"
            "        print(16 * len(hoard), flush=True)\n",
            DEV,
            {"error": OOM},
        ),
        "chatty": Case(  # 50 MB of logs against a 1 MB log limit: truncated, but it succeeds
            "import sys\ndef main(args):\n    line = 'x' * 1023 + '\\n'\n"
            "    for _ in range(50 * 1024):\n        sys.stdout.write(line)\n    return {'ok': True}\n",
            "success",
            {"ok": True},
        ),
        "forker": Case(  # forked children live on; the activation itself is fine
            "import os, time\ndef main(args):\n    for _ in range(30):\n        if os.fork() == 0:\n"
            "            time.sleep(20)\n            os._exit(0)\n    return {'forked': 30}\n",
            "success",
            {"forked": 30},
        ),
        "closer": Case(
            "import os\ndef main(args):\n    os.close(3)\n    return {}\n",
            DEV,
            {"error": PY_EXITED},
        ),
        "garbage": Case(
            "import os\ndef main(args):\n    os.write(3, b'garbage\\n')\n    return {}\n",
            DEV,
            {"error": GARBAGE},
        ),
        "huge-line": Case(  # its own line answers; the launcher's reply behind it answers nothing
            f"import os\ndef main(args):\n    os.write(3, b'x' * {HUGE} + b'\\n')\n    return {{}}\n",
            APP,
            too_long("x" * HUGE),
        ),
        "big-result": Case(
            f"def main(args):\n    return {{'x': 'y' * {BIG}}}\n",
            APP,
            too_long('{"x": "' + "y" * BIG + '"}'),
        ),
        "deep": Case(  # json.dumps raises outside the launcher's try, as the runtime's does
            "def main(args):\n    d = r = {}\n    for _ in range(10000):\n"
            "        d['a'] = {}\n        d = d['a']\n    return r\n",
            DEV,
            {"error": PY_EXITED},
        ),
        "exiter": Case("import sys\ndef main(args):\n    sys.exit(3)\n", DEV, {"error": PY_EXITED}),
        "hard-exit": Case(
            "import os\ndef main(args):\n    os._exit(0)\n", DEV, {"error": PY_EXITED}
        ),
        "segfault": Case(
            "import ctypes\ndef main(args):\n    ctypes.string_at(0)\n    return {}\n",
            DEV,
            {"error": PY_EXITED},
        ),
        "stdin-reader": Case(  # the action's stdin is empty, not the protocol stream
            "import sys\ndef main(args):\n    return {'stdin': sys.stdin.read()}\n",
            "success",
            {"stdin": ""},
        ),
    },
    "nodejs": {
        "loop": Case("function main() { for (;;) {} }", DEV, {"error": TIME_LIMIT}, TIMEOUT_MS),
        "sleeper": Case(
            "async function main() { await new Promise((r) => setTimeout(r, 1e9)); return {} }",
            DEV,
            {"error": TIME_LIMIT},
            TIMEOUT_MS,
        ),
        **{
            f"hog-{mb}": Case(  # V8's heap, bounded by --max-old-space-size below the limit
                "function main() { const a = [];"
                " for (;;) { a.push(new Array(1 << 20).fill(1.5)); console.log(8 * a.length) } }",
                DEV,
                {"error": OOM},
                memory=mb,
            )
            for mb in (128, 256)
        },
        "buffers": Case(  # outside V8's heap: stopped by the data limit, some way past the limit
            "function main() { const a = []; for (;;) {"
            " a.push(Buffer.alloc(16 * 1024 * 1024, 1)); console.log(16 * a.length) } }",
            DEV,
            {"error": OOM},
        ),
        "one-big-buffer": Case(  # a single allocation past the data limit: node throws
            "function main() { return {n: Buffer.alloc(1024 * 1024 * 1024).length} }",
            DEV,
            {"error": "An error has occurred: RangeError: Array buffer allocation failed"},
        ),
        "chatty": Case(
            "function main() { const line = 'x'.repeat(1023);"
            " for (let i = 0; i < 50 * 1024; i++) console.log(line); return {ok: true} }",
            "success",
            {"ok": True},
        ),
        "forker": Case(
            "function main() { const cp = require('child_process');"
            " for (let i = 0; i < 30; i++) cp.spawn('/bin/sleep', ['20'], {stdio: 'ignore'});"
            " return {forked: 30} }",
            "success",
            {"forked": 30},
        ),
        "closer": Case(
            "function main() { require('fs').closeSync(3); return {} }", DEV, {"error": EXITED}
        ),
        "garbage": Case(
            "function main() { require('fs').writeSync(3, 'garbage\\n'); return {} }",
            DEV,
            {"error": GARBAGE},
        ),
        "huge-line": Case(
            f"function main() {{ require('fs').writeSync(3, 'x'.repeat({HUGE}) + '\\n'); return {{}} }}",
            APP,
            too_long("x" * HUGE),
        ),
        "big-result": Case(
            f"function main() {{ return {{x: 'y'.repeat({BIG})}} }}",
            APP,
            too_long('{"x":"' + "y" * BIG + '"}'),
        ),
        "deep": Case(
            "function main() { let d = {}; const r = d;"
            " for (let i = 0; i < 10000; i++) { d.a = {}; d = d.a } return r }",
            DEV,
            {"error": "An error has occurred: RangeError: Maximum call stack size exceeded"},
        ),
        "bigint": Case(
            "function main() { return {n: 10n} }",
            DEV,
            {"error": "An error has occurred: TypeError: Do not know how to serialize a BigInt"},
        ),
        "circular": Case(
            "function main() { const o = {}; o.o = o; return o }",
            DEV,
            "An error has occurred: TypeError: Converting circular structure to JSON",
        ),
        "exiter": Case("function main() { process.exit(3) }", DEV, {"error": EXITED}),
        "hard-exit": Case("function main() { process.exit(0) }", DEV, {"error": EXITED}),
        "killer": Case(
            "function main() { process.kill(process.pid, 'SIGKILL') }", DEV, {"error": EXITED}
        ),
        "stdin-reader": Case(
            "function main() { return {stdin: require('fs').readFileSync(0, 'utf8')} }",
            "success",
            {"stdin": ""},
        ),
        "fd4-reader": Case(  # the protocol pipe: this activation's line is taken, the next not sent
            "function main() { try { require('fs').readSync(4, Buffer.alloc(64)); return {read: 'data'} }"
            " catch (e) { return {read: e.code} } }",
            "success",
            {"read": "EAGAIN"},
        ),
        "unhandled": Case(  # the result stands; the rejection is in its logs
            "function main() { Promise.reject(new Error('stray')); return {ok: true} }",
            "success",
            {"ok": True},
            log="Unhandled promise rejection after the action returned: Error: stray",
        ),
    },
}
# Second round, one at a time: a replaced process behaves exactly the same.
AGAIN = {
    "python": ("closer", "garbage", "huge-line", "exiter", "segfault", "stdin-reader"),
    "nodejs": (
        "closer", "garbage", "huge-line", "exiter", "killer", "stdin-reader", "fd4-reader",
        "unhandled",
    ),
}  # fmt: skip


def create_bad_actions(url: str, language: str) -> None:
    s = session()
    put(s, url, f"{NS}/actions/lw-noop", action_body(NOOPS[language], language=language))
    for name, case in BAD[language].items():
        limits = {"timeout": case.timeout, "memory": case.memory, "logs": 1}
        body = action_body(case.source, language=language, limits=limits)
        put(s, url, f"{NS}/actions/lw-bad-{name}", body)
    s.close()


def invoke_bad(url: str, language: str, name: str) -> dict[str, Any]:
    s = session()
    try:
        r = s.post(f"{url}{NS}/actions/lw-bad-{name}?blocking=true", json={}, timeout=90)
        ok = BAD[language][name].status == "success"
        assert r.status_code == (200 if ok else 502), (name, r.text[:300])
        return r.json()
    finally:
        s.close()


def _figures(logs: list[str]) -> list[int]:
    """The numbers an action printed alone on stdout lines (megabytes held, for the hogs)."""
    return [int(m.group(1)) for line in logs if (m := re.search(r"stdout: (\d+)$", line))]


def check_record(language: str, name: str, record: dict[str, Any]) -> None:
    case = BAD[language][name]
    response = record["response"]
    assert response["status"] == case.status, (name, response)
    if isinstance(case.result, str):
        assert response["result"]["error"].startswith(case.result), (name, response)
    else:
        assert response["result"] == case.result, (name, str(response)[:500])
    timeout = next(a["value"] for a in record["annotations"] if a["key"] == "timeout")
    assert timeout is (case.result == {"error": TIME_LIMIT}), name
    logs = record["logs"]
    if name == "chatty":
        assert logs[-1].endswith(TRUNCATED)
        assert 1_000_000 <= sum(len(line) for line in logs) <= 1_100_000
    elif case.status == DEV:  # a developer error ends its logs with the platform's line
        assert logs[-1].endswith(DID_NOT_RUN), (name, logs[-3:])
    if case.log:
        assert any(case.log in line for line in logs), (name, logs[:5])
    if case.result == {"error": OOM}:
        held = _figures(logs)
        # V8's heap (and Python's data) stop below the limit; Buffers live outside V8's
        # heap and stop at the data limit, which leaves V8 that much room beyond it.
        ceiling = case.memory + (NODE_DATA_SLACK_MB if name == "buffers" else 0)
        assert held and case.memory // 2 <= held[-1] <= ceiling, (name, held[-3:])


@pytest.mark.parametrize("language", language_params())
def test_misbehaving_actions_end_correctly_while_the_server_keeps_answering(tmp_path, language):
    server = start_server(tmp_path / "data")
    bad = BAD[language]
    try:
        create_bad_actions(server.url, language)
        _, _, bad_before = probe(server.url, 5)  # warms the no-op
        assert bad_before == 0
        finished = threading.Event()
        answered = {"probes": 0, "bad": 0}

        def keep_probing() -> None:
            # At least a few rounds, then until every hostile action has ended.
            rounds = 0
            while rounds < 3 or not finished.is_set():
                _, _, failed = probe(server.url, 1)
                answered["probes"] += 2
                answered["bad"] += failed
                rounds += 1

        prober = threading.Thread(target=keep_probing)
        prober.start()
        try:
            with ThreadPoolExecutor(max_workers=len(bad)) as pool:
                runs = pool.map(lambda n: invoke_bad(server.url, language, n), bad)
                records = dict(zip(bad, runs, strict=True))
        finally:
            finished.set()
            prober.join(timeout=120)
        assert not prober.is_alive()
        assert answered["bad"] == 0 and answered["probes"] >= 6
        for name, record in records.items():
            check_record(language, name, record)
        for name in AGAIN[language]:
            check_record(language, name, invoke_bad(server.url, language, name))
        _, _, bad_after = probe(server.url, 5)
        assert bad_after == 0
        started = set(descendants(server.process.pid))  # launchers, sandboxes, forked sleeps
        assert action_processes(server.process.pid) & started  # so "gone" below means something
    finally:
        assert server.stop() == 0
    assert until_gone(started), "an action process outlived the server"


def _living(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie awaiting its reaper is not)."""
    living = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                    living.add(pid)
        except OSError:
            pass
    return living


def until_gone(pids: set[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while _living(pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # poll interval while the killed processes are reaped
    return True


SANDBOXED = choose("auto").sandboxed
needs_bwrap = pytest.mark.skipif(
    not SANDBOXED, reason="bubblewrap cannot start here: sandbox NOT tested"
)

ESCAPES = {
    "python": """
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
                os.execv("/bin/sleep", ["sleep", args["storm"]])
            forks += 1
    except OSError:
        pass
    try:
        os.kill(args["server"], signal.SIGSTOP)
        stopped = True
    except OSError:
        stopped = False
    return {"forks": forks, "refused": 1500 - forks, "stopped": stopped}
""",
    "nodejs": """
const cp = require('child_process');
async function main(args) {
  // A detached child (a session of its own) that would outlive everything.
  cp.spawn('/bin/sleep', [args.token], {detached: true, stdio: 'ignore'}).unref();
  let forks = 0, refused = 0;
  const settled = [];
  for (let i = 0; i < 1500; i++) {
    let child;
    try {
      child = cp.spawn('/bin/sleep', [args.storm], {stdio: 'ignore'});
    } catch (e) {
      refused++;
      continue;
    }
    settled.push(new Promise((done) => {
      child.once('spawn', () => { forks++; done() });
      child.once('error', () => { refused++; done() });
    }));
  }
  await Promise.all(settled);
  let stopped;
  try {
    process.kill(args.server, 'SIGSTOP');
    stopped = true;
  } catch (e) {
    stopped = false;
  }
  return {forks, refused, stopped};
}
""",
}


def _sleepers(token: str) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                found += [int(entry)] if token.encode() in f.read() else []
        except OSError:
            pass
    return found


@needs_bwrap
@pytest.mark.parametrize("language", language_params())
def test_a_sandboxed_action_cannot_stop_the_server_fork_storm_or_outlive_it(tmp_path, language):
    """Through a real server: SIGSTOP on the server fails, forks stop at the platform's
    1024 processes, and a setsid grandchild (Node.js: a detached child) ends with the
    server, as does the storm (and neither is back after a restart)."""
    token = f"7200.{os.getpid() % 997}"
    storm = f"30.{os.getpid() % 997}"
    server = start_server(tmp_path / "data")
    try:
        assert any("isolation: bubblewrap" in line for line in server.output)
        s = session()
        noop = action_body(NOOPS[language], language=language)
        put(s, server.url, f"{NS}/actions/lw-noop", noop)  # what probe invokes
        escape = action_body(ESCAPES[language], language=language, limits={"timeout": 60000})
        put(s, server.url, f"{NS}/actions/escape", escape)
        r = s.post(
            f"{server.url}{NS}/actions/escape?blocking=true&result=true",
            json={"token": token, "storm": storm, "server": server.process.pid},
            timeout=90,
        )
        s.close()
        assert r.status_code == 200, r.text[:300]
        escaped = r.json()
        assert escaped["forks"] + escaped["refused"] == 1500
        # The server's pid names nothing of the server inside the sandbox's PID namespace (a
        # kill that "worked" hit a process of the storm with that number): it is not stopped.
        with open(f"/proc/{server.process.pid}/stat", "rb") as f:
            assert f.read().rsplit(b")", 1)[1].split()[0] != b"T"
        if language == "python":  # the launcher and the grandchild count too
            assert escaped["forks"] == launcher.MAX_PROCESSES - 2
        else:  # node's own threads count as processes too, a handful
            assert launcher.MAX_PROCESSES - 32 <= escaped["forks"] < launcher.MAX_PROCESSES
        assert probe(server.url, 2)[2] == 0  # still answering
        assert _sleepers(token) and _sleepers(storm)  # alive while its warm process lives
    finally:
        assert server.stop() == 0
    deadline = time.monotonic() + 10
    while (_sleepers(token) or _sleepers(storm)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _sleepers(token) + _sleepers(storm)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "a detached process or the storm outlived the server"
    again = start_server(tmp_path / "data")
    try:
        assert not _sleepers(token)
        assert len(list((tmp_path / "data" / "work").glob("runner-*"))) == 1
    finally:
        again.stop()


PROBES = {
    "python": """
import errno
def main(args):
    found = {}
    for path in args["read"]:
        try:
            with open(path, "rb") as f:
                found[path] = f"read {len(f.read())} bytes"
        except OSError as exc:
            found[path] = errno.errorcode.get(exc.errno, str(exc.errno))
    for path in args["write"]:
        try:
            with open(path, "w") as f:
                f.write("x")
            found[path] = "written"
        except OSError as exc:
            found[path] = errno.errorcode.get(exc.errno, str(exc.errno))
    return found
""",
    "nodejs": """
const fs = require('fs');
function main(args) {
  const found = {};
  for (const path of args.read) {
    try { found[path] = `read ${fs.readFileSync(path).length} bytes` } catch (e) { found[path] = e.code }
  }
  for (const path of args.write) {
    try { fs.writeFileSync(path, 'x'); found[path] = 'written' } catch (e) { found[path] = e.code }
  }
  return found;
}
""",
}


@needs_bwrap
@pytest.mark.parametrize("language", language_params())
def test_a_sandboxed_action_reads_none_of_the_servers_files_and_writes_only_scratch(
    tmp_path, language
):
    """The data folder (database, its WAL), the server's ~/.wskprops and its /proc entries
    cannot be read; nothing outside /tmp and /dev/shm can be written."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".wskprops").write_text("APIHOST=https://example.invalid\nAUTH=h5-not-to-be-read\n")
    data = tmp_path / "data"
    server = start_server(data, env={**os.environ, "HOME": str(home)})
    try:
        s = session()
        probe_body = action_body(PROBES[language], language=language)
        put(s, server.url, f"{NS}/actions/files", probe_body)
        reads = [
            str(data / "localwhisk.db"),
            str(data / "localwhisk.db-wal"),
            str(home / ".wskprops"),
            f"/proc/{server.process.pid}/environ",
            f"/proc/{server.process.pid}/cmdline",
        ]
        writes = ["/tmp/scratch", "/dev/shm/scratch", "/action/x", "/etc/x", "/x", "/usr/x"]
        writes += [str(data / "x"), str(home / "x")]
        r = s.post(
            f"{server.url}{NS}/actions/files?blocking=true&result=true",
            json={"read": reads, "write": writes},
            timeout=90,
        )
        s.close()
        assert r.status_code == 200, r.text[:300]
        found = r.json()
        assert (data / "localwhisk.db").is_file()  # there to be read, had the action reach
        for path in reads:
            assert not found[path].startswith("read"), (path, found[path])
        assert found["/tmp/scratch"] == found["/dev/shm/scratch"] == "written"
        for path in writes[2:]:
            assert found[path] != "written", (path, found[path])
        assert not (data / "x").exists() and not (home / "x").exists()
    finally:
        assert server.stop() == 0
