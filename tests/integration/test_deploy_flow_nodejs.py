"""The Node.js bundle as a user deploys it: whole processes against a real localwhisk over HTTP.

``deploy -m manifest.nodejs.yaml`` -> the printed web URL starts the worker -> ``activation
wait`` and ``fire --wait`` print its result -> the Python bundle takes the same names over
in place and hands them back -> undeploy leaves nothing. The Node.js twin of
``test_deploy_flow.py``; its own server keeps the namespace to this module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from deploytool import KEY, WORKER_RESULT, clean_env, names, owdeploy
from serverprocess import GUEST_AUTH, ROOT

NODE = "manifest.nodejs.yaml"
# Keyed by package/name: the Node.js bundle keeps its actions in the package async-nodejs.
NODE_KINDS = {f"async-nodejs/{a}": "nodejs:22" for a in ("my-worker", "status", "test")}
PYTHON_KINDS = {f"/{a}": "python:3.11" for a in ("my-worker", "status", "test")}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Iterator[Any]:
    proc = start_localwhisk(tmp_path_factory.mktemp("deploy-flow-nodejs-data"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's two manifests and their actions."""
    folder = tmp_path_factory.mktemp("bundle")
    for name in ("manifest.yaml", NODE):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(
        ROOT / "actions", folder / "actions", ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder


def owdeploy_to(
    bundle: Path, home: Path, server: Any, *args: str
) -> subprocess.CompletedProcess[str]:
    env = clean_env(home, WHISK_APIHOST=server.url, WHISK_AUTH=KEY)
    return owdeploy(bundle, *args, env=env)


def kinds(server: Any) -> dict[str, str]:
    response = requests.get(
        f"{server.url}/api/v1/namespaces/_/actions", auth=GUEST_AUTH, timeout=30
    )
    response.raise_for_status()
    return {
        e["namespace"].partition("/")[2] + "/" + e["name"]: next(
            a["value"] for a in e["annotations"] if a["key"] == "exec"
        )
        for e in response.json()
    }


def start_job(url: str, millis: int) -> str:
    started = requests.get(url, params={"duration_ms": str(millis)}, timeout=30)
    assert started.status_code == 200, started.text
    return started.json()["activationId"]


def test_deploy_use_switch_and_undeploy_the_nodejs_bundle(server, bundle, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return owdeploy_to(bundle, tmp_path, server, *args)

    first = run("deploy", "-m", NODE, "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["warnings"] == []
    assert report["plan"]["summary"] == {"create": 6, "update": 0, "delete": 0, "unchanged": 0}
    status, url = [u["url"] for u in report["urls"]]
    assert url == f"{server.url}/api/v1/web/guest/async-nodejs/test"
    assert status == f"{server.url}/api/v1/web/guest/async-nodejs/status"
    assert kinds(server) == NODE_KINDS
    assert names(server, "triggers") == ["my-worker-trigger"]
    assert names(server, "rules") == ["async-rule"]

    again = run("plan", "-m", NODE, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["plan"]["summary"]["unchanged"] == 6

    activation_id = start_job(url, 300)
    waited = run("activation", "wait", activation_id, "--timeout", "30", "--json")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["result"] == WORKER_RESULT

    fired = run(
        "fire", "my-worker-trigger", "-p", "duration_ms", "200", "--wait", "--timeout", "30"
    )
    assert fired.returncode == 0, fired.stderr
    assert "Hello from the long running job!" in fired.stdout

    # Same project: the Python bundle's actions replace the package, the rule follows them.
    python = run("deploy", "-m", "manifest.yaml", "--json")
    assert python.returncode == 0, python.stderr
    changes = [c for c in json.loads(python.stdout)["plan"]["changes"] if c["op"] != "unchanged"]
    assert sorted((c["op"], c["name"], c["reasons"]) for c in changes) == [
        ("create", "my-worker", []),
        ("create", "status", []),
        ("create", "test", []),
        ("delete", "async-nodejs", ["removed from the manifest"]),
        ("delete", "async-nodejs/my-worker", ["removed from the manifest"]),
        ("delete", "async-nodejs/status", ["removed from the manifest"]),
        ("delete", "async-nodejs/test", ["removed from the manifest"]),
        ("update", "async-rule", ["action async-nodejs/my-worker → my-worker"]),
    ]
    assert kinds(server) == PYTHON_KINDS
    back = run("deploy", "-m", NODE)
    assert back.returncode == 0, back.stderr
    assert kinds(server) == NODE_KINDS
    waited = run("activation", "wait", start_job(url, 100), "--timeout", "30", "--json")
    assert json.loads(waited.stdout)["result"] == WORKER_RESULT

    gone = run("undeploy", "-m", NODE)
    assert gone.returncode == 0, gone.stderr
    for collection in ("actions", "triggers", "rules", "packages"):
        assert names(server, collection) == []


def test_a_failed_start_is_the_web_actions_clear_error(server, bundle, tmp_path):
    """The worker missing: the Node.js web action answers 502 with the Python port's wording."""
    deployed = owdeploy_to(bundle, tmp_path, server, "deploy", "-m", NODE)
    assert deployed.returncode == 0, deployed.stderr
    response = requests.delete(
        f"{server.url}/api/v1/namespaces/_/actions/async-nodejs/my-worker",
        auth=GUEST_AUTH,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer = requests.get(f"{server.url}/api/v1/web/guest/async-nodejs/test", timeout=30)
    assert answer.status_code == 502, answer.text
    assert answer.json() == {
        "error": "the worker action 'async-nodejs/my-worker' does not exist in namespace 'guest'"
    }
    assert owdeploy_to(bundle, tmp_path, server, "undeploy", "-m", NODE).returncode == 0
    assert names(server, "actions") == []
