"""Which interpreter and platform an action kind runs on, as wheel tags and versions.

The Python images are Debian-based CPython on Linux x86_64 (apache/openwhisk-runtime-python
``core/python3ActionLoop/Dockerfile``: ``python:3.7-stretch`` for the kind ``python:3``,
glibc 2.24; ``core/python3*Action/Dockerfile`` for 3.9 and newer, bullseye or bookworm,
glibc 2.31 or newer). So a wheel must be ``cp3X`` or ``abi3``/``none`` with a manylinux
tag that glibc satisfies, or pure Python; the machine deploying is never asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploy.errors import DependencyError
from whiskfacts.runtimes import DEFAULT_KINDS

ARCH = "x86_64"
PLATFORM = f"linux-{ARCH}-manylinux"  # part of every cache key
# kind -> (Python version, the image's glibc as (major, minor)); other python:3.N kinds are
# taken as 3.N on the newer base images.
_PYTHON_IMAGES = {"python:3": ("3.7", (2, 24))}
_NEWER_GLIBC = (2, 31)
_PYTHON_KIND = re.compile(r"^python:(3)\.(\d{1,2})$")
_NODE_KIND = re.compile(r"^nodejs:(\d{1,3})$")


@dataclass(frozen=True)
class PythonTarget:
    kind: str
    version: str  # "3.11"
    glibc: tuple[int, int]

    @property
    def abi(self) -> str:
        return "cp" + self.version.replace(".", "")

    @property
    def platforms(self) -> tuple[str, ...]:
        """Every manylinux tag the image's glibc satisfies, newest first, with the legacy
        aliases (manylinux2014 = 2_17, manylinux2010 = 2_12, manylinux1 = 2_5)."""
        tags = [f"manylinux_2_{minor}_{ARCH}" for minor in range(self.glibc[1], 4, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        tags += [f"{name}_{ARCH}" for minor, name in legacy.items() if minor <= self.glibc[1]]
        return tuple(tags)

    def describe(self) -> str:
        return f"{self.kind} (CPython {self.version}, Linux {ARCH}, manylinux glibc {self.glibc[0]}.{self.glibc[1]})"


def python_target(kind: str) -> PythonTarget:
    """The target of a ``python:*`` kind; ``python:default`` is the family's default kind."""
    if kind == "python:default":
        kind = DEFAULT_KINDS["python"]
    if kind in _PYTHON_IMAGES:
        version, glibc = _PYTHON_IMAGES[kind]
        return PythonTarget(kind, version, glibc)
    found = _PYTHON_KIND.match(kind)
    if found is None:
        raise DependencyError(
            f"kind {kind}: expected python:3 or python:3.N to build dependencies for,"
            " found a kind whose Python version is unknown (hint: set `runtime` to a"
            " python:3.N kind the target offers)"
        )
    return PythonTarget(kind, f"{found[1]}.{found[2]}", _NEWER_GLIBC)


def node_major(kind: str) -> str:
    """``nodejs:20`` -> ``20``; ``nodejs:default`` -> the family default's major."""
    if kind == "nodejs:default":
        kind = DEFAULT_KINDS["nodejs"]
    found = _NODE_KIND.match(kind)
    if found is None:
        raise DependencyError(
            f"kind {kind}: expected nodejs:N to install dependencies for, found another"
            " (hint: set `runtime` to a nodejs:N kind the target offers)"
        )
    return found[1]
