"""Where dependency builds and dependency-carrying zips are kept, and what names them.

The root is ``$OWDEPLOY_CACHE_DIR``, else ``$XDG_CACHE_HOME/owdeploy``, else
``~/.cache/owdeploy`` (the XDG base directory rule). ``trees/<key>/`` holds one built
``virtualenv/`` or ``node_modules/``, ``zips/<key>.zip`` one action's zip; both appear
only whole: a build is made under ``tmp/`` and renamed into place, so an interrupted
or concurrent deploy never leaves half a tree to be shipped later.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from deploy.models import DependencySpec

# Bumped when what a build holds or how a zip is laid out changes: old entries are ignored.
FORMAT = "owdeploy-dependencies-1"


def cache_root(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("OWDEPLOY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the spec: a relative value is to be ignored
        return Path(xdg) / "owdeploy"
    return Path(environ.get("HOME") or os.path.expanduser("~")) / ".cache" / "owdeploy"


def spec_key(spec: DependencySpec, kind: str, platform: str) -> str:
    """sha256 over the spec files' names and bytes, the target kind and platform."""
    sha = hashlib.sha256(FORMAT.encode())
    for part in (spec.ecosystem, kind, platform):
        sha.update(b"\0" + part.encode())
    for name, data in spec.files:
        sha.update(b"\0" + name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return sha.hexdigest()


def zip_key(dependencies: str, own_code: str) -> str:
    """The key of an action's zip: its dependency build and its own files' zip."""
    return hashlib.sha256(f"{FORMAT}\0{dependencies}\0{own_code}".encode()).hexdigest()


class Cache:
    """One cache root; creates its folders private to the user (0700) on first write."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def tree(self, key: str) -> Path | None:
        path = self.root / "trees" / key
        return path if path.is_dir() else None

    def zip(self, key: str) -> bytes | None:
        try:
            return (self.root / "zips" / f"{key}.zip").read_bytes()
        except FileNotFoundError:
            return None

    def unpacked(self) -> tempfile.TemporaryDirectory[str]:
        """A scratch folder, removed on leaving its ``with``, for a zip's files."""
        return tempfile.TemporaryDirectory(prefix="unpacked-", dir=self._folder("tmp"))

    def scratch(self) -> Path:
        """A new empty folder under ``tmp/`` for a build (same file system as ``trees/``)."""
        return Path(tempfile.mkdtemp(prefix="build-", dir=self._folder("tmp")))

    def keep_tree(self, key: str, built: Path) -> Path:
        """Move a finished build into place; one that lost a race to another is dropped."""
        final = self._folder("trees") / key
        try:
            os.rename(built, final)
        except OSError:
            if not final.is_dir():
                raise
            shutil.rmtree(built, ignore_errors=True)
        return final

    def keep_zip(self, key: str, data: bytes) -> None:
        folder = self._folder("zips")
        fd, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, folder / f"{key}.zip")

    def _folder(self, name: str) -> Path:
        path = self.root / name
        # Made private to the user (0700) when made here; a folder given that exists keeps its mode.
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.mkdir(exist_ok=True, mode=0o700)
        return path
