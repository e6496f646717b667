"""An action's source -> the ``Artifact`` sent as its code: ``build_artifact(spec)``.

Owns zipping. Zips are deterministic (entries sorted by archive path, fixed
timestamp, modes and compression level, no extra fields), so the same source
gives the same bytes and sha256 on any machine and checkout, and ``plan`` can
skip unchanged code by comparing digests. While it reads the sources it also notes
whether they use the OpenWhisk API (``Artifact.uses_api``, for ``preflight``), so no
zip is read twice. Reads files only; no network.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import io
import os
import posixpath
import stat
import zipfile
from pathlib import Path, PurePosixPath

from deploy.errors import BundleError
from deploy.models import ActionSpec, Artifact

# OpenWhisk's exec size limit applies to the code as sent: base64 text for a zip.
EXEC_LIMIT = 48 * 1024 * 1024
# Zip timestamps are local date/time with no zone; the oldest one zip can hold
# is the only value that means "no timestamp" everywhere (chalice does the same).
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = (
    0o100644  # regular file, rw-r--r--: the checkout's permissions and umask must not matter
)
COMPRESS_LEVEL = 6
SKIP_NAMES = {"__pycache__", ".git", ".DS_Store"}
SKIP_SUFFIXES = (".pyc",)
# Code that calls the OpenWhisk API needs the provide-api-key annotation to get a key.
# The npm client, which the Node.js images ship unbundled, reads __OW_API_KEY itself
# (apache/openwhisk-client-js lib/client.js), so code that loads it uses the API too.
API_MARKERS = (
    b"__OW_API_KEY",
    b"/api/v1/namespaces",
    b"require('openwhisk')",
    b'require("openwhisk")',
    b"from 'openwhisk'",
    b'from "openwhisk"',
)
SCANNED = (".py", ".js", ".mjs", ".cjs")  # sources searched for API_MARKERS
SCAN_LIMIT = 2 * 1024 * 1024  # larger files are data or vendored code, not the action's own
CHUNK = 1024 * 1024  # files larger than this are streamed into the zip
# Single files sent as binary code whatever their bytes (wskdeploy: .zip and .jar).
BINARY_SUFFIXES = (".jar",)
ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
# (format, named .jar) pairs each runtime family unpacks from binary code. Python's proxy
# unzips and runs __main__.py (apache/openwhisk-runtime-python, core/python3Action/
# lib/launcher.py); Node.js takes a zip or a tar.gz (apache/openwhisk-runtime-nodejs,
# core/nodejsActionBase/runner.js); Java loads a jar (apache/openwhisk-runtime-java,
# core/java8/proxy/.../JarLoader.java). Families not listed are left to the server.
BINARY_TAKEN: dict[str, frozenset[tuple[str, bool]]] = {
    "python": frozenset({("zip", False)}),
    "nodejs": frozenset({("zip", False), ("tar.gz", False)}),
    "java": frozenset({("zip", True), ("zip", False)}),
}


def build_artifact(spec: ActionSpec, *, limit: int = EXEC_LIMIT) -> Artifact:
    """The code of ``spec``: inline text, a given ``.zip``, or a deterministic zip of its source."""
    if spec.code is not None:
        data = spec.code.encode("utf-8")
        return _sized(spec, data, binary=False, limit=limit, uses_api=_mentions_api(data))
    source = spec.function
    if source is None:
        raise BundleError(f"action {spec.path}: expected function or code, found neither")
    try:
        is_dir = stat.S_ISDIR(os.stat(source).st_mode)  # one stat: 200 actions, 200 calls
    except OSError:
        raise BundleError(
            f"action {spec.path}: expected {source} to exist, found nothing there"
        ) from None
    suffix = source.suffix.lower()
    if not is_dir and suffix == ".zip":
        data = source.read_bytes()
        return _sized(spec, data, binary=True, limit=limit, uses_api=_zip_mentions_api(data))
    if not is_dir and suffix != ".py":
        # Source files go as text, as wskdeploy sends them; the runtime reads them as source.
        # A .jar, or any file that is not UTF-8 text, can only travel base64 as binary code.
        data = source.read_bytes()
        if suffix in BINARY_SUFFIXES or not _is_text(data):
            _check_kind_takes(spec, source, data)
            return _sized(spec, data, binary=True, limit=limit, uses_api=_zip_mentions_api(data))
        return _sized(spec, data, binary=False, limit=limit, uses_api=_mentions_api(data))
    entries = source_entries(spec, is_dir=is_dir)
    data, uses_api = zip_sources(entries, limit=limit, name=spec.path)
    return _sized(spec, data, binary=True, limit=limit, uses_api=uses_api)


def source_entries(spec: ActionSpec, *, is_dir: bool) -> dict[str, Path]:
    """Archive path -> file for an action whose source is a folder or one ``.py`` file,
    after ``exclude`` and with ``include``: what its zip holds of its own."""
    source = spec.function
    assert source is not None
    if is_dir:
        entries = folder_entries(source)
        if spec.runtime.startswith("python") and "__main__.py" not in entries:
            raise BundleError(
                f"action {spec.path}: expected __main__.py at the root of {source}, found none"
                " (hint: the Python runtime runs __main__.py from the zip; rename the entry file"
                " or point function: at the file itself)"
            )
    else:
        entries = {
            "__main__.py": source
        }  # one .py file: zipped too, so every Python action is uniform
    if spec.exclude and is_dir:
        # Exclusion applies to the folder's own files; what include: brings in stays
        # (wskdeploy's utils/zip.go walks the folder, then adds the includes).
        excluded = excluded_files(spec.exclude)
        entries = {
            arc: path
            for arc, path in entries.items()
            if os.path.abspath(os.path.join(source, arc)) not in excluded
        }
    if spec.include:
        entries.update(include_entries(spec))
    return entries


def contributors(data: bytes, count: int = 5) -> list[tuple[str, int]]:
    """The largest parts of a zip by compressed size, biggest first: a package under
    ``virtualenv/.../site-packages/`` or ``node_modules/`` (``@scope/name`` kept whole),
    else the top-level file or folder. Empty for anything that is not a zip."""
    sizes: dict[str, int] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []
    for info in infos:
        parts = info.filename.split("/")
        if "site-packages" in parts[:-1]:
            at = parts.index("site-packages")
            part = "/".join(parts[: at + 2])
        elif parts[0] == "node_modules" and len(parts) > 2:
            part = "/".join(parts[: 3 if parts[1].startswith("@") and len(parts) > 3 else 2])
        else:
            part = parts[0] + ("/" if len(parts) > 1 else "")
        sizes[part] = sizes.get(part, 0) + info.compress_size
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:count]


def binary_format(data: bytes) -> str:
    """What binary code is, by its magic bytes: ``zip`` (a .jar is one), ``tar.gz``, or
    ``binary`` for anything else."""
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(GZIP_MAGIC):
        return "tar.gz"
    return "binary"


def _is_text(data: bytes) -> bool:
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_kind_takes(spec: ActionSpec, source: Path, data: bytes) -> None:
    """Refuse binary code the action's runtime cannot unpack, before anything is sent."""
    family = spec.runtime.partition(":")[0]
    takes = BINARY_TAKEN.get(family)
    found = "a .jar" if source.suffix.lower() == ".jar" else f"{binary_format(data)} data"
    if takes is None or (binary_format(data), source.suffix.lower() == ".jar") in takes:
        return  # a family whose loader we do not know: the server judges, as it does today
    wanted = " or ".join(sorted({f"a {fmt}" if not jar else "a .jar" for fmt, jar in takes}))
    raise BundleError(
        f"action {spec.path}: kind {spec.runtime} takes {wanted} as binary code,"
        f" found {source.name} ({found})"
        " (hint: point function: at the source file or folder, or zip it yourself)"
    )


def sent_size(artifact: Artifact) -> int:
    """The code's size as the platform counts it: base64 text for a zip."""
    return _sent_size(len(artifact.data)) if artifact.binary else len(artifact.data)


def _sized(spec: ActionSpec, data: bytes, *, binary: bool, limit: int, uses_api: bool) -> Artifact:
    size = _sent_size(len(data)) if binary else len(data)
    if size > limit:
        raise BundleError(_too_large(spec.path, size, limit))
    return Artifact(data, hashlib.sha256(data).hexdigest(), binary, uses_api)


def _mentions_api(data: bytes) -> bool:
    return any(marker in data for marker in API_MARKERS)


def _zip_mentions_api(data: bytes) -> bool:
    """For a zip given as is: its sources searched as ``zip_sources`` searches a folder's."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(
                _mentions_api(archive.read(info))
                for info in archive.infolist()
                if info.filename.endswith(SCANNED) and info.file_size < SCAN_LIMIT
            )
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return False  # not ours to judge: the server decides whether the zip is usable


def _sent_size(raw: int) -> int:
    return 4 * ((raw + 2) // 3)  # base64 length


def _too_large(name: str, size: int, limit: int) -> str:
    return (
        f"action {name}: expected code of at most {limit} bytes as sent (base64),"
        f" found {size} bytes (hint: exclude what the action does not need)"
    )


def _skipped(name: str) -> bool:
    return name in SKIP_NAMES or name.endswith(SKIP_SUFFIXES)


def folder_entries(root: Path) -> dict[str, Path]:
    """Archive path -> file for everything under ``root`` worth shipping.

    Symlinks are followed when they stay inside ``root`` (a shared module
    linked in) and refused when they leave it: the zip must hold only the
    action's own files, identical on every checkout.
    """
    top = Path(os.path.realpath(root))
    entries: dict[str, Path] = {}
    pending: list[tuple[Path, PurePosixPath, frozenset[Path]]] = [
        (root, PurePosixPath(), frozenset())
    ]
    while pending:
        folder, prefix, above = pending.pop()
        real_folder = Path(os.path.realpath(folder))
        if real_folder in above:
            continue  # a link back up its own tree: following it would never end
        above = above | {real_folder}
        for child in sorted(os.scandir(folder), key=lambda e: e.name):
            if _skipped(child.name):
                continue
            path = Path(child.path)
            if child.is_symlink():
                target = Path(os.path.realpath(path))
                if target != top and top not in target.parents:
                    raise BundleError(
                        f"{path}: expected a symlink inside {root}, found one to {target}"
                        " (hint: copy the file in, or use include:)"
                    )
                if not target.exists():
                    raise BundleError(
                        f"{path}: expected a symlink to an existing file, found a broken link"
                    )
            if child.is_dir(follow_symlinks=True):
                pending.append((path, prefix / child.name, above))
            elif child.is_file(follow_symlinks=True):
                entries[str(prefix / child.name)] = path
    return entries


def include_entries(spec: ActionSpec) -> dict[str, Path]:
    """``include`` pairs as wskdeploy places them (utils/zip.go buildIncludeMetadata).

    The destination is relative to the action's folder. A source with ``*`` copies each
    match to the destination folder (the destination itself when it ends with ``/``,
    else its parent), keeping the part of the match's path below the pattern's fixed
    prefix: ``[actions/libs/*/utils.js, libs/]`` gives ``libs/lib1/utils.js``. A plain
    file source goes to the destination (a destination ending with ``/`` gets the file's
    name); a folder source's files go under the destination.
    """
    entries: dict[str, Path] = {}
    for source, dest in spec.include:
        target = dest.replace("\\", "/")
        if PurePosixPath(target).is_absolute() or ".." in PurePosixPath(target).parts:
            raise BundleError(
                f"action {spec.path}: include destination {dest!r}: expected a path"
                " inside the zip, found one that leaves it"
            )
        if "*" in source:
            matches = glob_all(source)
            if not matches:
                raise BundleError(
                    f"action {spec.path}: include source {source!r}: expected at least one"
                    " match, found none"
                )
            folder = target if target.endswith("/") else posixpath.dirname(target)
            folder = folder.split("*", 1)[0]
            placed = [(match, posixpath.join(folder, _below(source, match))) for match in matches]
        else:
            if not os.path.exists(source):
                raise BundleError(
                    f"action {spec.path}: include source {source!r}: expected a file or"
                    " folder there, found nothing"
                )
            if target.endswith("/") and os.path.isfile(source):
                target += os.path.basename(source)
            placed = [(source, target)]
        for match, where in placed:
            path = Path(match)
            _inside_manifest_folder(spec, source, path)
            arc = posixpath.normpath(where)
            if arc in ("", "."):
                arc = ""
            if path.is_dir():
                for inner, file in folder_entries(path).items():
                    entries[posixpath.join(arc, inner) if arc else inner] = file
            elif not _skipped(path.name) and arc:
                entries[arc] = path
    return entries


def _below(pattern: str, match: str) -> str:
    """The match's path from where it leaves the pattern's literal parts: wskdeploy takes
    ``filepath.Rel(pattern, match)`` and trims the leading ``../`` that gives."""
    pattern_parts = os.path.normpath(pattern).split(os.sep)
    match_parts = os.path.normpath(match).split(os.sep)
    common = 0
    while (
        common < min(len(pattern_parts), len(match_parts))
        and pattern_parts[common] == match_parts[common]
    ):
        common += 1
    return "/".join(match_parts[common:])


def glob_all(pattern: str) -> list[str]:
    """Go's ``filepath.Glob``: ``*``, ``?`` and ``[...]`` within one path element, dotfiles
    included (Python's glob skips them), sorted."""
    parts = os.path.normpath(pattern).split(os.sep)
    found = [os.sep if pattern.startswith(os.sep) else ""]
    for part in parts:
        if part == "":
            continue
        step: list[str] = []
        for base in found:
            if not glob.has_magic(part):
                candidate = os.path.join(base, part) if base else part
                if os.path.lexists(candidate):
                    step.append(candidate)
                continue
            try:
                names = os.listdir(base or ".")
            except OSError:
                continue
            step.extend(
                os.path.join(base, name) if base else name
                for name in names
                if fnmatch.fnmatchcase(name, part)
            )
        found = step
    return sorted(found)


def excluded_files(patterns: tuple[str, ...]) -> frozenset[str]:
    """Absolute paths of the files ``exclude`` globs cover: a matching file, and every file
    under a matching folder (wskdeploy's utils/zip.go: globs relative to the manifest's
    folder, a folder meaning all it holds). Unlike wskdeploy, a pattern that names a file
    (``notes.txt``) excludes it: wskdeploy appends ``/*`` and so matches nothing there."""
    out: set[str] = set()
    for pattern in patterns:
        for match in glob_all(pattern):
            if os.path.isdir(match):
                for folder, _, files in os.walk(match, followlinks=True):
                    out.update(os.path.abspath(os.path.join(folder, f)) for f in files)
            else:
                out.add(os.path.abspath(match))
    return frozenset(out)


def _inside_manifest_folder(spec: ActionSpec, source: str, match: Path) -> None:
    """The manifest refuses ``..`` and absolute sources, but a symlink can still lead out:
    an include must not ship files from outside the manifest's folder (keys, ~/.ssh)."""
    if spec.where is None:
        return  # built by hand (tests), not from a manifest: no folder to stay in
    top = Path(os.path.realpath(Path(spec.where.file).parent))
    target = Path(os.path.realpath(match))
    if target != top and top not in target.parents:
        raise BundleError(
            f"action {spec.path}: include source {source!r}: expected a path inside {top},"
            f" found {match} leading to {target} (hint: copy the file in)"
        )


def zip_sources(
    entries: dict[str, Path], *, limit: int = EXEC_LIMIT, name: str = ""
) -> tuple[bytes, bool]:
    """The zip of ``entries``, and whether any source in it mentions ``API_MARKERS``."""
    buffer = io.BytesIO()
    uses_api = False
    with zipfile.ZipFile(
        buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        for arc in sorted(entries):
            info = zipfile.ZipInfo(arc, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            setattr(info, _LEVEL_ATTRIBUTE, COMPRESS_LEVEL)
            info.create_system = 3  # "made on Unix" whatever the host, so the bytes agree
            info.external_attr = FILE_MODE << 16
            with entries[arc].open("rb") as source:
                # Files up to CHUNK are read whole, so their text is searched for API_MARKERS
                # on the way in; larger ones stream, so a huge file is refused once the zip
                # passes the limit, not after all of it is in memory.
                size = os.fstat(source.fileno()).st_size
                data = source.read() if size <= CHUNK else source.read(CHUNK)
                if arc.endswith(SCANNED) and size < SCAN_LIMIT and not uses_api:
                    uses_api = _mentions_api(data)
                if size <= CHUNK:
                    archive.writestr(info, data)
                else:
                    info.file_size = size
                    with archive.open(info, "w") as target:
                        while data:
                            target.write(data)
                            if _sent_size(buffer.tell()) > limit:
                                break
                            data = source.read(CHUNK)
            if _sent_size(buffer.tell()) > limit:
                raise BundleError(_too_large(name or arc, _sent_size(buffer.tell()), limit))
    return buffer.getvalue(), uses_api


# Python 3.13 renamed ZipInfo's attribute; both spell the same fixed level.
_LEVEL_ATTRIBUTE = (
    "compress_level" if hasattr(zipfile.ZipInfo(), "compress_level") else "_compresslevel"
)
