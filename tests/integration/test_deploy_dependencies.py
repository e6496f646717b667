"""Actions with dependencies as a user deploys them: the deploy tool as a process, a real
localwhisk over HTTP, and a package index made in the test (no network).

A Python action whose requirements.txt names a package with a compiled extension (and a
pure-Python one built from its source distribution), and a Node.js action whose
package.json and lockfile name an npm tarball, deploy and answer invokes with what their
libraries compute; redeployed unchanged they are left alone; a changed requirement is
rebuilt and the plan says so; a spec that cannot be read fails validate.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import localindex
import pytest
import requests
from deploytool import KEY, clean_env, owdeploy
from serverprocess import GUEST_AUTH

MANIFEST = f"""\
project:
  name: with-dependencies
packages:
  deps:
    actions:
      compute:
        function: actions/compute
        runtime: {localindex.KIND}
      pad:
        function: actions/pad
        runtime: nodejs:20
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Iterator[Any]:
    proc = start_localwhisk(tmp_path_factory.mktemp("deploy-dependencies-data"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "manifest.yaml").write_text(MANIFEST)
    localindex.python_action(
        root / "actions" / "compute", "fastsum==1.0\npurelib\npuresrc\nenvprobe\n"
    )
    tarballs = localindex.node_packages(root / "tarballs")
    localindex.node_action(root / "actions" / "pad", tarballs)
    return root


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server: Any) -> dict[str, str]:
    index = localindex.python_index(tmp_path_factory.mktemp("index"))
    home = tmp_path_factory.mktemp("home")
    return clean_env(
        home,
        WHISK_APIHOST=server.url,
        WHISK_AUTH=KEY,
        OWDEPLOY_CACHE_DIR=str(home / "owdeploy-cache"),
        **localindex.pip_env(index),
        **localindex.npm_env(home),
    )


def invoke(server: Any, name: str, params: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{server.url}/api/v1/namespaces/_/actions/{name}",
        params={"blocking": "true", "result": "true"},
        json=params,
        auth=GUEST_AUTH,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def run(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return owdeploy(project, *args, env=env)


def test_deploy_and_invoke_actions_that_import_their_dependencies(server, project, env):
    first = run(project, env, "deploy", "--json")
    assert first.returncode == 0, first.stderr
    assert "dependencies of deps/compute: built for" in first.stderr
    # said before the build starts, and each source build before it runs its code here
    progress = f"building dependencies for deps/compute ({localindex.KIND})…"
    assert first.stderr.index(progress) < first.stderr.index(
        "dependencies of deps/compute: built for"
    )
    assert (
        "dependencies of deps/compute: built from source: puresrc"
        " (runs its build code on this machine)" in first.stderr
    )
    assert "dependencies of deps/pad: built for nodejs:20" in first.stderr
    summary = json.loads(first.stdout)["plan"]["summary"]
    assert summary == {"create": 3, "update": 0, "delete": 0, "unchanged": 0}

    result = invoke(server, "deps/compute", {"a": 40, "b": 2, "who": "whisk"})
    # build_saw: pip and the sdist's build ran without the namespace's credentials
    assert result == {
        "sum": 42,
        "greeting": "hello, whisk",
        "answer": 42,
        "compiled": True,
        "build_saw": [],
    }
    assert invoke(server, "deps/pad", {"n": 7}) == {"padded": "007", "dev": "absent"}

    again = run(project, env, "deploy", "--json")
    assert again.returncode == 0, again.stderr
    assert "built for" not in again.stderr  # from the cache
    assert json.loads(again.stdout)["plan"]["summary"]["unchanged"] == 3


def test_a_changed_requirement_rebuilds_and_the_plan_says_so(server, project, env):
    listed = project / "actions" / "compute" / "requirements.txt"
    listed.write_text("fastsum==1.0\npurelib>=1.0\npuresrc\nenvprobe\n")
    planned = run(project, env, "plan")
    assert planned.returncode == 0, planned.stderr
    assert "dependencies changed" in planned.stdout
    line = next(line for line in planned.stdout.splitlines() if "deps/compute" in line)
    assert "update" in line and "dependencies changed" in line
    assert "deps/pad" in planned.stdout and "dependencies changed" not in next(
        line for line in planned.stdout.splitlines() if "deps/pad" in line
    )
    deployed = run(project, env, "deploy")
    assert deployed.returncode == 0, deployed.stderr
    assert invoke(server, "deps/compute", {"a": 1, "b": 2})["sum"] == 3


def test_validate_reports_a_spec_it_cannot_read(project, env, tmp_path):
    broken = tmp_path / "broken"
    (broken / "actions" / "compute").mkdir(parents=True)
    (broken / "manifest.yaml").write_text(MANIFEST.split("      pad:")[0])
    (broken / "actions" / "compute" / "__main__.py").write_text("def main(a):\n    return a\n")
    (broken / "actions" / "compute" / "requirements.txt").write_text("purelib\nfast sum ==\n")
    done = run(broken, env, "validate")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "manifest.yaml:" in done.stderr and "action deps/compute" in done.stderr
    assert "requirements.txt:2: expected a requirement" in done.stderr
    assert sorted(os.listdir(broken)) == ["actions", "manifest.yaml"]  # nothing written


def test_a_cache_folder_that_cannot_be_written_is_a_clear_error(project, env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    (project / "actions" / "compute" / "requirements.txt").write_text("purelib\n")  # not cached
    done = run(project, {**env, "OWDEPLOY_CACHE_DIR": str(blocker)}, "plan")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"the dependency cache {blocker}" in done.stderr and "OWDEPLOY_CACHE_DIR" in done.stderr


def test_validate_refuses_huge_requirements_and_file_dependencies_outside(project, env, tmp_path):
    refused = tmp_path / "refused"
    (refused / "actions" / "compute").mkdir(parents=True)
    (refused / "manifest.yaml").write_text(MANIFEST.split("      pad:")[0])
    (refused / "actions" / "compute" / "__main__.py").write_text("def main(a):\n    return a\n")
    listed = refused / "actions" / "compute" / "requirements.txt"
    listed.write_text("".join(f"pkg{n}\n" for n in range(90_000)))
    done = run(refused, env, "validate")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "requirements.txt: expected at most 1000 requirement lines, found 90000" in done.stderr

    pad = tmp_path / "outside" / "actions" / "pad"
    pad.mkdir(parents=True)
    (tmp_path / "outside" / "manifest.yaml").write_text(
        MANIFEST.replace("      compute:\n        function: actions/compute\n", "").replace(
            f"        runtime: {localindex.KIND}\n", "", 1
        )
    )
    (pad / "index.js").write_text("exports.main = () => ({});\n")
    (pad / "package.json").write_text('{"dependencies": {"x": "file:../../../x-1.0.0.tgz"}}')
    (pad / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    done = run(tmp_path / "outside", env, "validate")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "action deps/pad:" in done.stderr
    assert (
        "package.json: dependencies x: expected a file: dependency inside the action's folder"
        in done.stderr
    )


def test_npm_install_scripts_run_only_with_the_flag(server, env, tmp_path):
    folder = localindex.scripted_action(tmp_path, env)
    root = tmp_path / "scripted"
    (root / "actions").mkdir(parents=True)
    folder.rename(root / "actions" / "s")
    (root / "manifest.yaml").write_text(
        "project:\n  name: scripted\npackages:\n  scripted:\n    actions:\n"
        "      s:\n        function: actions/s\n        runtime: nodejs:20\n"
    )
    first = run(root, env, "deploy")
    assert first.returncode == 0, first.stderr
    assert "install scripts of scripted-lite not run" in first.stderr
    assert not (tmp_path / "script-ran").exists()
    assert invoke(server, "scripted/s", {}) == {"ok": 1}
    allowed = run(root, env, "deploy", "--allow-npm-scripts")
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "script-ran").exists()
    assert "install scripts of scripted-lite run on this machine" in allowed.stderr
    assert run(root, env, "undeploy").returncode == 0
