"""pip, run for the target rather than for this machine: ``build_virtualenv(spec, target, root)``.

Every install names the target's Python version, implementation, ABIs and manylinux
platforms with ``--only-binary=:all:``, so pip takes only wheels the runtime can load
and never consults the interpreter running it. A requirement with no such wheel may be
a pure-Python source distribution: it is built to a wheel on its own
(``pip wheel --no-deps``) and taken only if the wheel is ``py3-none-any``; anything
else is refused, naming the package and why. Building one runs its build code
(setup.py, a build backend) on this machine: each is announced through ``note`` first.

The index is what the user gave explicitly: ``PIP_*`` variables (``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``) and options in
requirements.txt, else PyPI. pip's configuration files (``/etc/pip.conf``,
``~/.config/pip/pip.conf``) are not read (``PIP_CONFIG_FILE=os.devnull``, pip's own
switch for that): what the machine happens to have configured does not pick the code
that ships. Errors name the index and links used, without any credentials in them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from deploy.dependencies.layout import site_packages, write_activate_this
from deploy.dependencies.target import PythonTarget
from deploy.errors import DependencyError
from deploy.models import DependencySpec

PIP_TIMEOUT = 900  # s for one pip run: a large tree from a slow index, not a hung one
MAX_SOURCE_BUILDS = 32  # source distributions built for one spec before giving up
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_CREDENTIALS = re.compile(r"(//)[^/@\s]+@")  # user:password@ in an index URL
PYPI = "https://pypi.org/simple"
# pip's debug log (--log) line for an index page it could not fetch; HTTP errors (a 404
# for a name the index does not have) are not "unreachable", these are.
_UNFETCHED = re.compile(r"Could not fetch URL (\S+?): (.*) - skipping")
_UNREACHABLE = ("connection error", "proxy connection error", "timed out", "ssl certificate")
_FALSE = ("0", "false", "no", "off", "")


def sources(
    requirements: tuple[str, ...], environ: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """(index URLs, find-links) pip will use for these requirement lines in this
    environment, as pip combines them: a file's ``--index-url`` replaces the variable's,
    extra indexes and links add up, ``--no-index`` leaves no index."""
    index = environ.get("PIP_INDEX_URL") or PYPI
    extra = (environ.get("PIP_EXTRA_INDEX_URL") or "").split()
    links = (environ.get("PIP_FIND_LINKS") or "").split()
    no_index = environ.get("PIP_NO_INDEX", "").strip().lower() not in _FALSE
    for line in requirements:
        option, value = re.match(r"(\S+?)(?:=|\s+|$)(.*)", line).groups()  # type: ignore[union-attr]
        value = value.strip()
        if option in ("-i", "--index-url"):
            index = value
        elif option == "--extra-index-url":
            extra.append(value)
        elif option in ("-f", "--find-links"):
            links.append(value)
        elif option == "--no-index":
            no_index = True
    return ([] if no_index else [index, *extra]), links


def without_credentials(url: str) -> str:
    """``https://user:secret@host/simple`` -> ``https://host/simple``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _CREDENTIALS.sub(r"\1", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def describe_sources(requirements: tuple[str, ...], environ: Mapping[str, str]) -> str:
    """Where pip looks, for errors: "the package index URL and the links L" and the like."""
    indexes, links = sources(requirements, environ)
    named = ", ".join(without_credentials(link) for link in links)
    if not indexes:
        return (
            f"the links {named} (--no-index)" if links else "nothing (--no-index, no --find-links)"
        )
    said = f"the package index{'es' if len(indexes) > 1 else ''} " + ", ".join(
        without_credentials(i) for i in indexes
    )
    return f"{said} and the links {named}" if links else said


def build_virtualenv(
    spec: DependencySpec,
    target: PythonTarget,
    root: Path,
    environ: Mapping[str, str],
    note: Callable[[str], None] = lambda _: None,
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
            root / _LOG,
        )
        if done.returncode == 0:
            break
        _check_reached(spec, root, environ)
        missing = _NO_MATCH.search(done.stderr)
        if missing is None:
            raise DependencyError(
                f"{spec.archive or spec.folder}: pip could not install the dependencies for"
                f" {target.describe()} from {describe_sources(spec.requirements, environ)}:"
                f" {_last_error(done)}"
            )
        requirement = missing[1].strip("'\"")
        name = _name(requirement)
        if name in tried or len(tried) >= MAX_SOURCE_BUILDS:
            raise DependencyError(
                _no_wheel(
                    spec,
                    target,
                    requirement,
                    "no source distribution built to a usable wheel",
                    environ,
                )
            )
        tried.add(name)
        note(f"built from source: {requirement} (runs its build code on this machine)")
        _build_pure(spec, target, requirement, built, environ)
    shutil.rmtree(built)
    (root / _LOG).unlink(missing_ok=True)
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
        built.parent / _LOG,
    )
    if done.returncode != 0:
        _check_reached(spec, built.parent, environ)
        raise DependencyError(
            _no_wheel(
                spec,
                target,
                requirement,
                f"and no source distribution that builds either ({_last_error(done)})",
                environ,
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
                    environ,
                )
            )
        shutil.move(str(wheel), built / wheel.name)
    shutil.rmtree(scratch, ignore_errors=True)


def _no_wheel(
    spec: DependencySpec,
    target: PythonTarget,
    requirement: str,
    why: str,
    environ: Mapping[str, str],
) -> str:
    return (
        f"{spec.archive or spec.folder}: {requirement}: expected a wheel for {target.describe()},"
        f" found none (looked in {describe_sources(spec.requirements, environ)}) {why} (hint: pick a"
        f" version that publishes manylinux x86_64 wheels for {target.abi}, or a pure-Python"
        " package)"
    )


_LOG = "pip.log"  # pip's verbose log of every run for one build, beside its scratch files


def _check_reached(spec: DependencySpec, root: Path, environ: Mapping[str, str]) -> None:
    """Raise if pip's log says an index could not be reached (refused, unknown host,
    timed out, a certificate problem), naming it: pip itself reports only that no
    matching distribution was found."""
    try:
        with (root / _LOG).open(encoding="utf-8", errors="replace") as log:
            failed = [m for line in log if (m := _UNFETCHED.search(line))]
    except FileNotFoundError:
        return
    failed = [m for m in failed if m[2].lower().startswith(_UNREACHABLE)]
    if not failed:
        return
    page, reason = without_credentials(failed[-1][1]), _CREDENTIALS.sub(r"\1", failed[-1][2])
    indexes, _ = sources(spec.requirements, environ)
    named = [without_credentials(i) for i in indexes]
    index = next((i for i in named if page.startswith(i.rstrip("/"))), page)
    raise DependencyError(
        f"{spec.archive or spec.folder}: the package index {index} could not be reached:"
        f" {reason[:300]} (hint: check the URL and the network; the index comes from"
        " --index-url in requirements.txt or PIP_INDEX_URL, else PyPI)"
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
    args: list[str], cwd: Path, environ: Mapping[str, str], log: Path
) -> subprocess.CompletedProcess[str]:
    env = dict(environ)
    env.update(
        PIP_CONFIG_FILE=os.devnull,  # pip reads no configuration file at all with this
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PIP_REQUIRE_VIRTUALENV="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    try:
        return subprocess.run(
            [sys.executable, "-m", "pip", *args[:1], "--log", str(log), *args[1:]],
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
