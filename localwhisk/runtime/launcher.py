"""The program inside every action process: the OpenWhisk Python launcher, stdlib only.

For Node.js actions it only bounds the process and then becomes ``node`` running
``launcher.js`` (``exec_node``).

Started blank (a prewarmed "stem cell"), it waits for one init line naming the action
folder, imports the action, acks on fd 3, then serves one JSON line per activation the
way ``openwhisk-runtime-python``'s ``launcher.py`` does. It must not import localwhisk.

Init fails in the runtime's two ways. What its compile step checks (``bin/compile``:
the virtualenv, the syntax) is answered with ``NO_BINARY`` on fd 3, the cause on
stderr. Whatever goes wrong while the action's module runs ends the process, as it
ends the runtime's ``exec__.py``, after the user's traceback (without this file's
frames); the runner then answers as the runtime's proxy does.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import resource
import signal
import sys
import traceback

# typing's Callable: this file runs on each kind's own Python, 3.7 for python:3, where
# collections.abc.Callable cannot be subscripted.
from typing import Any, BinaryIO, Callable  # noqa: UP035

NICENESS = 10  # added to the server's niceness, once per process
# Per-activation bounds of OpenWhisk's docs/reference.md: "proculimit" (docker
# --pids-limit 1024) and "openulimit" (1024 open files, soft and hard).
MAX_PROCESSES = 1024
MAX_OPEN_FILES = 1024
SCRATCH_BYTES = 64 * 1024 * 1024  # size of the sandbox's /tmp and /dev/shm
MAX_FILE_BYTES = SCRATCH_BYTES  # RLIMIT_FSIZE: no file larger than the scratch space
# What the launcher does to itself at start (argv[2], chosen by the server's sandbox).
CONTAIN_NONE = "none"  # no sandbox: rlimits, die with the server, keep orphans in the tree
CONTAIN_USERNS = "userns"  # bwrap made a user namespace: the process cap is per sandbox
CONTAIN_DROP = "drop"  # bwrap ran as root: become NOBODY in a user namespace of our own
NOBODY = 65534
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_CLONE_NEWUSER = 0x10000000

Main = Callable[[Any], Any]

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
SENTINEL_LINE = SENTINEL.encode() + b"\n"
# Exit status that tells the runner the action ran out of memory (its rlimit was hit).
MEMORY_EXIT = 99
START_EXIT = 1  # the action's module failed to load: the runner reports the exit
# The runtime's answer to a failed compile step (outcomes.NO_BINARY; this file cannot import it).
NO_BINARY = "The action failed to generate or locate a binary. See logs for details."
_THIS_FILE = os.path.abspath(__file__)
# argv[3] for a Node.js process: bound it here, then become node (see ``exec_node``).
EXEC_NODE = "exec-node"
NODE_PROTOCOL_FD = 4


def _take_protocol_fds(result_fd: int) -> tuple[BinaryIO, BinaryIO]:
    """Move the protocol pipes out of the user's way.

    The runtime's result channel is fd 3; the protocol's stdin moves to a private,
    non-inheritable fd so an action reading ``sys.stdin`` sees an empty stream
    instead of swallowing the next activation.
    """
    if result_fd != 3:
        os.dup2(result_fd, 3)
        os.close(result_fd)
    os.set_inheritable(3, False)
    _close_inherited(3)
    protocol_in = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull, encoding="utf-8")  # lives as long as the process
    return protocol_in, os.fdopen(3, "wb")


def _close_inherited(last_kept: int) -> None:
    """Close every fd above ``last_kept``: nothing else of the server's (sockets, database,
    pipes of other actions) stays open. The open ones are listed from /proc, which costs a
    few syscalls; closing a range up to the fd limit would cost one per possible fd."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: the slow way
        os.closerange(last_kept + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        return
    for fd in fds:
        if fd > last_kept:
            with contextlib.suppress(OSError):  # the fd of the listing itself is gone by now
                os.close(fd)


def _prctl(libc: Any, option: int, value: int) -> None:
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option})")


def _become_nobody(libc: Any) -> None:
    """Leave root for a user of our own in a fresh user namespace.

    RLIMIT_NPROC never applies to root of the initial namespace, and counts per user
    per namespace: a namespace of our own makes the process cap this sandbox's alone.
    """
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)  # drops every capability bwrap left us
    _prctl(libc, _PR_SET_DUMPABLE, 1)  # so /proc/self/uid_map is ours to write
    if libc.unshare(_CLONE_NEWUSER) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{NOBODY} {NOBODY} 1")):
        with open(f"/proc/self/{name}", "w", encoding="ascii") as f:
            f.write(text)
    with open("/proc/self/gid_map", "w", encoding="ascii") as f:
        f.write(f"{NOBODY} {NOBODY} 1")


def _cap(limit: int, value: int) -> None:
    soft, hard = resource.getrlimit(limit)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(limit, (value, value))


def contain(mode: str) -> None:
    """Bound this process before any action code exists in it (runs in the blank spare).

    Open files and file size always; processes where a user namespace makes the count
    this sandbox's own. Without a sandbox it also dies with the server and adopts its
    descendants' orphans, so the runner finds the whole tree to kill.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if mode == CONTAIN_DROP:
        _become_nobody(libc)
    _cap(resource.RLIMIT_NOFILE, MAX_OPEN_FILES)
    _cap(resource.RLIMIT_FSIZE, MAX_FILE_BYTES)
    if mode in (CONTAIN_DROP, CONTAIN_USERNS):
        _cap(resource.RLIMIT_NPROC, MAX_PROCESSES)
    else:
        _prctl(libc, _PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(libc, _PR_SET_CHILD_SUBREAPER, 1)


def _activate_virtualenv(folder: str) -> None:
    """Activate the zip's ``virtualenv/`` as the runtime's launcher does: by running its
    ``bin/activate_this.py`` (``Scripts/`` for one packed on Windows), nothing more."""
    venv = os.path.join(folder, "virtualenv")
    if not os.path.isdir(venv):
        return
    activate_this = os.path.join(venv, "bin", "activate_this.py")
    if not os.path.exists(activate_this):
        activate_this = os.path.join(venv, "Scripts", "activate_this.py")
    if not os.path.exists(activate_this):
        raise BuildError("Invalid virtualenv. Zip file does not include 'activate_this.py'.")
    with open(activate_this, encoding="utf-8") as f:
        exec(compile(f.read(), activate_this, "exec"), {"__file__": activate_this})


class BuildError(Exception):
    """What the runtime's compile step finds wrong; the message is the whole cause."""


class StartError(Exception):
    """The module loaded but cannot be run; the message is the whole cause."""


def _compile_main(folder: str) -> Any:
    """The action's code object: a syntax error is a compile-step failure, as ``ast.parse``
    in the runtime's ``bin/compile`` makes it."""
    path = os.path.join(folder, "__main__.py")
    with open(path, "rb") as f:
        source = f.read()
    try:
        return compile(source, path, "exec")
    except (SyntaxError, ValueError) as ex:  # ValueError: NUL bytes in the source
        raise BuildError("".join(traceback.format_exception_only(type(ex), ex)).rstrip()) from ex


def _load_main(folder: str, main_name: str) -> Main:
    _activate_virtualenv(folder)
    code = _compile_main(folder)
    sys.path.insert(0, folder)
    # Run under the name the real runtime uses (main__), so an
    # `if __name__ == "__main__":` block in the action does not run.
    spec = importlib.util.spec_from_file_location("main__", os.path.join(folder, "__main__.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["main__"] = module
    exec(code, module.__dict__)
    fn = getattr(module, main_name, None)
    if not callable(fn):
        raise StartError(f"The function '{main_name}' is not defined in __main__.py.")
    return fn


def _report_start_failure(ex: BaseException) -> None:
    """On stderr, what the interpreter would print had the action's module been the
    program: its traceback from the action's first frame on, nothing for ``sys.exit(n)``."""
    if isinstance(ex, StartError):
        print(ex, file=sys.stderr)
    elif isinstance(ex, SystemExit):
        if ex.code is not None and not isinstance(ex.code, int):
            print(ex.code, file=sys.stderr)
    else:
        tb = ex.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == _THIS_FILE:
            tb = tb.tb_next
        traceback.print_exception(type(ex), ex, tb, file=sys.stderr)


def _init(line: bytes) -> tuple[Main, set[str]]:
    """Apply the init message: limits, environment, working folder, then import the action."""
    init = json.loads(line)["init"]
    # Below the server in CPU priority: on a small machine an action spinning in a loop
    # must not slow the API for every other caller (containers get CPU shares for this).
    os.nice(NICENESS)
    memory = int(init.get("memory_mb") or 0) * 1024 * 1024
    if memory:
        # RLIMIT_DATA (not RLIMIT_AS) so threads' reserved malloc arenas do not count.
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    for key, value in init.get("env", {}).items():
        os.environ[key] = str(value)
    # As /init's env does, the first activation's context is visible to import-time code.
    context = {f"__OW_{key.upper()}": str(value) for key, value in init.get("context", {}).items()}
    os.environ.update(context)
    os.chdir(init["dir"])
    return _load_main(init["dir"], init.get("main") or "main"), set(context)


def _serve(protocol_in: BinaryIO, out: BinaryIO, main: Main, previous: set[str]) -> None:
    env = os.environ
    while True:
        line = protocol_in.readline()
        if not line:
            return
        args = json.loads(line)
        payload = args.pop("value", {})
        current = set()
        for key, value in args.items():
            name = f"__OW_{key.upper()}"
            current.add(name)
            text = str(value)
            # Most of the context (namespace, action name, version) repeats: setting a
            # variable costs a putenv, so only what changed is set.
            if env.get(name) != text:
                env[name] = text
        # A key sent last time but not now (api_key) must not leak into this activation.
        for stale in previous - current:
            env.pop(stale, None)
        previous = current
        try:
            result = main(payload)
        except MemoryError:
            raise
        except Exception as ex:
            print(traceback.format_exc(), file=sys.stderr)
            result = {"error": str(ex)}
        line = json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n"
        # Sentinels first: when the result arrives the logs are already complete in the
        # pipes, so the server reads all three in one wake-up instead of waiting again.
        _end_of_activation()
        out.write(line)
        out.flush()


def _end_of_activation() -> None:
    """Mark the end of this activation's logs on both streams.

    Written to fds 1 and 2 directly (after flushing), so an action that replaced
    ``sys.stdout`` or closed its stdout cannot break the protocol.
    """
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        with contextlib.suppress(Exception):
            stream.flush()
        with contextlib.suppress(OSError):
            os.write(fd, SENTINEL_LINE)


def run(result_fd: int, mode: str = CONTAIN_NONE) -> None:
    protocol_in, out = _take_protocol_fds(result_fd)
    contain(mode)
    init_line = protocol_in.readline()
    if not init_line:
        return
    try:
        main, context_keys = _init(init_line)
    except MemoryError:
        os._exit(MEMORY_EXIT)
    except BuildError as ex:
        print(ex, file=sys.stderr, flush=True)
        out.write(json.dumps({"error": NO_BINARY}).encode("utf-8") + b"\n")
        out.flush()
        return
    except BaseException as ex:  # SystemExit from import-time code is a start failure too
        _report_start_failure(ex)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Not a normal exit: threads the module started must not keep the process alive.
        os._exit(START_EXIT)
    out.write(b'{"ok": true}\n')
    out.flush()
    try:
        _serve(protocol_in, out, main, context_keys)
    except MemoryError:
        os._exit(MEMORY_EXIT)


def exec_node(result_fd: int, mode: str, data_mb: int, node: str, node_args: list[str]) -> None:
    """Bound this process as for a Python action, then replace it with ``node``.

    Node.js has no setrlimit and cannot leave root, so the containment is done here in
    Python and survives the exec. The results stay on fd 3, the protocol moves to fd 4
    (read by launcher.js), and the action's stdin is empty.
    """
    if result_fd != 3:
        os.dup2(result_fd, 3)
        os.close(result_fd)
    _close_inherited(3)
    os.dup2(0, NODE_PROTOCOL_FD)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for fd in (3, NODE_PROTOCOL_FD):
        os.set_inheritable(fd, True)
    contain(mode)
    os.nice(NICENESS)
    data = data_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    os.execv(node, [node, *node_args, "3", str(NODE_PROTOCOL_FD)])


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[3] == EXEC_NODE:
        exec_node(int(sys.argv[1]), sys.argv[2], int(sys.argv[4]), sys.argv[5], sys.argv[6:])
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 3, *sys.argv[2:3])
