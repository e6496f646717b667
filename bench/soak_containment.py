"""``make soak`` containment part (issue #10): every escape attempt, made by a real action.

One localwhisk (``--isolation auto``) and one action per attempt: read the database,
read another action's code, find a key in ``/proc``, signal the server, leave an
orphan, fork storm, fill the disk, a zip bomb, fill ``/dev/shm``. Each line prints the
attempt and what the action got; ``contained`` must be every one of them, else the
part raises after printing all lines (without bubblewrap some are expected to escape,
and the isolation line printed first says so).
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import time
import zipfile

from bench.http import Client
from bench.process import start_server
from localwhisk.runtime.sandbox import choose

SECRET_SPEC = "soaker:7b1a4b2e-0000-4000-8000-00000000c0de:" + "k" * 64
INVOKE = "/api/v1/namespaces/_/actions/{name}?blocking=true&result=true"
RECORD = "/api/v1/namespaces/_/actions/{name}?blocking=true"

TRY_READ = """
import errno
def main(args):
    try:
        with open(args["path"], "rb") as f:
            return {"got": "read %d bytes" % len(f.read(4096))}
    except OSError as exc:
        return {"got": errno.errorcode.get(exc.errno, str(exc))}
"""
FIND_KEY = """
import os
def main(args):
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if args["key"].encode() in f.read():
                    return {"got": "found in /proc/%s/cmdline" % pid}
        except OSError:
            pass
    return {"got": "not found in any /proc/*/cmdline"}
"""
SIGNAL = """
import os, signal
def main(args):
    try:
        os.kill(args["pid"], signal.SIGSTOP)
        os.kill(args["pid"], signal.SIGCONT)
        return {"got": "SIGSTOP delivered"}
    except OSError as exc:
        return {"got": type(exc).__name__}
"""
ORPHAN = """
import os
def main(args):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", args["token"]])
        os._exit(0)
    os.wait()
    return {"got": "left a setsid sleep"}
"""
FORK_STORM = """
import os
def main(args):
    n = 0
    try:
        for _ in range(1500):
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "20"])
            n += 1
    except OSError as exc:
        return {"got": "stopped after %d forks (%s)" % (n, type(exc).__name__), "n": n}
    return {"got": "forked %d" % n, "n": n}
"""
FILL = """
import errno
def main(args):
    written = 0
    try:
        with open(args["path"], "wb") as f:
            while written < 2048:
                f.write(b"x" * (1 << 20))
                written += 1
    except OSError as exc:
        return {"got": "stopped at %d MB (%s)" % (written, errno.errorcode.get(exc.errno)), "mb": written}
    return {"got": "wrote %d MB" % written, "mb": written}
"""


def _sleepers(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _zip_bomb() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("__main__.py", "def main(args):\n    return {'got': 'ran'}\n")
        archive.writestr("zeros.bin", b"\0" * (400 * 1024 * 1024))
    return base64.b64encode(buf.getvalue()).decode()


def run(quick: bool = False) -> None:
    """Both isolations where bubblewrap works (the fallback shows what it leaves open)."""
    modes = ["bwrap", "none"] if choose("auto").sandboxed else ["none"]
    failed = []
    for mode in modes:
        print(f"  --isolation {mode}: {choose(mode).describe()}")
        lines = _attempts(mode)
        for what, got, contained in lines:
            print(f"    {what:<32} {'contained' if contained else 'ESCAPED':<10} {got}")
        if mode == "bwrap":
            failed += [what for what, _, contained in lines if not contained]
    if failed:
        raise SystemExit(f"containment failed under bubblewrap: {', '.join(failed)}")


def _attempts(mode: str) -> list[tuple[str, str, bool]]:
    server = start_server("--namespace", SECRET_SPEC, "--isolation", mode)
    client = Client(server.url)
    lines: list[tuple[str, str, bool]] = []

    def attempt(name: str, code: str, args: dict, binary: bool = False, how: str = INVOKE) -> dict:
        exec_ = {"kind": "python:3.11", "code": code, "binary": binary}
        put = {"exec": exec_, "limits": {"timeout": 30000}}
        client.request("PUT", f"/api/v1/namespaces/_/actions/{name}?overwrite=true", put)
        status, body, _ = client.request("POST", how.format(name=name), args)
        result = json.loads(body or b"{}")
        return result if isinstance(result, dict) else {"got": str(result)}

    try:
        db = str(server.data / "localwhisk.db")
        got = attempt("soak-read-db", TRY_READ, {"path": db})["got"]
        lines.append(("read the database", got, not got.startswith("read")))
        attempt("soak-victim", "def main(args):\n    return {'secret': 1}\n", {})
        victims = [p for p in server.data.rglob("__main__.py") if "'secret'" in p.read_text()]
        target = str(victims[0]) if victims else str(server.data / "work")
        got = attempt("soak-read-code", TRY_READ, {"path": target})["got"]
        lines.append(("read another action's code", got, not got.startswith("read")))
        got = attempt("soak-find-key", FIND_KEY, {"key": SECRET_SPEC.rsplit(":", 1)[1]})["got"]
        lines.append(("read a key from /proc", got, got.startswith("not found")))
        got = attempt("soak-signal", SIGNAL, {"pid": server.process.pid})["got"]
        server.process.send_signal(signal.SIGCONT)  # in case it got through
        lines.append(("signal the server (SIGSTOP)", got, got != "SIGSTOP delivered"))
        token = f"86400.{os.getpid() % 1000}{len(mode)}"
        attempt("soak-orphan", ORPHAN, {"token": token})
        client.request("DELETE", "/api/v1/namespaces/_/actions/soak-orphan")
        deadline = time.monotonic() + 5
        while _sleepers(token) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _sleepers(token)
        lines.append(("orphan a process", f"{len(left)} left after delete", not left))
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        storm = attempt("soak-fork-storm", FORK_STORM, {})
        lines.append(("fork storm (1500)", storm["got"], storm.get("n", 1500) < 1500))
        fill = attempt("soak-fill-disk", FILL, {"path": "/tmp/fill"})
        lines.append(("fill the disk (2 GB in /tmp)", fill["got"], fill.get("mb", 2048) < 2048))
        shm = attempt("soak-shm", FILL, {"path": "/dev/shm/fill"})
        lines.append(("/dev/shm (2 GB)", shm["got"], shm.get("mb", 2048) < 2048))
        for path in ("/dev/shm/fill", "/tmp/fill"):  # written to the host without a sandbox
            if os.path.exists(path):
                os.unlink(path)
        # Refused as the runtime's compile step refuses a zip: the cause is in the logs.
        logs = attempt("soak-zip-bomb", _zip_bomb(), {}, binary=True, how=RECORD).get("logs", [])
        got = next((line.split(": ", 1)[-1] for line in logs if "expands to" in line), str(logs))
        lines.append(("zip bomb (400 MB of zeros)", got[:90], "expands to" in got))
    finally:
        server.stop()
    return lines
