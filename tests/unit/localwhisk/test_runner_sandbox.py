"""Containment of action processes (issue #10 item 4), against real launchers.

Each attempt an action could make — read the server's files or another action's code,
read the server's environment, signal it, leave a detached process behind, fill
``/dev/shm`` — is made by a real action; the sandboxed cases need bubblewrap and are
skipped (visibly) where it cannot start. The fallback without a sandbox is tested
everywhere: its process-tree kill and rlimits. Also the runtime's bounds (item 6): zip
bombs refused before unpacking, code folders removed on ``forget``, stale runner
folders of a dead server removed at start.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import io
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import uvloop
from localindex import WHEEL, write_demo_wheel
from test_runner import DID_NOT_RUN, NO_BINARY, job, messages, spec, until, with_runner

from localwhisk.models import DEVELOPER_ERROR, SUCCESS
from localwhisk.runtime import codecache, launcher, sandbox
from localwhisk.runtime.runner import Runner, remove_stale
from localwhisk.runtime.sandbox import Isolation, IsolationUnavailable
from localwhisk.runtime.virtualenvs import locate_all

NONE = Isolation("none")
BWRAP = sandbox.choose("auto")
needs_bwrap = pytest.mark.skipif(
    not BWRAP.sandboxed,
    reason="bubblewrap cannot start a sandbox on this machine: sandboxing NOT tested",
)
KINDS = [
    "python:3.11",
    pytest.param(
        "nodejs:20",
        marks=pytest.mark.skipif(shutil.which("node") is None, reason="needs node: NOT tested"),
    ),
]
BOTH = [
    pytest.param(NONE, id="none"),
    pytest.param(BWRAP, id="bwrap", marks=needs_bwrap),
]

# A detached grandchild: setsid, then exec a sleep whose argv names it, so the host can
# look for it in /proc whatever PID namespace it lives in. With "hang" the activation then
# runs into its time limit, so its process is killed while the grandchild lives.
ORPHAN = """
import os, time
def main(args):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", args["token"]])
        os._exit(0)
    os.waitpid(pid, 0)
    if args.get("hang"):
        time.sleep(60)
    return {"left": True}
"""
# The same from Node.js: a detached child (its own session), unref'd so nothing waits on it.
JS_ORPHAN = """
function main(args) {
  require('child_process').spawn('/bin/sleep', [args.token], {detached: true, stdio: 'ignore'}).unref();
  if (args.hang) return new Promise(() => {});
  return {left: true};
}
"""
ORPHANS = {"python:3.11": ORPHAN, "nodejs:20": JS_ORPHAN}

PROBE = """
import os, errno
def main(args):
    found = {}
    for path in args.get("read", []):
        try:
            with open(path, "rb") as f:
                found[path] = f.read(64).decode("latin-1")
        except OSError as exc:
            found[path] = errno.errorcode.get(exc.errno, str(exc.errno))
    return found
"""


def sleepers(token: str) -> list[int]:
    """Host pids whose command line holds ``token``."""
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


@pytest.mark.parametrize("isolation", BOTH)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ending", ["close", "timeout"])
def test_a_detached_grandchild_ends_with_its_warm_process(
    tmp_path: Path, isolation, kind: str, ending: str
) -> None:
    """Whether its process is killed at the time limit or by the runner's close, what the
    action detached ends with it."""
    token = "3600." + os.urandom(4).hex()[:4].translate(str.maketrans("abcdef", "123456"))
    hang = ending == "timeout"

    async def go(r: Runner) -> tuple:
        code = spec(ORPHANS[kind], kind=kind)
        run = asyncio.ensure_future(
            r.run(job(code, {"token": token, "hang": hang}, timeout_ms=3000))
        )
        alive_while_warm = await until(lambda: bool(sleepers(token)))
        outcome = await run
        if not hang:
            await r.close()
        ended = await until(lambda: not sleepers(token))
        return outcome, alive_while_warm, ended

    try:
        outcome, alive, ended = with_runner(tmp_path, go, isolation=isolation)
        assert outcome.status == (DEVELOPER_ERROR if hang else SUCCESS), outcome.result
        assert outcome.timed_out is hang
        assert alive, "the action's grandchild never started"
        assert ended, f"a detached grandchild outlived its process ({ending})"
    finally:
        for pid in sleepers(token):
            os.kill(pid, signal.SIGKILL)


@needs_bwrap
def test_a_sandboxed_action_sees_none_of_the_server(tmp_path: Path, monkeypatch) -> None:
    """The data folder, another action's code, the server's environment and command line."""
    secret = "h6-secret-" + os.urandom(6).hex()
    monkeypatch.setenv("H6_SERVER_SECRET", secret)
    database = tmp_path / "localwhisk.db"
    database.write_text("every namespace's code")
    scan = """
import os
def main(args):
    hits = []
    for pid in os.listdir("/proc"):
        for name in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as f:
                    if args["secret"].encode() in f.read():
                        hits.append(f"{pid}/{name}")
            except OSError:
                pass
    return {"hits": hits, "cwd": os.getcwd()}
"""

    async def go(r: Runner) -> tuple:
        other = spec("def main(args):\n    return {'other': 1}\n", action="/guest/other")
        assert (await r.run(job(other))).status == SUCCESS
        other_code = r._code.folder_for(other) / "__main__.py"
        assert other_code.is_file()
        reads = await r.run(job(spec(PROBE), {"read": [str(database), str(other_code)]}))
        scanned = await r.run(job(spec(scan, action="/guest/scan"), {"secret": secret}))
        return reads, scanned, other_code

    reads, scanned, other_code = with_runner(tmp_path, go, isolation=BWRAP)
    assert reads.result == {str(database): "ENOENT", str(other_code): "ENOENT"}
    assert scanned.status == SUCCESS and scanned.result["hits"] == []
    assert scanned.result["cwd"] == sandbox.ACTION_DIR


@needs_bwrap
def test_a_sandboxed_action_cannot_signal_the_server(tmp_path: Path) -> None:
    code = """
import os, signal
def main(args):
    try:
        os.kill(args["pid"], 0)
        return {"reached": True}
    except OSError as exc:
        return {"reached": False, "errno": exc.errno}
"""
    outcome = with_runner(
        tmp_path, lambda r: r.run(job(spec(code), {"pid": os.getpid()})), isolation=BWRAP
    )
    assert outcome.result["reached"] is False


@needs_bwrap
def test_dev_shm_and_tmp_are_private_and_bounded(tmp_path: Path) -> None:
    name = "h6-" + os.urandom(4).hex()
    code = f"""
import errno
def main(args):
    out = {{}}
    for path in ("/dev/shm/{name}", "/tmp/{name}"):
        written = 0
        try:
            with open(path, "wb") as f:
                while written < 500 * 1024 * 1024:
                    f.write(b"x" * (1024 * 1024))
                    written += 1024 * 1024
        except OSError as exc:
            out[path] = [written, errno.errorcode[exc.errno]]
        else:
            out[path] = [written, None]
    return out
"""
    outcome = with_runner(tmp_path, lambda r: r.run(job(spec(code))), isolation=BWRAP)
    for path in (f"/dev/shm/{name}", f"/tmp/{name}"):
        written, error = outcome.result[path]
        assert written <= launcher.SCRATCH_BYTES and error in ("ENOSPC", "EFBIG"), outcome.result
        assert not os.path.exists(path), "the sandbox wrote to the host's folder"


@pytest.mark.parametrize("isolation", BOTH)
def test_open_files_and_file_size_are_bounded(tmp_path: Path, isolation) -> None:
    code = """
import resource
def main(args):
    return {"nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
            "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[1],
            "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[1]}
"""
    outcome = with_runner(tmp_path, lambda r: r.run(job(spec(code))), isolation=isolation)
    assert outcome.result["nofile"] == launcher.MAX_OPEN_FILES
    assert outcome.result["fsize"] == launcher.MAX_FILE_BYTES
    if isolation.sandboxed:
        assert outcome.result["nproc"] == launcher.MAX_PROCESSES


@pytest.mark.parametrize("isolation", BOTH)
def test_no_descriptor_of_the_server_is_inherited(tmp_path: Path, isolation, monkeypatch) -> None:
    # uvloop, as the server runs, passes every inheritable descriptor on to children.
    monkeypatch.setattr(asyncio, "run", lambda main: uvloop.run(main))
    held = os.open(tmp_path / "held", os.O_CREAT | os.O_WRONLY)
    stray = fcntl.fcntl(held, fcntl.F_DUPFD, 300)  # a free number no test uses
    os.set_inheritable(stray, True)  # like a descriptor some library forgot to mark
    code = "import os\ndef main(args):\n    return {'fds': sorted(int(f) for f in os.listdir('/proc/self/fd'))}\n"
    try:
        outcome = with_runner(tmp_path, lambda r: r.run(job(spec(code))), isolation=isolation)
    finally:
        os.close(held)
        os.close(stray)
    assert outcome.status == SUCCESS
    assert stray not in outcome.result["fds"] and max(outcome.result["fds"]) < 10, outcome.result


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(codecache, "MAX_EXPANDED_BYTES", 4 * 1024 * 1024)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__main__.py", "def main(args):\n    return {}\n")
        archive.writestr("zeros.bin", b"\0" * (8 * 1024 * 1024))
    assert len(buf.getvalue()) < 64 * 1024  # small on the wire, large on disk
    bomb = spec(base64.b64encode(buf.getvalue()).decode(), binary=True)
    expanded = 8 * 1024 * 1024 + len("def main(args):\n    return {}\n")

    async def go(r: Runner) -> tuple:
        outcome = await r.run(job(bomb))
        return outcome, list(r._code.root.rglob("zeros.bin"))

    outcome, unpacked = with_runner(tmp_path, go, isolation=NONE)
    # Refused as the runtime's compile step refuses a zip: "see logs", the cause there.
    assert (outcome.status, outcome.result) == (DEVELOPER_ERROR, {"error": NO_BINARY})
    cause, last = messages(outcome)
    assert f"expands to {expanded} bytes" in cause and "make the zip smaller" in cause
    assert last == DID_NOT_RUN
    assert unpacked == []


def test_a_zip_of_too_many_entries_is_refused_before_unpacking(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(codecache, "MAX_ENTRIES", 10)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("__main__.py", "def main(args):\n    return {}\n")
        for n in range(10):
            archive.writestr(f"empty/{n}.txt", "")
    many = spec(base64.b64encode(buf.getvalue()).decode(), binary=True)

    async def go(r: Runner) -> tuple:
        outcome = await r.run(job(many))
        return outcome, list(r._code.root.rglob("*.txt"))

    outcome, unpacked = with_runner(tmp_path, go, isolation=NONE)
    assert (outcome.status, outcome.result) == (DEVELOPER_ERROR, {"error": NO_BINARY})
    assert "11 entries; at most 10 are unpacked" in messages(outcome)[0]
    assert unpacked == []


@pytest.mark.parametrize("isolation", BOTH)
def test_forget_removes_the_code_folders_of_a_deleted_action(tmp_path: Path, isolation) -> None:
    one = spec("def main(args):\n    return {'v': 1}\n", revision="1")
    two = spec("def main(args):\n    return {'v': 2}\n", revision="2")

    async def go(r: Runner) -> tuple:
        await r.run(job(one))
        await r.run(job(two))  # the update: revision 1's folder goes with its process
        old_gone = await until(lambda: not r._code.folder_for(one).exists())
        present = r._code.folder_for(two).exists()
        r.forget(one.action)  # the delete
        new_gone = await until(lambda: not r._code.folder_for(two).exists())
        slots = await until(lambda: not any((r._root / "slots").glob("*/__main__.py")))
        return old_gone, present, new_gone, slots

    old_gone, present, new_gone, slots = with_runner(tmp_path, go, isolation=isolation)
    assert old_gone and present and new_gone and slots


def test_forget_while_running_removes_the_folder_when_the_run_ends(tmp_path: Path) -> None:
    slow = spec("import time\ndef main(args):\n    time.sleep(0.3)\n    return {}\n")

    async def go(r: Runner) -> tuple:
        running = asyncio.ensure_future(r.run(job(slow)))
        folder = r._code.folder_for(slow)
        await until(lambda: folder.exists())
        r.forget(slow.action)
        still_there = folder.exists()
        outcome = await running
        return still_there, outcome, await until(lambda: not folder.exists())

    still_there, outcome, removed = with_runner(tmp_path, go, isolation=NONE)
    assert still_there and outcome.status == SUCCESS and removed


def test_stale_runner_folders_of_a_dead_server_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    crashed = tmp_path / "runner-crashed"
    (crashed / "code" / "abc").mkdir(parents=True)
    (crashed / "owner.pid").write_text(dead.stdout)
    legacy = tmp_path / "runner-legacy"  # made before owners were recorded
    legacy.mkdir()
    alive = tmp_path / "runner-alive"
    alive.mkdir()
    (alive / "owner.pid").write_text(f"{os.getppid()}\n")
    unrelated = tmp_path / "keep-me"
    unrelated.mkdir()

    async def go(r: Runner) -> list[Path]:
        return sorted(p.name for p in tmp_path.iterdir())

    left = with_runner(tmp_path, go, isolation=NONE)
    assert "runner-crashed" not in left and "runner-legacy" not in left
    assert "runner-alive" in left and "keep-me" in left
    assert remove_stale(tmp_path) == []  # the live runner's own folder is never removed


def test_bwrap_requested_but_missing_is_an_error(monkeypatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.choose.cache_clear()
    try:
        with pytest.raises(IsolationUnavailable, match="bubblewrap is not installed"):
            sandbox.choose("bwrap")
        fallback = sandbox.choose("auto")
        assert fallback.mode == "none" and "install bubblewrap" in fallback.describe()
    finally:
        sandbox.choose.cache_clear()


def test_the_data_folder_inside_what_actions_see_is_refused(tmp_path: Path) -> None:
    iso = Isolation("bwrap", "/usr/bin/bwrap")
    environment = locate_all()["python:3.11"]
    for shown in environment.shown():
        with pytest.raises(IsolationUnavailable, match="lies inside"):
            iso.check_hidden(shown / "data")
    iso.check_hidden(tmp_path)  # outside every bound folder: fine
    # The server's own virtual environment is no longer shown to actions at all.
    if Path(sys.prefix).resolve() not in [p.resolve() for p in environment.shown()]:
        iso.check_hidden(Path(sys.prefix) / "data")


def test_the_platform_tells_the_runtime_when_code_is_replaced_or_deleted(tmp_path: Path) -> None:
    from fakes import FakeRunner, call, make_app, make_backend

    runner = FakeRunner()
    app = make_app(make_backend(tmp_path, runner))
    code = {"exec": {"kind": "python:3.11", "code": "def main(a): return a"}}
    base = "/api/v1/namespaces/_/actions/gone"
    for query in ("", "overwrite=true"):
        assert asyncio.run(call(app, "PUT", base, code, query=query)).status == 200
    assert asyncio.run(call(app, "DELETE", base)).status == 200
    assert runner.forgotten == ["/guest/gone"] * 3


@needs_bwrap
def test_an_interpreter_under_tmp_is_bound_on_top_of_the_private_tmp(tmp_path: Path) -> None:
    # A fresh clone under /tmp (as CI may make one) has its virtual environment there:
    # the private /tmp must not hide it, or auto mode would fall back to no isolation.
    venv = Path("/tmp") / f"lw-venv-{os.getpid()}"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    try:
        probe = subprocess.run(
            [str(venv / "bin" / "python"), "-c",
             "from localwhisk.runtime.sandbox import choose; print(choose('bwrap').describe())"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        )  # fmt: skip
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.startswith("isolation: bubblewrap")
    finally:
        shutil.rmtree(venv, ignore_errors=True)


IMPORTS = """
import importlib, sys
def main(args):
    found = {}
    for name in args["names"]:
        try:
            importlib.import_module(name)
            found[name] = True
        except ImportError:
            found[name] = False
    return {"found": found, "prefix": sys.prefix}
"""


@pytest.mark.parametrize("iso", BOTH)
def test_a_python_action_sees_its_kinds_image_packages_not_the_servers(
    tmp_path: Path, iso: Isolation
) -> None:
    environment = locate_all()["python:3.11"]
    assert environment.built, "run `make runtimes`"
    names = ["bs4", "lxml.etree", "localwhisk", "uvicorn", "orjson", "yaml", "hypothesis"]
    outcome = with_runner(
        tmp_path,
        lambda r: r.run(job(spec(IMPORTS), {"names": names})),
        isolation=iso,
    )
    assert outcome.status == SUCCESS, outcome
    assert outcome.result == {
        "found": {name: name in ("bs4", "lxml.etree") for name in names},
        "prefix": str(environment.folder),
    }


@needs_bwrap
def test_requirements_txt_is_installed_at_init_inside_the_sandbox(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_demo_wheel(wheels)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        main = "import lwdemo\ndef main(args):\n    return {'from': lwdemo.__file__}\n"
        archive.writestr("__main__.py", main)
        # pip takes a find-links folder relative to the requirements file: the zip's own.
        archive.writestr("requirements.txt", "--no-index\n--find-links wheels\nlwdemo==1.0\n")
        archive.write(wheels / WHEEL, f"wheels/{WHEEL}")
    code = spec(base64.b64encode(buffer.getvalue()).decode(), binary=True)
    outcome = with_runner(
        tmp_path / "work", lambda r: r.run(job(code, timeout_ms=60_000)), isolation=BWRAP
    )
    assert outcome.status == SUCCESS, outcome
    # Installed where the sandbox shows the action's folder, by a pip running inside it.
    assert outcome.result == {
        "from": "/action/virtualenv/lib/python3.11/site-packages/lwdemo/__init__.py"
    }
