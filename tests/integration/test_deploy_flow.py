"""The deploy tool as a user runs it: whole processes against a real localwhisk over HTTP.

deploy -> plan says nothing to do -> one code change is exactly one update ->
the web action starts the worker -> `activation wait` and `fire --wait` print
its result -> undeploy leaves nothing. A dedicated server keeps the namespace
to this module, so "nothing left" can be checked literally.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from deploytool import KEY, WORKER_RESULT, clean_env, names, owdeploy
from serverprocess import ROOT


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Iterator[Any]:
    proc = start_localwhisk(tmp_path_factory.mktemp("deploy-flow-data"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's bundle, so a test may edit an action."""
    folder = tmp_path_factory.mktemp("bundle")
    shutil.copy(ROOT / "manifest.yaml", folder / "manifest.yaml")
    shutil.copytree(
        ROOT / "actions", folder / "actions", ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder


def test_deploy_plan_change_use_and_undeploy(server, bundle, tmp_path):
    env = clean_env(tmp_path, WHISK_APIHOST=server.url, WHISK_AUTH=KEY)

    first = owdeploy(bundle, "deploy", "--json", env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["plan"]["summary"] == {"create": 5, "update": 0, "delete": 0, "unchanged": 0}
    assert [u["url"] for u in report["urls"]] == [
        f"{server.url}/api/v1/web/guest/default/{name}" for name in ("status", "test")
    ]
    assert names(server, "actions") == ["my-worker", "status", "test"]
    # the printed curl line starts a short job (the manifest's sampleInput), not the 100 s one
    [test_url] = [u for u in report["urls"] if u["url"].endswith("/test")]
    assert test_url["curl"].endswith("/test.json?duration_ms=2000'")
    assert names(server, "triggers") == ["my-worker-trigger"]
    assert names(server, "rules") == ["async-rule"]

    again = owdeploy(bundle, "plan", "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["plan"]["summary"]["unchanged"] == 5
    assert json.loads(again.stdout)["plan"]["summary"]["create"] == 0

    worker = bundle / "actions" / "worker" / "__main__.py"
    worker.write_text(worker.read_text() + "\n# a change in the code only\n")
    changed = owdeploy(bundle, "deploy", "--json", env=env)
    assert changed.returncode == 0, changed.stderr
    changes = [c for c in json.loads(changed.stdout)["plan"]["changes"] if c["op"] != "unchanged"]
    assert [(c["op"], c["kind"], c["name"]) for c in changes] == [("update", "action", "my-worker")]
    assert "code changed" in changes[0]["reasons"]

    started = requests.get(
        f"{server.url}/api/v1/web/guest/default/test", params={"duration_ms": "300"}, timeout=30
    )
    assert started.status_code == 200, started.text
    activation_id = started.json()["activationId"]
    waited = owdeploy(
        bundle, "activation", "wait", activation_id, "--timeout", "30", "--json", env=env
    )
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["result"] == WORKER_RESULT

    fired = owdeploy(
        bundle,
        "fire",
        "my-worker-trigger",
        "-p",
        "duration_ms",
        "200",
        "--wait",
        "--timeout",
        "30",
        env=env,
    )
    assert fired.returncode == 0, fired.stderr
    assert "Hello from the long running job!" in fired.stdout

    gone = owdeploy(bundle, "undeploy", env=env)
    assert gone.returncode == 0, gone.stderr
    for collection in ("actions", "triggers", "rules", "packages"):
        assert names(server, collection) == []


def test_local_default_is_announced_and_a_wskprops_target_wins(server, bundle, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    announced = owdeploy(bundle, "target", env=clean_env(home))
    assert "local default" in announced.stderr + announced.stdout

    (home / ".wskprops").write_text(f"APIHOST={server.url}\nAUTH={KEY}\nNAMESPACE=guest\n")
    (home / ".wskprops").chmod(0o600)
    env = clean_env(home)
    target = owdeploy(bundle, "target", "--json", env=env)
    assert target.returncode == 0, target.stderr
    assert json.loads(target.stdout)["apihost"] == server.url
    assert owdeploy(bundle, "target", "--is-local-default", env=env).returncode != 0

    deployed = owdeploy(bundle, "deploy", env=env)
    assert deployed.returncode == 0, deployed.stderr
    assert names(server, "actions") == ["my-worker", "status", "test"]
    assert owdeploy(bundle, "undeploy", env=env).returncode == 0
    assert names(server, "actions") == []


# The CLI's own entry point in a whole process, with its retry sleeps injected as no-ops:
# the backoff and how many attempts there are is the client's policy, tested in
# tests/unit/deploy/test_client.py. Here it is what the user sees. The process reports how
# many sleeps it was asked for on a line of its own, so the test knows whether it retried.
NO_WAIT_CLI = """\
import sys
from deploy.cli import main
sleeps = []
code = main(sys.argv[1:], sleep=sleeps.append)
print(f"retry sleeps: {len(sleeps)}", file=sys.stderr)
sys.exit(code)
"""


def test_an_unreachable_server_is_a_clear_error_without_traceback(bundle, tmp_path):
    env = clean_env(tmp_path, WHISK_APIHOST="http://127.0.0.1:9", WHISK_AUTH=KEY)
    done = subprocess.run(
        [sys.executable, "-c", NO_WAIT_CLI, "plan"],
        cwd=bundle,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert KEY.split(":")[1] not in done.stdout + done.stderr, "the API key was printed"
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "error: " in done.stderr and "make up" in done.stderr
    assert "connection refused: nothing listens on 127.0.0.1:9" in done.stderr
    # nothing listens on this machine's port: said at once, not after seconds of retries
    assert "retry sleeps: 0" in done.stderr.splitlines(), done.stderr
