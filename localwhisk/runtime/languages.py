"""What differs between the languages actions are written in; everything else is shared.

One ``Language`` per runtime family says how a blank action process is started (its
interpreter and launcher), how plain source is laid out, what a zip must hold, and how an
out-of-memory death is recognised. The runner, pool, sandbox and log capture are the same
for all of them. Finding the machine's ``node`` lives here too: it is a fact about the
machine the runtime needs once, at start.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from localwhisk.runtime import launcher

RUNTIME_DIR = Path(__file__).resolve().parent
PY_LAUNCHER = RUNTIME_DIR / "launcher.py"
JS_LAUNCHER = RUNTIME_DIR / "launcher.js"
# The modules every Node.js action may require unbundled (openwhisk), as the runtime images
# install them at / (apache/openwhisk-runtime-nodejs core/nodejs20Action/Dockerfile).
NODE_MODULES = RUNTIME_DIR / "nodejs" / "node_modules"
MIN_NODE_MAJOR = 18
# What V8 prints to stderr before it aborts on a full heap (or a failed mmap under the
# data limit): the only sign a Node.js process gives of dying out of memory.
NODE_OOM_MARKERS = (b"JavaScript heap out of memory", b"Fatal process out of memory")
# V8's old space is most of a Node.js process's memory, not all of it: the heap gets this
# share of the action's limit, and the data limit leaves room for V8 and Buffers around it.
NODE_HEAP_SHARE = 0.75
NODE_DATA_SLACK_MB = 256


@dataclass(frozen=True)
class Node:
    """The machine's Node.js, or why there is none that can run actions."""

    path: str | None
    version: str = ""  # "v20.20.2"
    why_not: str = ""

    @property
    def usable(self) -> bool:
        return self.path is not None

    @property
    def prefix(self) -> Path | None:
        """The installation folder (``/usr``, ``~/.nvm/versions/node/v20``) holding bin/node."""
        return Path(self.path).parent.parent if self.path else None

    def describe(self) -> str:
        """The start-up line saying which Node.js serves the nodejs kinds."""
        if self.usable:
            return f"nodejs kinds: run by Node.js {self.version} ({self.path})"
        return f"nodejs kinds: stored but not run — {self.why_not}"


@functools.cache  # one look at the machine per server
def find_node() -> Node:
    found = shutil.which("node")
    if found is None:
        return Node(None, why_not=f"install Node.js {MIN_NODE_MAJOR} or newer and restart")
    path = os.path.realpath(found)
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Node(None, why_not=f"{path} does not start ({exc})")
    version = done.stdout.strip()
    match = re.fullmatch(r"v(\d+)\.\d+\.\d+.*", version)
    if match is None:
        return Node(None, why_not=f"{path} --version printed {version!r}, not a Node.js version")
    if int(match.group(1)) < MIN_NODE_MAJOR:
        return Node(
            None,
            why_not=f"Node.js {version} at {path} is too old: install {MIN_NODE_MAJOR} or newer",
        )
    return Node(path, version)


@dataclass(frozen=True)
class Language:
    family: str  # "python", "nodejs": the kind's prefix
    source_file: str  # where plain source is written in the code folder
    launcher: Path  # the program that speaks the runner's protocol inside the process
    # Spares start before any action is known; a language whose memory limit must be set at
    # start (V8's heap) keeps spares per memory size.
    memory_at_start: bool

    def argv(
        self,
        python: list[str],
        launchers: dict[str, str],
        result_fd: int,
        mode: str,
        memory_mb: int,
    ) -> list[str]:
        """The command that starts one blank process; ``python`` is the interpreter command
        (the kind's environment, ``virtualenvs``), ``launchers`` maps each launcher file to
        its path as the process sees it (inside a sandbox it is elsewhere).

        Python's launcher contains itself. Node.js cannot set rlimits or leave root, so the
        Python launcher does that first and then becomes ``node`` running the JavaScript
        launcher (``launcher.exec_node``)."""
        python = [*python, launchers[PY_LAUNCHER.name], str(result_fd), mode]
        if self.family == "python":
            return python
        heap = max(16, int(memory_mb * NODE_HEAP_SHARE))
        return [
            *python, launcher.EXEC_NODE, str(memory_mb + NODE_DATA_SLACK_MB),
            str(find_node().path), f"--max-old-space-size={heap}", launchers[self.launcher.name],
        ]  # fmt: skip

    def out_of_memory(self, returncode: int | None, saw_oom_marker: bool) -> bool:
        if self.family == "python":
            return returncode == launcher.MEMORY_EXIT
        return returncode not in (None, 0) and saw_oom_marker


PYTHON = Language("python", "__main__.py", PY_LAUNCHER, memory_at_start=False)
NODEJS = Language("nodejs", "index.js", JS_LAUNCHER, memory_at_start=True)
LANGUAGES = {language.family: language for language in (PYTHON, NODEJS)}


def language_of(kind: str) -> Language | None:
    return LANGUAGES.get(kind.partition(":")[0])
