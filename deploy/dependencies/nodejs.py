"""npm, run to install an action's production dependencies from its lockfile:
``install_node_modules(spec, root)``.

``npm ci --omit=dev`` in a scratch folder holding only package.json and the lockfile:
exactly the locked tree, no devDependencies, nothing of the action's other files.
The registry is npm's own configuration (``.npmrc``, ``npm_config_*``). What names
this machine (``node_modules/.package-lock.json``, ``.bin`` links) is dropped.
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


def install_node_modules(spec: DependencySpec, root: Path, environ: Mapping[str, str]) -> None:
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
    try:
        done = subprocess.run(
            [npm, "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"],
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
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        said = _CREDENTIALS.sub(
            r"\1****@", " ".join(lines[-4:]) or f"exit status {done.returncode}"
        )
        raise DependencyError(
            f"{spec.archive or spec.folder}: npm ci --omit=dev failed: {said} (hint: run `npm install` there"
            " to bring package-lock.json in line with package.json)"
        )
    for name, _ in spec.files:
        (root / name).unlink()
    modules = root / "node_modules"
    modules.mkdir(exist_ok=True)
    (modules / ".package-lock.json").unlink(missing_ok=True)
    for links in [modules / ".bin", *modules.glob("@*/.bin"), *modules.glob("*/node_modules/.bin")]:
        shutil.rmtree(links, ignore_errors=True)


_DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


def _anchored(data: bytes, folder: Path) -> bytes:
    """package.json or its lockfile with relative ``file:`` specs made absolute: npm runs in a
    scratch folder, and ``file:../pkgs/x.tgz`` means a path from the action's folder."""
    document = json.loads(data.decode("utf-8-sig"))

    def anchor(value: object) -> object:
        if isinstance(value, str) and value.startswith("file:"):
            path = value[len("file:") :]
            if not os.path.isabs(path):
                return "file:" + os.path.normpath(os.path.join(folder, path))
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
