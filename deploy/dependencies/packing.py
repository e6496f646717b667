"""An action's zip with its dependencies in it: ``with_dependencies(action, artifact, ...)``.

Takes the action (its kind already the one the target resolves it to) and the
``Artifact`` of its own files. Without a dependency spec the artifact is returned as
it is. Otherwise the zip is looked up by (dependency key, own code's sha256) and,
failing that, built from the cached tree (built first if it is missing) plus the
action's own files, with ``bundle``'s deterministic zip: the same spec, kind and code
give the same bytes on every machine, so ``plan`` sees an unchanged action. What a build
does as it goes (its start, each source distribution built here, npm install scripts run
or skipped) is handed to ``note``, a line at a time, for the CLI to print.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.bundle import folder_entries, source_entries, zip_sources
from deploy.dependencies.cache import Cache, spec_key, zip_key
from deploy.dependencies.spec import find_spec
from deploy.dependencies.target import PLATFORM, node_major, python_target
from deploy.errors import BundleError, DependencyError
from deploy.models import ActionSpec, Artifact, DependencySpec

# Never handed to pip, npm or the build scripts they run: the namespace's credentials.
_PRIVATE = ("WHISK_", "AIO_", "WSK_", "__OW_")

# The largest zip built in memory; the target's own limit is preflight's to apply (with the
# biggest contributors named). Past this the parts are named from their size on disk.
BUILD_CAP = 256 * 1024 * 1024
MAX_ENTRIES = 100_000  # in a zip given as an action's code, unpacked to add dependencies to


@dataclass(frozen=True)
class Packed:
    artifact: Artifact
    built: bool = False  # the dependency tree was built now (not found in the cache)
    seconds: float = 0.0  # building it took


def with_dependencies(
    action: ActionSpec,
    artifact: Artifact,
    cache: Cache,
    environ: Mapping[str, str],
    *,
    note: Callable[[str], None] = lambda _: None,
    npm_scripts: bool = False,
) -> Packed:
    """``npm_scripts``: run npm install scripts (off: ``--ignore-scripts``)."""
    spec = find_spec(action, strict=False)
    if spec is None:
        return Packed(artifact)
    platform = _platform(spec, action.runtime)
    if spec.ecosystem == "nodejs" and npm_scripts:
        platform += "+install-scripts"  # another tree: the scripts may have changed it
    key = spec_key(spec, action.runtime, platform)
    packed_key = zip_key(key, artifact.sha256)
    cached = cache.zip(packed_key)
    if cached is not None:
        return Packed(_artifact(cached, artifact, key))
    tree = cache.tree(key)
    built, seconds = tree is None, 0.0
    if tree is None:
        spec = find_spec(action)  # every requirement checked before pip sees it
        assert spec is not None
        started = time.monotonic()
        note(f"building dependencies for {action.path} ({action.runtime})…")
        tree = _build(
            spec,
            action.runtime,
            key,
            cache,
            environ,
            lambda line: note(f"dependencies of {action.path}: {line}"),
            npm_scripts,
        )
        seconds = time.monotonic() - started
    if spec.archive is None:
        data = _zipped(action, tree, source_entries(action, is_dir=True))
    else:
        with cache.unpacked() as unpacked:
            _unpack(spec.archive, Path(unpacked))
            data = _zipped(action, tree, folder_entries(Path(unpacked)))
    cache.keep_zip(packed_key, data)
    return Packed(_artifact(data, artifact, key), built, seconds)


def _zipped(action: ActionSpec, tree: Path, own: dict[str, Path]) -> bytes:
    try:
        data, _ = zip_sources({**folder_entries(tree), **own}, limit=BUILD_CAP, name=action.path)
    except BundleError:
        raise DependencyError(_too_big(action, tree)) from None
    return data


def _unpack(archive: Path, into: Path) -> None:
    """The files of a zip given as an action's code, checked before anything is written:
    at most ``MAX_ENTRIES`` entries and ``BUILD_CAP`` bytes unpacked (a zip bomb stops
    here); zipfile's extraction keeps every name inside ``into``."""
    try:
        with zipfile.ZipFile(archive) as opened:
            infos = opened.infolist()
            unpacked = sum(info.file_size for info in infos)
            if len(infos) > MAX_ENTRIES or unpacked > BUILD_CAP:
                raise DependencyError(
                    f"{archive}: expected at most {MAX_ENTRIES} entries and"
                    f" {BUILD_CAP // (1024 * 1024)} MB unpacked, found {len(infos)} entries and"
                    f" {unpacked} bytes (hint: zip only what the action needs)"
                )
            opened.extractall(into)
    except (zipfile.BadZipFile, NotImplementedError, EOFError, ValueError) as exc:
        raise DependencyError(
            f"{archive}: expected a zip that unpacks, found {exc} (hint: zip it again)"
        ) from None


def _platform(spec: DependencySpec, kind: str) -> str:
    if spec.ecosystem == "python":
        target = python_target(kind)
        return f"{PLATFORM}_{target.glibc[0]}_{target.glibc[1]}"
    return f"node{node_major(kind)}"


def _build(
    spec: DependencySpec,
    kind: str,
    key: str,
    cache: Cache,
    environ: Mapping[str, str],
    note: Callable[[str], None],
    npm_scripts: bool,
) -> Path:
    # Imported here: pip's and npm's modules (and packaging's) cost a deploy with no
    # dependencies nothing.
    from deploy.dependencies.nodejs import install_node_modules, with_install_scripts
    from deploy.dependencies.python import build_virtualenv

    scratch = cache.scratch()
    environ = {k: v for k, v in environ.items() if not k.upper().startswith(_PRIVATE)}
    try:
        if spec.ecosystem == "python":
            build_virtualenv(spec, python_target(kind), scratch, environ, note)
        else:
            node_major(kind)  # refuse a kind with no Node.js version before running npm
            scripted = ", ".join(with_install_scripts(spec))
            if scripted and npm_scripts:
                note(f"install scripts of {scripted} run on this machine (--allow-npm-scripts)")
            elif scripted:
                note(
                    f"install scripts of {scripted} not run (hint: --allow-npm-scripts runs"
                    " them on this machine, if the package needs them)"
                )
            install_node_modules(spec, scratch, environ, scripts=npm_scripts)
        return cache.keep_tree(key, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # gone already when kept


def _artifact(data: bytes, own: Artifact, key: str) -> Artifact:
    return Artifact(data, hashlib.sha256(data).hexdigest(), True, own.uses_api, key)


def _too_big(action: ActionSpec, tree: Path) -> str:
    sizes: dict[str, int] = {}
    for arc, path in folder_entries(tree).items():
        parts = arc.split("/")
        part = "/".join(
            parts[: parts.index("site-packages") + 2] if "site-packages" in parts else parts[:2]
        )
        sizes[part] = sizes.get(part, 0) + os.path.getsize(path)
    biggest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    named = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in biggest)
    return (
        f"action {action.path}: its dependencies zip to more than {BUILD_CAP // (1024 * 1024)} MB,"
        f" far above any platform's code limit; the biggest, unpacked: {named}"
        " (hint: drop what the action does not import, or use a custom runtime image)"
    )
