"""Containment of action processes: which isolation is in force and how a launcher starts in it.

OpenWhisk runs every action in its own container (apache/openwhisk
``core/invoker/.../containerpool/docker/DockerContainerFactory.scala``). Locally the
nearest thing the machine usually allows is bubblewrap: each launcher gets its own
PID, IPC and mount namespaces in which only the interpreter, the system libraries, its
own code folder (read-only), a private size-limited ``/tmp`` and ``/dev/shm`` exist.
The network namespace is kept so that ``__OW_API_HOST`` (127.0.0.1) stays reachable.

Without bubblewrap the launcher bounds itself with rlimits and the runner kills the
whole process tree; :meth:`Isolation.describe` says which of the two is in force.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from localwhisk.runtime import launcher
from localwhisk.runtime.languages import (
    JS_LAUNCHER,
    NODE_MODULES,
    PY_LAUNCHER,
    PYTHON,
    Language,
    find_node,
)
from localwhisk.runtime.virtualenvs import Environment, launcher_python, locate_all

MODES = ("auto", "bwrap", "none")
MIB = 1024 * 1024
SCRATCH_BYTES = launcher.SCRATCH_BYTES  # each of /tmp and /dev/shm
# The sandboxed process runs as this user when the server is root: root is exempt from
# RLIMIT_NPROC, and a user of its own keeps files of the server's user out of reach.
NOBODY = 65534
ACTION_DIR = "/action"  # where the code folder appears inside the sandbox
LAUNCHER_DIR = "/run/localwhisk"  # the launchers, read-only
LAUNCHER_PATH = f"{LAUNCHER_DIR}/{PY_LAUNCHER.name}"
# Where the runtime images install the modules actions require unbundled: on every
# action folder's resolve path (apache/openwhisk-runtime-nodejs Dockerfile, WORKDIR /).
MODULES_PATH = "/node_modules"
# Host files an interpreter and its network stack read; nothing else of /etc is shown.
ETC_FILES = (
    "resolv.conf", "hosts", "nsswitch.conf", "host.conf", "gai.conf", "services",
    "protocols", "localtime", "passwd", "group", "ssl", "ca-certificates", "pki",
    "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "mime.types",
)  # fmt: skip
TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


class IsolationUnavailable(Exception):
    """The isolation asked for cannot be had; the message says why and what to do."""


@dataclass(frozen=True)
class Isolation:
    """The isolation in force for every action process of one server."""

    mode: str  # "bwrap" or "none"
    bwrap: str | None = None  # path of the bwrap binary when mode is "bwrap"
    as_root: bool = False  # the server is root: the launcher drops to NOBODY itself
    why_not: str = ""  # when bubblewrap is installed but unusable, its complaint

    @property
    def sandboxed(self) -> bool:
        return self.mode == "bwrap"

    def describe(self) -> str:
        """The one line the server prints at start."""
        scratch = SCRATCH_BYTES // MIB
        if self.sandboxed:
            user = f", uid {NOBODY}" if self.as_root else ""
            return (
                f"isolation: bubblewrap (pid, mount, ipc, user namespaces{user}; "
                f"private /tmp and /dev/shm {scratch} MB each; "
                f"{launcher.MAX_PROCESSES} processes, {launcher.MAX_OPEN_FILES} open files)"
            )
        fix = (
            f"bubblewrap cannot start here: {self.why_not}"
            if self.why_not
            else "install bubblewrap"
        )
        return (
            "isolation: none beyond rlimits and process-tree kill "
            f"(actions run as the server's user and can read its files) — {fix}"
        )

    def launcher_mode(self) -> str:
        """What the launcher must do to itself before it takes any code (see launcher)."""
        if not self.sandboxed:
            return launcher.CONTAIN_NONE
        return launcher.CONTAIN_DROP if self.as_root else launcher.CONTAIN_USERNS

    def command(
        self,
        slot: Path | None,
        result_fd: int,
        language: Language,
        memory_mb: int,
        environment: Environment,
    ) -> list[str]:
        """The argv that starts a blank launcher, inside the sandbox when there is one.

        ``slot`` is the host folder shown at ``/action``: the runner links the action's
        code into it at init, so a prewarmed sandbox needs no remount. ``environment`` is
        the interpreter the launcher starts on; only its folders are shown, never the
        server's virtual environment.
        """
        mode = self.launcher_mode()
        if not self.sandboxed:
            launchers = {path.name: str(path) for path in (PY_LAUNCHER, JS_LAUNCHER)}
            return language.argv(environment.argv(), launchers, result_fd, mode, memory_mb)
        assert slot is not None and self.bwrap is not None
        launchers = {
            path.name: f"{LAUNCHER_DIR}/{path.name}" for path in (PY_LAUNCHER, JS_LAUNCHER)
        }
        return [
            self.bwrap,
            *_namespaces(self.as_root),
            # Scratch first: bwrap mounts in order, so an interpreter or virtual
            # environment that lives under /tmp is bound on top of the private /tmp
            # instead of being hidden by it.
            "--perms", "1777", "--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp",
            "--proc", "/proc",
            "--dev", "/dev",
            "--perms", "1777", "--size", str(SCRATCH_BYTES), "--tmpfs", "/dev/shm",
            *_system_binds(environment),
            *_runtime_binds(language),
            "--ro-bind", str(slot), ACTION_DIR,
            "--chdir", ACTION_DIR,
            "--setenv", "HOME", "/tmp",
            "--",
            *language.argv(environment.argv(), launchers, result_fd, mode, memory_mb),
        ]  # fmt: skip

    def install_command(self, folder: Path, environment: Environment, argv: list[str]) -> list[str]:
        """The argv of one step of the runtime's compile (``pip install`` of an action's
        requirements.txt): in a sandbox of its own where ``folder``, the action's code,
        is writable at /action; as it is without one."""
        if not self.sandboxed:
            return argv
        assert self.bwrap is not None
        return [
            self.bwrap,
            *_namespaces(self.as_root),
            "--perms", "1777", "--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp",
            "--proc", "/proc",
            "--dev", "/dev",
            *_system_binds(environment),
            "--bind", str(folder), ACTION_DIR,
            "--chdir", ACTION_DIR,
            "--setenv", "HOME", "/tmp",
            "--",
            *argv,
        ]  # fmt: skip

    def node_modules(self) -> str:
        """NODE_PATH as a Node.js action process sees it."""
        return MODULES_PATH if self.sandboxed else str(NODE_MODULES)

    def check_hidden(self, folder: Path) -> None:
        """Refuse to sandbox when the data folder lies inside something actions see."""
        if not self.sandboxed:
            return
        folder = folder.resolve()
        for shown in _shown_paths(*locate_all().values()):
            if folder == shown or shown in folder.parents:
                raise IsolationUnavailable(
                    f"the data folder {folder} lies inside {shown}, which every action can "
                    "read; pass --data a folder outside the Python installation"
                )


def _namespaces(as_root: bool) -> list[str]:
    common = [
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
    ]  # fmt: skip
    if as_root:
        # bwrap as root maps the sandbox to uid 0, which RLIMIT_NPROC never limits: keep
        # only the right to change user, which the launcher uses once and then loses.
        return [*common, "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-user", *common]


def _runtime_binds(language: Language) -> list[str]:
    args = ["--perms", "0755", "--dir", LAUNCHER_DIR, "--ro-bind", str(PY_LAUNCHER), LAUNCHER_PATH]
    if language.family == "nodejs":
        args += ["--ro-bind", str(JS_LAUNCHER), f"{LAUNCHER_DIR}/{JS_LAUNCHER.name}"]
        args += ["--ro-bind-try", str(NODE_MODULES), MODULES_PATH]
    return args


def _shown_paths(*environments: Environment) -> list[Path]:
    """Host folders bound into a sandbox (read-only): the system's, Node.js's, and the
    interpreter and environment folders of ``environments``. Not the server's own."""
    shown = {Path("/usr")}
    node = find_node().prefix
    if node is not None:  # Node.js installed outside /usr (nvm, /opt): its own folder
        shown.add(node.resolve())
    for environment in environments:
        shown.update(environment.shown())
    for top in TOP_LEVEL:
        path = Path("/") / top
        if path.is_dir() and not path.is_symlink():
            shown.add(path)
    return sorted(shown)


def _system_binds(environment: Environment) -> list[str]:
    args: list[str] = []
    for top in TOP_LEVEL:
        path = Path("/") / top
        if path.is_symlink():  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(path), str(path)]
    made: set[Path] = set()
    for shown in _shown_paths(environment):
        # bwrap copies the host's mode onto the folders it makes for a mount point, and
        # /root is 0700: make them traversable first, or nobody could reach the prefix.
        for parent in reversed(shown.parents[:-1]):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(shown), str(shown)]
    # bwrap makes /etc 0700 for its mount points; the sandbox's user (nobody, when the
    # server is root) must read the host files shown in it (resolv.conf, openssl.cnf).
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _probe(bwrap: str, as_root: bool) -> str | None:
    """Start one real blank launcher in a sandbox; None when it works, else the complaint."""
    iso = Isolation("bwrap", bwrap, as_root)
    read_end, write_end = os.pipe()
    try:
        with tempfile.TemporaryDirectory(prefix="probe-") as slot:
            os.chmod(slot, 0o755)
            # stdin at EOF: the launcher bounds itself, finds no init line and exits 0.
            done = subprocess.run(
                iso.command(Path(slot), write_end, PYTHON, 256, launcher_python()),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                pass_fds=(write_end,),
                timeout=10,
                check=False,
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    finally:
        os.close(read_end)
        os.close(write_end)
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


@functools.cache  # the probe costs a sandbox start; the machine does not change meanwhile
def choose(requested: str) -> Isolation:
    """The isolation for ``--isolation auto|bwrap|none``; ``bwrap`` unavailable is an error."""
    if requested not in MODES:
        raise IsolationUnavailable(
            f"--isolation: expected one of {', '.join(MODES)}, got {requested!r}"
        )
    if requested == "none" or not sys.platform.startswith("linux"):
        if requested == "bwrap":
            raise IsolationUnavailable("--isolation bwrap: bubblewrap needs Linux")
        return Isolation("none")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        if requested == "bwrap":
            raise IsolationUnavailable(
                "--isolation bwrap: bubblewrap is not installed "
                "(apt-get install bubblewrap), or pass --isolation auto"
            )
        return Isolation("none")
    as_root = os.geteuid() == 0
    problem = _probe(bwrap, as_root)
    if problem is not None:
        if requested == "bwrap":
            raise IsolationUnavailable(
                f"--isolation bwrap: bubblewrap cannot start a sandbox here ({problem}); "
                "check that user namespaces are allowed, or pass --isolation none"
            )
        return Isolation("none", why_not=problem)
    return Isolation("bwrap", bwrap, as_root)
