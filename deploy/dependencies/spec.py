"""Reading an action folder's dependency spec: ``find_spec(action)`` -> ``DependencySpec``.

Pure (reads files, runs nothing), so ``validate`` checks every spec with no network:
a requirement pip could not read, an option this tool does not pass through, a
package.json that is not JSON, or dependencies with no lockfile, is a
``DependencyError`` that says which file and line, what was expected and how to fix it.
A folder that already holds ``virtualenv/`` (Python) or ``node_modules/`` (Node.js)
ships it as it is: the runtime uses what it finds, and so does this tool.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from deploy.errors import DependencyError
from deploy.models import ActionSpec, DependencySpec

try:  # Python 3.11+; on 3.10 a pyproject.toml spec is refused with a hint
    import tomllib
except ImportError:  # pragma: no cover - the project's machines run 3.11
    tomllib = None  # type: ignore[assignment]

MAX_SPEC_BYTES = 1024 * 1024  # requirements.txt, pyproject.toml, package.json
MAX_LOCK_BYTES = 64 * 1024 * 1024  # a lockfile of a large tree is still far below this
# Requirement lines in one requirements.txt (or pyproject.toml's list). A real action's tree
# is tens of packages; tens of thousands is a generated or wrong file, and pip would resolve
# it for minutes with nothing to show.
MAX_REQUIREMENTS = 1000
LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json")  # npm's order of preference
# requirements.txt options passed to pip as written: where to look, which files to take.
# Others (-r/-c pull in files this tool would not key the cache by; -e installs a folder
# in place, outside the zip) are refused.
PASSED_OPTIONS = (
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-index",
    "--pre",
    "--prefer-binary",
    "--trusted-host",
)


def find_spec(action: ActionSpec, *, strict: bool = True) -> DependencySpec | None:
    """The dependencies an action's folder (or the zip given as its code) declares and
    this tool must build, or None. ``strict=False`` skips checking each requirement with
    ``packaging`` (its import costs more than the rest of a cached redeploy): enough to
    key the cache; a build reads the spec strictly again."""
    source = action.function
    family = action.runtime.partition(":")[0]
    if source is None or family not in ("python", "nodejs"):
        return None  # inline code, or a family this tool builds nothing for
    archive = None
    if source.suffix.lower() == ".zip" and source.is_file():
        archive = _opened(source)
        if archive is None:
            return None  # not a zip after all: bundle and the server judge it
        root: Any = zipfile.Path(archive)
    elif source.is_dir():
        root = source
    else:
        return None  # one source file: shipped as it is
    try:
        spec = _python_spec(root, strict) if family == "python" else _node_spec(root)
    finally:
        if archive is not None:
            archive.close()
    if spec is None or archive is None:
        return spec
    return dataclasses.replace(spec, folder=source.parent, archive=source)


def _opened(path: Path) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _python_spec(folder: Any, strict: bool = True) -> DependencySpec | None:
    """``folder``: a Path, or a ``zipfile.Path`` at a zip's root (the same calls)."""
    if (folder / "virtualenv").exists():
        return None
    files: list[tuple[str, bytes]] = []
    requirements: list[str] = []
    listed = folder / "requirements.txt"
    if listed.is_file():
        data = _read(listed, MAX_SPEC_BYTES)
        files.append((listed.name, data))
        requirements += parse_requirements(_text(listed, data), str(listed), strict=strict)
    project = folder / "pyproject.toml"
    if project.is_file():
        data = _read(project, MAX_SPEC_BYTES)
        declared = _pyproject_dependencies(project, data)
        if declared:
            files.append((project.name, data))
            requirements += declared
    if not files:
        return None
    return DependencySpec("python", _path(folder), tuple(sorted(files)), tuple(requirements))


def parse_requirements(text: str, where: str, *, strict: bool = True) -> list[str]:
    """The requirement and option lines of a requirements.txt, continuations joined and
    comments dropped; every requirement checked as pip would read it."""
    lines: list[tuple[str, int]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = raw
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line = _uncommented(pending + line).strip()
        pending = ""
        if line:
            lines.append((line, start))
    if pending.strip():
        lines.append((_uncommented(pending).strip(), start))
    _check_count(where, len(lines))  # before checking each: a huge file is refused at once
    return [_checked_line(line, f"{where}:{start}", strict) for line, start in lines]


def _check_count(where: str, count: int) -> None:
    if count > MAX_REQUIREMENTS:
        raise DependencyError(
            f"{where}: expected at most {MAX_REQUIREMENTS} requirement lines, found {count}"
            " (hint: list only what the action imports; pip finds their dependencies)"
        )


def _uncommented(line: str) -> str:
    """pip's rule: ``#`` starts a comment at the line's start or after whitespace."""
    if line.lstrip().startswith("#"):
        return ""
    for marker in (" #", "\t#"):
        if marker in line:
            line = line.split(marker, 1)[0]
    return line


def _checked_line(line: str, where: str, strict: bool = True) -> str:
    if line.startswith("-"):
        option = line.split("=", 1)[0].split(None, 1)[0]
        if option in PASSED_OPTIONS:
            return line
        raise DependencyError(
            f"{where}: expected a requirement or one of {', '.join(PASSED_OPTIONS)},"
            f" found the option {option} (hint: list the requirements themselves in this"
            " file; -r/-c files and editable installs are not built into the action)"
        )
    if not strict:
        return line
    from packaging.requirements import InvalidRequirement, Requirement  # only with a spec

    try:
        Requirement(line.split(" --hash", 1)[0].strip())  # markers (; python_version...) too
    except InvalidRequirement as exc:
        raise DependencyError(
            f"{where}: expected a requirement as pip reads it (name[extras] and a version,"
            f" e.g. requests>=2.31,<3), found {line!r}: {exc} (hint: fix or remove the line)"
        ) from None
    return line


def _pyproject_dependencies(path: Any, data: bytes) -> list[str]:
    if tomllib is None:
        raise DependencyError(
            f"{path}: reading pyproject.toml needs Python 3.11 or newer"
            " (hint: list the dependencies in requirements.txt instead)"
        )
    try:
        document = tomllib.loads(_text(path, data))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise DependencyError(
            f"{path}: expected TOML, found a syntax error: {exc} (hint: fix the file)"
        ) from None
    project = document.get("project")
    if project is None:
        return []
    declared = project.get("dependencies", []) if isinstance(project, dict) else None
    if not isinstance(declared, list) or not all(isinstance(d, str) for d in declared):
        raise DependencyError(
            f"{path}: [project] dependencies: expected a list of requirement strings,"
            f' found {type(declared).__name__} (hint: dependencies = ["requests>=2.31"])'
        )
    _check_count(f"{path}: [project] dependencies", len(declared))
    return [_checked_line(d.strip(), f"{path}: [project] dependencies") for d in declared]


def _node_spec(folder: Any) -> DependencySpec | None:
    manifest = folder / "package.json"
    if not manifest.is_file() or (folder / "node_modules").exists():
        return None
    data = _read(manifest, MAX_SPEC_BYTES)
    package = _json(manifest, data)
    if not isinstance(package, dict):
        raise DependencyError(
            f"{manifest}: expected a JSON object, found {type(package).__name__}"
            ' (hint: package.json holds {"name": ..., "dependencies": {...}})'
        )
    dependencies = package.get("dependencies") or {}
    if not isinstance(dependencies, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in dependencies.items()
    ):
        raise DependencyError(
            f"{manifest}: dependencies: expected an object of name -> version strings,"
            f' found {json.dumps(dependencies)[:80]} (hint: "dependencies": {{"uuid": "^9.0.0"}})'
        )
    if not dependencies:
        return None
    lock = next((folder / name for name in LOCKFILES if (folder / name).is_file()), None)
    if lock is None:
        fix = (
            f"run `npm install` in {folder} once and keep the lockfile beside it"
            if isinstance(folder, Path)
            else "run `npm install` where the zip's files come from, and zip package-lock.json in too"
        )
        raise DependencyError(
            f"{str(folder).rstrip('/')}: package.json has dependencies"
            f" ({', '.join(sorted(dependencies))}) but no package-lock.json, which `npm ci`"
            f" installs from (hint: {fix})"
        )
    lock_data = _read(lock, MAX_LOCK_BYTES)
    locked = _json(lock, lock_data)
    if not isinstance(locked, dict):
        raise DependencyError(
            f"{lock}: expected npm's lockfile (a JSON object), found something else"
            f" (hint: delete it and run `npm install` in {folder})"
        )
    _check_local_paths(folder, manifest, package, lock, locked)
    files = ((manifest.name, data), (lock.name, lock_data))
    return DependencySpec("nodejs", _path(folder), tuple(sorted(files)))


_INSTALLED_FIELDS = ("dependencies", "optionalDependencies")  # what --omit=dev installs


def _check_local_paths(folder: Any, manifest: Any, package: dict, lock: Any, locked: dict) -> None:
    """A ``file:`` dependency (a tarball or a folder) must lie inside the action's folder:
    npm runs in a copy of package.json and the lockfile, the cache is keyed by the action's
    files, and a folder dependency's files are not in its lockfile at all."""
    paths = [
        (manifest, f"{field} {name}", spec[len("file:") :])
        for field in _INSTALLED_FIELDS
        for name, spec in (package.get(field) or {}).items()
        if isinstance(spec, str) and spec.startswith("file:")
    ]
    packages = locked.get("packages")
    for key, entry in (packages if isinstance(packages, dict) else {}).items():
        if not isinstance(entry, dict) or entry.get("dev") is True or not key:
            continue
        resolved = entry.get("resolved")
        if isinstance(resolved, str) and resolved.startswith("file:"):
            paths.append((lock, f"packages {key}", resolved[len("file:") :]))
        elif entry.get("link") is True:
            raise DependencyError(
                f"{lock}: packages {key}: expected a registry package or a tarball, found a"
                f" folder dependency ({resolved}), which the build cannot install: it runs in"
                " a copy of package.json and its lockfile (hint: `npm pack` the folder into a"
                " tarball inside the action's folder and depend on file:<that .tgz>)"
            )
    for where, what, path in paths:
        if not isinstance(folder, Path):
            raise DependencyError(
                f"{where}: {what}: expected a registry package in a zip given as code, found"
                f" file:{path}, which npm would look for outside the zip (hint: give the"
                " action's folder as its function, or zip node_modules/ in too)"
            )
        base = os.path.abspath(folder)
        target = os.path.normpath(os.path.join(base, path))
        if os.path.commonpath([base, target]) != base:
            raise DependencyError(
                f"{where}: {what}: expected a file: dependency inside the action's folder,"
                f" found file:{path}, which is outside it (the build runs in a copy of"
                " package.json and its lockfile; folders outside are not supported) (hint:"
                " move the package or its tarball into the action's folder and run"
                " `npm install` there, or publish it to a registry)"
            )


def _path(folder: Any) -> Path:
    return folder if isinstance(folder, Path) else Path(str(folder))


def _read(path: Any, limit: int) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)  # from a zip too: never more than this is inflated
    except (OSError, zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
        raise DependencyError(
            f"{path}: expected a readable file, found {getattr(exc, 'strerror', None) or exc}"
            " (hint: check its permissions)"
        ) from None
    if len(data) > limit:
        raise DependencyError(
            f"{path}: expected at most {limit} bytes, found more (hint: is this the right file?)"
        )
    return data


def _text(path: Any, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # utf-8-sig reports offsets after a byte order mark it took off
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:offset].count(b"\n") + 1
        raise DependencyError(
            f"{path}: expected UTF-8 text, found byte 0x{data[offset]:02x} at byte offset"
            f" {offset} (line {line}), which is not valid UTF-8 there (hint: save the file as UTF-8)"
        ) from None


def _json(path: Any, data: bytes) -> Any:
    try:
        return json.loads(_text(path, data))
    except (ValueError, RecursionError) as exc:
        raise DependencyError(
            f"{path}: expected JSON, found {exc if isinstance(exc, ValueError) else 'nesting too deep'}"
            " (hint: fix the file; `npm install` rewrites a broken lockfile)"
        ) from None
