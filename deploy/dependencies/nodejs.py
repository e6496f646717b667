"""npm, run to install an action's production dependencies from its lockfile:
``install_node_modules(spec, root, environ, scripts=False)``.

``npm ci --omit=dev --ignore-scripts`` in a scratch folder holding only package.json and
the lockfile: exactly the locked tree, no devDependencies, nothing of the action's other
files. Install scripts (preinstall, install, postinstall: the package's and every
dependency's) are third-party code run on this machine, and what they build (native
addons) is built for this machine, not the runtime's; they run only when asked
(``scripts=True``, the CLI's ``--allow-npm-scripts``). The registry is npm's own
configuration (``.npmrc``, ``npm_config_*``). What names this machine
(``node_modules/.package-lock.json``, ``.bin`` links) is dropped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from deploy.errors import DependencyError
from deploy.models import DependencySpec

NPM_TIMEOUT = 900  # s
_CREDENTIALS = re.compile(r"(//)[^/@\s]+@")
ERROR_LINES = 8  # of npm's own "npm error" lines shown when it fails
LINE_CHARS = 300
_LIFECYCLE = ("preinstall", "install", "postinstall", "prepare")  # what npm ci would run


def with_install_scripts(spec: DependencySpec) -> list[str]:
    """The packages of the locked tree (and the action's own, as ``.``) that have install
    scripts, as npm's lockfile marks them (``hasInstallScript``)."""
    names = []
    for name, data in spec.files:
        document = json.loads(data.decode("utf-8-sig"))
        if name == "package.json":
            scripts = document.get("scripts")
            if isinstance(scripts, dict) and any(k in scripts for k in _LIFECYCLE):
                names.append(".")
            continue
        packages = document.get("packages")
        for key, entry in (packages if isinstance(packages, dict) else {}).items():
            if key and isinstance(entry, dict) and entry.get("hasInstallScript") is True:
                if entry.get("dev") is not True:
                    names.append(key.rpartition("node_modules/")[2])
    return sorted(set(names))


def install_node_modules(
    spec: DependencySpec, root: Path, environ: Mapping[str, str], *, scripts: bool = False
) -> None:
    npm = shutil.which("npm", path=environ.get("PATH"))
    if npm is None:
        raise DependencyError(
            f"{spec.archive or spec.folder}: package.json has dependencies, and installing them needs npm,"
            " found no npm on PATH (hint: install Node.js with npm, or ship node_modules/)"
        )
    for name, data in spec.files:
        (root / name).write_bytes(_anchored(data, spec.folder))
    env = dict(environ)
    env.update(
        npm_config_update_notifier="false", npm_config_fund="false", npm_config_audit="false"
    )
    command = [npm, "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"]
    # npm_config_ignore_scripts from the environment must not turn them back on either
    env["npm_config_ignore_scripts"] = "false" if scripts else "true"
    if not scripts:
        command.append("--ignore-scripts")
    try:
        done = subprocess.run(
            command,
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise DependencyError(
            f"{spec.archive or spec.folder}: npm ci ran longer than {NPM_TIMEOUT} s (hint: check the registry is reachable)"
        ) from None
    if done.returncode != 0:
        said = _errors(done)
        fix = (
            "run `npm install` there to bring package-lock.json in line with package.json"
            if "EUSAGE" in said
            else "check that the registry can be reached and the lockfile's packages exist"
        )
        raise DependencyError(
            f"{spec.archive or spec.folder}: npm {' '.join(command[1:3])} failed:\n{said}\n(hint: {fix})"
        )
    for name, _ in spec.files:
        (root / name).unlink()
    modules = root / "node_modules"
    modules.mkdir(exist_ok=True)
    (modules / ".package-lock.json").unlink(missing_ok=True)
    for links in [modules / ".bin", *modules.glob("@*/.bin"), *modules.glob("*/node_modules/.bin")]:
        shutil.rmtree(links, ignore_errors=True)


def _errors(done: subprocess.CompletedProcess[str]) -> str:
    """npm's own error lines ("npm error ...", "npm ERR! ..." before npm 10) without its
    usage text (a usage error prints the command's description and ``Usage:`` after the
    message) or the log file's path (the scratch folder is gone by then): at most
    ``ERROR_LINES``, each cut at ``LINE_CHARS``. Without any, the last lines it printed."""
    lines = [line.rstrip() for line in done.stderr.splitlines() if line.strip()]
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if not line.startswith(("npm error", "npm ERR!")):
            continue
        said = line.split(None, 2)[2] if len(line.split(None, 2)) > 2 else ""
        if not said:
            paragraphs.append([])
        elif "A complete log of this run" not in said:
            paragraphs[-1].append(line)
    paragraphs = [p for p in paragraphs if p]
    usage = next((n for n, p in enumerate(paragraphs) if p[0].endswith("Usage:")), None)
    if usage is not None:  # the paragraph before it is the command's one-line description
        paragraphs = paragraphs[: max(1, usage - 1)]
    errors = [line for p in paragraphs for line in p]
    shown = [
        (line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…")
        for line in (errors[:ERROR_LINES] if errors else lines[-3:])
    ]
    if len(errors) > ERROR_LINES:
        shown.append(f"npm error ... ({len(errors) - ERROR_LINES} more lines)")
    text = "\n".join(f"  {line}" for line in shown) or f"  exit status {done.returncode}"
    return _CREDENTIALS.sub(r"\1****@", text)


_DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


def _anchored(data: bytes, folder: Path) -> bytes:
    """package.json or its lockfile with relative ``file:`` specs made absolute: npm runs in a
    scratch folder, and ``file:../pkgs/x.tgz`` means a path from the action's folder."""
    document = json.loads(data.decode("utf-8-sig"))

    def anchor(value: object) -> object:
        if isinstance(value, str) and value.startswith("file:"):
            path = value[len("file:") :]
            if not os.path.isabs(path):
                # folder may be relative (to the manifest's folder, where the tool runs)
                return "file:" + os.path.normpath(os.path.join(os.path.abspath(folder), path))
        return value

    def fix_fields(entry: dict) -> None:
        for field in _DEPENDENCY_FIELDS:
            if isinstance(entry.get(field), dict):
                entry[field] = {k: anchor(v) for k, v in entry[field].items()}

    fix_fields(document)
    for entry in (document.get("packages") or {}).values():
        if isinstance(entry, dict):
            fix_fields(entry)
            if "resolved" in entry:
                entry["resolved"] = anchor(entry["resolved"])
    return json.dumps(document, indent=2).encode()
