"""One Python environment per kind, holding its image's packages and nothing of localwhisk's.

An action of ``python:3.11`` runs on Python 3.11 (``pythons``) in a virtual environment
made from the image's requirement list (``images``), never in the server's own: what
imports on the platform imports here, and what the platform lacks (``uvicorn``,
``localwhisk``) does not. ``make runtimes`` builds the environments once (network needed
then, not later); they are cached under ``~/.cache/localwhisk/runtimes`` (or
``$LOCALWHISK_RUNTIMES``), one folder per requirement list and interpreter, so a changed
list or Python gets a new folder and an unchanged one costs nothing.

A kind whose environment is not built runs on its interpreter's standard library alone
(``python -I -S``: no site-packages of any kind) and the server says so at start; it never
falls back to the server's environment. ``python -m localwhisk.runtime.virtualenvs`` is
the builder ``make runtimes`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from localwhisk.runtime import pythons
from localwhisk.runtime.images import IMAGES, UPGRADE_FIRST, Image
from localwhisk.runtime.pythons import Interpreter

COMPLETE = ".localwhisk-complete"  # written last: its presence means the build finished
_PIP_TAIL_LINES = 25  # of pip's output, in a failed build's message


def cache_root() -> Path:
    explicit = os.environ.get("LOCALWHISK_RUNTIMES")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "localwhisk" / "runtimes"


@dataclass(frozen=True)
class Environment:
    """Where one kind's action processes start, and what of the machine they must see."""

    kind: str
    interpreter: Interpreter  # the base Python
    wanted: str  # the image's Python version, "3.11"
    folder: Path | None  # the built environment, None when there is none to use

    @property
    def built(self) -> bool:
        return self.folder is not None

    @property
    def exact(self) -> bool:
        """The kind runs on its image's Python version."""
        return self.interpreter.minor == self.wanted

    def argv(self) -> list[str]:
        """The interpreter command a launcher starts with (stdin unbuffered, isolated mode)."""
        if self.folder is not None:
            return [str(self.folder / "bin" / "python"), "-u", "-I"]
        return [self.interpreter.path, "-u", "-I", "-S"]

    def shown(self) -> list[Path]:
        """The folders an action process needs to see, read-only, in a sandbox."""
        shown = [Path(self.interpreter.prefix).resolve()]
        if self.folder is not None:
            shown.append(self.folder)
        return shown

    def describe(self) -> str:
        """The start-up line for this kind."""
        python = f"Python {self.interpreter.dotted} ({self.interpreter.path})"
        if not self.exact:
            python += f", not {self.wanted} as on the platform: Python {self.wanted} is not installed here"
        if self.folder is None:
            return (
                f"{self.kind}: {python}, standard library only: its image's packages are "
                "not built (run `make runtimes`)"
            )
        return f"{self.kind}: {python} with its image's packages ({self.folder})"


def _key(image: Image, interpreter: Interpreter) -> str:
    spec = "\0".join(
        (image.requirements_text(), " ".join(UPGRADE_FIRST), interpreter.path, interpreter.dotted)
    )
    return hashlib.sha256(spec.encode("utf-8")).hexdigest()[:16]


def interpreter_for(image: Image) -> Interpreter:
    return pythons.find(image.python) or pythons.server()


def folder_for(image: Image, interpreter: Interpreter, root: Path | None = None) -> Path:
    name = f"{image.kind.replace(':', '')}-{_key(image, interpreter)}"
    return (root or cache_root()) / name


def locate(kind: str, root: Path | None = None) -> Environment:
    """The environment of ``kind`` as it is on disk now (nothing is built here)."""
    image = IMAGES[kind]
    interpreter = interpreter_for(image)
    folder = folder_for(image, interpreter, root)
    built = (folder / COMPLETE).is_file() and (folder / "bin" / "python").exists()
    return Environment(kind, interpreter, image.python, folder if built else None)


@functools.cache
def locate_all(root: Path | None = None) -> dict[str, Environment]:
    """Every Python kind's environment (looked up once per server)."""
    return {kind: locate(kind, root) for kind in IMAGES}


def describe_all(environments: dict[str, Environment]) -> list[str]:
    """The start-up lines: one for the kinds served as on the platform, one for each that
    is not (another Python, or no packages)."""
    exact = [env for env in environments.values() if env.exact and env.built]
    lines = []
    if exact:
        served = ", ".join(f"{env.kind} on {env.interpreter.dotted}" for env in exact)
        root = exact[0].folder.parent if exact[0].folder else cache_root()
        lines.append(f"python kinds: {served}, each with its image's packages only ({root})")
    lines.extend(env.describe() for env in environments.values() if env not in exact)
    return lines


def launcher_python() -> Environment:
    """The bare interpreter Node.js's launcher starts on before it becomes ``node``."""
    server = pythons.server()
    return Environment("nodejs", server, server.minor, None)


class BuildFailed(Exception):
    """An environment could not be built; the message names the kind and pip's complaint."""


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two builders of one environment take turns
        yield


def _run(kind: str, argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-_PIP_TAIL_LINES:])
        raise BuildFailed(f"{kind}: `{' '.join(argv[1:])}` failed:\n{tail}")
    return done.stdout


def build(kind: str, root: Path | None = None) -> tuple[Environment, bool]:
    """Build ``kind``'s environment unless it is cached; (environment, built now)."""
    image = IMAGES[kind]
    interpreter = interpreter_for(image)
    folder = folder_for(image, interpreter, root)
    with _locked(folder):
        if (folder / COMPLETE).is_file():
            return locate(kind, root), False
        shutil.rmtree(folder, ignore_errors=True)  # what an interrupted build left
        try:
            _run(kind, [interpreter.path, "-I", "-m", "venv", str(folder)])
            python = str(folder / "bin" / "python")
            # As the image's Dockerfile: pip, six and wheel upgraded, then the list.
            _run(kind, [python, "-I", "-m", "pip", "install", "-q", "--upgrade", *UPGRADE_FIRST])
            _run(kind, [python, "-I", "-m", "pip", "install", "-q", "-r", str(image.requirements)])
            frozen = _run(kind, [python, "-I", "-m", "pip", "freeze", "--all"])
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        (folder / COMPLETE).write_text(frozen, encoding="utf-8")
    return locate(kind, root), True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localwhisk.runtime.virtualenvs",
        description="Build each Python kind's environment of its image's packages (cached).",
    )
    parser.add_argument("kinds", nargs="*", help=f"default: all ({', '.join(IMAGES)})")
    ns = parser.parse_args(argv)
    unknown = [kind for kind in ns.kinds if kind not in IMAGES]
    if unknown:
        parser.error(f"unknown kind {unknown[0]!r}: expected one of {', '.join(IMAGES)}")
    kinds = ns.kinds or list(IMAGES)
    print(f"runtimes: {cache_root()}", flush=True)

    def one(kind: str) -> str | None:
        started = time.monotonic()
        try:
            environment, fresh = build(kind)
        except BuildFailed as exc:
            print(f"runtimes: FAILED {exc}", file=sys.stderr, flush=True)
            return kind
        took = f"built in {time.monotonic() - started:.1f} s" if fresh else "cached"
        print(f"runtimes: {environment.describe()} — {took}", flush=True)
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:  # pip spends much of its time waiting
        failed = [kind for kind in pool.map(one, kinds) if kind is not None]
    if failed:
        print(f"runtimes: {len(failed)} failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
