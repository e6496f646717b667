"""pip, run for the target rather than for this machine: ``build_virtualenv(spec, target, root)``.

Every install names the target's Python version, implementation, ABIs and manylinux
platforms with ``--only-binary=:all:``, so pip takes only wheels the runtime can load
and never consults the interpreter running it. A requirement with no such wheel may be
a pure-Python source distribution: it is built to a wheel on its own
(``pip wheel --no-deps``) and taken only if the wheel is ``py3-none-any``; anything
else is refused, naming the package and why. The index is pip's own configuration
(``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, ``pip.conf``, options in requirements.txt).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from deploy.dependencies.layout import site_packages, write_activate_this
from deploy.dependencies.target import PythonTarget
from deploy.errors import DependencyError
from deploy.models import DependencySpec

PIP_TIMEOUT = 900  # s for one pip run: a large tree from a slow index, not a hung one
MAX_SOURCE_BUILDS = 32  # source distributions built for one spec before giving up
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_CREDENTIALS = re.compile(r"(//)[^/@\s]+@")  # user:password@ in an index URL


def build_virtualenv(
    spec: DependencySpec, target: PythonTarget, root: Path, environ: Mapping[str, str]
) -> None:
    """Fill ``root`` with ``virtualenv/`` for ``spec`` on ``target``."""
    site = site_packages(root, target.version)
    site.mkdir(parents=True)
    built = root / "built-wheels"
    built.mkdir()
    # pyproject.toml's dependencies joined in; the wheels built from source found through a
    # --find-links line, which adds to pip's configured ones (a flag would replace them).
    listed = root / "requirements.txt"
    lines = [*spec.requirements, f"--find-links {built}"]
    listed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tried: set[str] = set()
    while True:
        done = _pip(
            ["install", "--target", str(site), *_target_options(target)]
            + ["--no-compile", "--no-warn-script-location", "-r", str(listed)],
            spec.folder,
            environ,
        )
        if done.returncode == 0:
            break
        missing = _NO_MATCH.search(done.stderr)
        if missing is None:
            raise DependencyError(
                f"{spec.archive or spec.folder}: pip could not install the dependencies for"
                f" {target.describe()}: {_last_error(done)}"
            )
        requirement = missing[1].strip("'\"")
        name = _name(requirement)
        if name in tried or len(tried) >= MAX_SOURCE_BUILDS:
            raise DependencyError(
                _no_wheel(
                    spec, target, requirement, "no source distribution built to a usable wheel"
                )
            )
        tried.add(name)
        _build_pure(spec, target, requirement, built, environ)
    shutil.rmtree(built)
    listed.unlink()
    _tidy(site)
    write_activate_this(root)


def _target_options(target: PythonTarget) -> list[str]:
    options = ["--only-binary=:all:", "--python-version", target.version]
    options += ["--implementation", "cp"]
    for abi in (target.abi, "abi3", "none"):
        options += ["--abi", abi]
    for platform in target.platforms:
        options += ["--platform", platform]
    return options


def _build_pure(
    spec: DependencySpec,
    target: PythonTarget,
    requirement: str,
    built: Path,
    environ: Mapping[str, str],
) -> None:
    """Build ``requirement``'s source distribution to a wheel; keep it only if pure Python."""
    scratch = built.parent / "source-build"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    done = _pip(
        ["wheel", "--no-deps", "--no-binary", ":all:", "--wheel-dir", str(scratch), requirement],
        spec.folder,
        environ,
    )
    if done.returncode != 0:
        raise DependencyError(
            _no_wheel(
                spec,
                target,
                requirement,
                f"and no source distribution that builds either ({_last_error(done)})",
            )
        )
    for wheel in sorted(scratch.glob("*.whl")):
        try:
            _, _, _, tags = parse_wheel_filename(wheel.name)
        except InvalidWheelFilename:
            continue
        impure = sorted(
            str(t)
            for t in tags
            if t.abi != "none" or t.platform != "any" or not t.interpreter.startswith("py3")
        )
        if impure:
            raise DependencyError(
                _no_wheel(
                    spec,
                    target,
                    requirement,
                    f"and its source distribution builds a wheel for this machine only"
                    f" ({', '.join(impure)}): it has compiled code",
                )
            )
        shutil.move(str(wheel), built / wheel.name)
    shutil.rmtree(scratch, ignore_errors=True)


def _no_wheel(spec: DependencySpec, target: PythonTarget, requirement: str, why: str) -> str:
    return (
        f"{spec.archive or spec.folder}: {requirement}: expected a wheel for {target.describe()},"
        f" found none at the package index {why} (hint: pick a version that publishes"
        f" manylinux x86_64 wheels for {target.abi}, or a pure-Python package)"
    )


def _tidy(site: Path) -> None:
    """Drop what names this machine: console scripts (their #! is this interpreter),
    ``direct_url.json`` (a local path) and the RECORD lines of both."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for info in site.glob("*.dist-info"):
        (info / "direct_url.json").unlink(missing_ok=True)
        record = info / "RECORD"
        if record.is_file():
            lines = record.read_text(encoding="utf-8").splitlines()
            kept = [
                line
                for line in lines
                if not line.startswith("..") and "direct_url.json" not in line
            ]
            record.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


def _pip(
    args: list[str], cwd: Path, environ: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    env = dict(environ)
    env.update(
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PIP_REQUIRE_VIRTUALENV="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    try:
        return subprocess.run(
            [sys.executable, "-m", "pip", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise DependencyError(
            f"{cwd}: pip ran longer than {PIP_TIMEOUT} s (hint: check the package index is reachable)"
        ) from None


def _last_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")] or lines[-3:]
    return _CREDENTIALS.sub(r"\1****@", " ".join(errors[-3:]) or f"exit status {done.returncode}")


def _name(requirement: str) -> str:
    return str(canonicalize_name(re.split(r"[\s\[<>=!~;@(]", requirement, maxsplit=1)[0]))
