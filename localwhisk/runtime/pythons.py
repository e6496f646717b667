"""The Python interpreters on this machine: which one can stand in for a kind's image.

A kind's image runs one Python (``python:3.11-bookworm`` for ``python:3.11``, apache/
openwhisk-runtime-python ``core/python311Action/Dockerfile``). Here the same minor version
is looked for on ``PATH`` (``python3.11``) and in pyenv's versions folder; where there is
none, the interpreter localwhisk itself runs on stands in, and the server says so. Looking
means asking each candidate for its version once per server (one short subprocess).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# sys.executable, not the path asked: a pyenv shim or a symlink stands for the real one.
_ASK = (
    "import json, sys; "
    "print(json.dumps([list(sys.version_info[:3]), sys.base_prefix, sys.executable]))"
)


@dataclass(frozen=True)
class Interpreter:
    """One Python installation: its executable, version and the folder it lives in."""

    path: str  # the real executable, symlinks resolved
    version: tuple[int, int, int]
    prefix: str  # sys.base_prefix: the standard library and shared libraries are below it

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def dotted(self) -> str:
        return ".".join(str(part) for part in self.version)


@functools.cache
def inspect(path: str) -> Interpreter | None:
    """The interpreter at ``path``, or None when it does not start or is not a Python 3."""
    real = os.path.realpath(path)
    try:
        done = subprocess.run(
            [real, "-I", "-S", "-c", _ASK], capture_output=True, text=True, timeout=10, check=False
        )
        version, prefix, executable = json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError, TypeError):
        return None
    if done.returncode != 0 or version[0] != 3:
        return None
    return Interpreter(os.path.realpath(executable), (version[0], version[1], version[2]), prefix)


def _pyenv_candidates(minor: str) -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    for folder in sorted(root.glob(f"{minor}.*"), reverse=True):  # the newest patch first
        if folder.name[len(minor) + 1 :].isdigit():  # 3.11.7, not 3.11.7-debug or 3.11-dev
            found.append(folder / "bin" / f"python{minor}")
    return found


@functools.cache
def find(minor: str) -> Interpreter | None:
    """A Python of version ``minor`` ("3.11") on this machine, or None."""
    candidates: list[str | Path] = []
    on_path = shutil.which(f"python{minor}")
    if on_path:
        candidates.append(on_path)
    candidates.extend(_pyenv_candidates(minor))
    for candidate in candidates:
        found = inspect(str(candidate))
        if found is not None and found.minor == minor:
            return found
    return None


@functools.cache
def server() -> Interpreter:
    """The interpreter localwhisk runs on, outside its virtual environment: the stand-in
    for a kind whose version this machine lacks, and the one Node.js's launcher starts on."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    found = inspect(base)
    if found is None:  # cannot happen for a working server; answer from this process
        info = sys.version_info
        return Interpreter(os.path.realpath(base), (info[0], info[1], info[2]), sys.base_prefix)
    return found
