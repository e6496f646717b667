"""Action code on disk: one folder per action revision, as the runtime's /init would lay it out.

Owns writing source as ``__main__.py``, unpacking zip actions safely and removing the
folders of retired revisions. File work only; no processes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from localwhisk.runtime.contract import CodeSpec


class CodeError(Exception):
    """The action's code cannot be laid out; the message is the cause shown to the developer."""


def _safe_extract(data: bytes, target: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise CodeError(f"Invalid zip file: {exc}.") from exc
    with archive:
        for info in archive.infolist():
            name = info.filename
            parts = Path(name).parts
            # Zip-slip: an entry must stay inside the action folder.
            if name.startswith(("/", "\\")) or os.path.isabs(name) or ".." in parts:
                raise CodeError(
                    f"Invalid zip file: entry '{name}' points outside the action folder."
                )
        try:
            archive.extractall(target)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise CodeError(f"Invalid zip file: {exc}.") from exc
        # zipfile drops permission bits; keep executables (virtualenv/bin) runnable.
        for info in archive.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(target / info.filename, mode | 0o600)


def _lay_out(spec: CodeSpec, code: str, target: Path) -> None:
    """Write the code into a fresh folder, then move it into place in one rename."""
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        if spec.binary:
            try:
                data = base64.b64decode(code, validate=False)
            except (binascii.Error, ValueError) as exc:
                raise CodeError(f"Unable to decode the zip file: {exc}.") from exc
            _safe_extract(data, staging)
            if not (staging / "__main__.py").is_file():
                raise CodeError("Zip file does not include __main__.py.")
        else:
            if not code:
                raise CodeError("Missing main/no code to execute.")
            (staging / "__main__.py").write_text(code, encoding="utf-8")
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class CodeCache:
    """Per-revision folders under ``root``; each is prepared once however many processes start."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._ready: dict[tuple[str, str], asyncio.Future[Path]] = {}

    def folder_for(self, spec: CodeSpec) -> Path:
        digest = hashlib.sha256(f"{spec.action}\0{spec.revision}".encode()).hexdigest()[:24]
        return self.root / digest

    async def prepare(self, spec: CodeSpec) -> Path:
        """The folder holding this revision's code; raises CodeError with the cause."""
        key = (spec.action, spec.revision)
        pending = self._ready.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._ready[key] = pending
            target = self.folder_for(spec)
            try:
                if not target.is_dir():
                    self.root.mkdir(parents=True, exist_ok=True)
                    code = spec.source()  # here, on the loop: it may read the database
                    if spec.binary:
                        # Unzipping a large bundle once per revision must not stall the loop.
                        await asyncio.to_thread(_lay_out, spec, code, target)
                    else:
                        _lay_out(spec, code, target)
            except BaseException as exc:
                del self._ready[key]
                pending.set_exception(exc)
                # Mark retrieved: concurrent waiters (if any) still see the exception.
                pending.exception()
                raise
            pending.set_result(target)
        return await asyncio.shield(pending)

    def discard(self, action: str, revision: str) -> None:
        """Remove a retired revision's folder (once no process runs from it)."""
        future = self._ready.pop((action, revision), None)
        if future is not None and future.done() and not future.exception():
            shutil.rmtree(future.result(), ignore_errors=True)

    def clear(self) -> None:
        self._ready.clear()
        shutil.rmtree(self.root, ignore_errors=True)
