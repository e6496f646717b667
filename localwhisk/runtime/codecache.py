"""Action code on disk: one folder per action revision, as the runtime's /init would lay it out.

Owns writing source as ``__main__.py``, unpacking zip actions safely (inside the folder,
within an expanded-size bound checked before anything is written), linking a revision
into a sandbox's code folder and removing the folders of retired revisions. File work
only; no processes.
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
from localwhisk.runtime.languages import PYTHON, language_of
from localwhisk.runtime.outcomes import NO_BINARY

MIB = 1024 * 1024
# OpenWhisk bounds the zip (48 MB, ``exec`` size limit) but not what it expands to; here
# the disk is the developer's, so a few hundred KB must not become gigabytes.
MAX_EXPANDED_BYTES = 256 * MIB
MAX_ENTRIES = 100_000


class CodeError(Exception):
    """The action's code cannot be laid out. The message is the cause; ``result`` is what
    the activation's result says: the cause itself, unless the runtime shows such failures
    only in the logs."""

    def __init__(self, cause: str, result: str | None = None) -> None:
        super().__init__(cause)
        self.result = cause if result is None else result


def _safe_extract(data: bytes, target: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise CodeError(f"Invalid zip file: {exc}.") from exc
    with archive:
        _check_expanded_size(archive)
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
        # zipfile drops permission bits; keep executables (virtualenv/bin) runnable and
        # everything readable by the sandbox's own user.
        for info in archive.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(target / info.filename, mode | 0o644)


# apache/openwhisk-runtime-nodejs core/nodejsActionBase/runner.js: what /init answers for
# an archive it cannot take (detectFileType, extractInTmpDir), after service.js's prefix.
NODE_INIT_FAILED = "Initialization has failed due to: "
NODE_UNSUPPORTED = (
    "There was an error uncompressing the action archive. The file type is unsupported"
)
NODE_BAD_ZIP = "There was an error uncompressing the action Zip archive."
ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b\x08"


def _node_archive_error(data: bytes, exc: CodeError) -> CodeError:
    """The Node.js runtime's words for an archive it cannot unpack; the detail in the logs."""
    if data.startswith(ZIP_MAGIC):
        answer = NODE_BAD_ZIP
    elif data.startswith(GZIP_MAGIC):
        # The runtime also takes tar.gz; localwhisk unpacks zips only, and says so.
        answer = NODE_UNSUPPORTED
        exc = CodeError("localwhisk unpacks zip archives only: zip the action instead of tar.gz.")
    else:
        answer = NODE_UNSUPPORTED
    return CodeError(f"Error during initialization: {answer} ({exc})", NODE_INIT_FAILED + answer)


def _check_expanded_size(archive: zipfile.ZipFile) -> None:
    """Refuse a zip bomb from its directory alone: zipfile never writes more than an
    entry's declared size, so the declared sizes bound what extraction can write."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise CodeError(
            f"Invalid zip file: {len(entries)} entries; at most {MAX_ENTRIES} are unpacked."
        )
    total = sum(info.file_size for info in entries)
    if total > MAX_EXPANDED_BYTES:
        raise CodeError(
            f"Invalid zip file: it expands to {total} bytes, more than the "
            f"{MAX_EXPANDED_BYTES} bytes a local action may unpack to; make the zip smaller."
        )


def _readable(folder: Path) -> None:
    """Folders 0755 and files at least 0644: the sandboxed user is not the server's."""
    for path, _dirs, files in os.walk(folder):
        os.chmod(path, 0o755)
        for name in files:
            file = os.path.join(path, name)
            os.chmod(file, os.stat(file).st_mode & 0o777 | 0o644)


def link_into(source: Path, slot: Path) -> None:
    """Show a revision's files in a sandbox's code folder: hard links, no copies (the
    sandbox binds the folder read-only, so the shared files cannot be changed). Symlinks
    stay symlinks: a virtualenv's ``bin/python`` points at an interpreter outside."""
    shutil.copytree(source, slot, symlinks=True, copy_function=os.link, dirs_exist_ok=True)


def _lay_out(spec: CodeSpec, code: str, target: Path) -> None:
    """Write the code into a fresh folder, then move it into place in one rename."""
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    language = language_of(spec.kind) or PYTHON
    try:
        if spec.binary:
            try:
                data = base64.b64decode(code, validate=False)
            except (binascii.Error, ValueError) as exc:
                raise CodeError(f"Unable to decode the zip file: {exc}.") from exc
            try:
                _safe_extract(data, staging)
                # Node.js's launcher looks for its entry point itself (package.json or index.js).
                if language is PYTHON and not (staging / "__main__.py").is_file():
                    raise CodeError("Zip file does not include __main__.py.")
            except CodeError as exc:
                if language is not PYTHON:
                    raise _node_archive_error(data, exc) from exc
                # The Python runtime unzips and checks in its compile step, whose failure
                # it answers only with "see logs" (openwhisk-runtime-python bin/compile).
                raise CodeError(str(exc), NO_BINARY) from exc
        else:
            if not code:
                raise CodeError("Missing main/no code to execute.")
            (staging / language.source_file).write_text(code, encoding="utf-8")
        _readable(staging)
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

    def revisions(self, action: str) -> list[str]:
        """Revisions of ``action`` with a folder laid out (or being laid out)."""
        return [revision for name, revision in self._ready if name == action]

    def clear(self) -> None:
        self._ready.clear()
        shutil.rmtree(self.root, ignore_errors=True)
