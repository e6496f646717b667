"""Adobe's own ``aio rt`` commands against localwhisk, as a reader of Adobe's
"Asynchronous Calls" guide runs them, plus ``aio rt deploy -m`` of a manifest.

The commands are @adobe/aio-cli-plugin-runtime's, run by ``tests/compat/aio.cjs``
(installed by ``make compat-deps``) as subprocesses against real servers on port 0.
Each run gets a made-up home and config folders, so the user's own aio config,
``.wskprops`` and environment are never read or written, and an outbound proxy that
does not exist, so a command that tried to reach Adobe would fail instead of
succeeding quietly. ``USE_RUNTIME_AUTH`` is set as a user of any plain OpenWhisk
must: since plugin 8.0, ``action``/``trigger``/``rule create`` otherwise go through
Adobe's deploy service and wait for a browser login.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from lw_client import NS, Client, wait_for
from serverprocess import GUEST_AUTH, ServerProcess, start_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "tests" / "compat"
FIXTURES = ROOT / "tests" / "fixtures" / "aio"
COMMAND_TIMEOUT_S = 60
PAYLOAD = "Hello from the long running job!"
DEAD_PROXY = "http://127.0.0.1:9"  # discard port: nothing answers


@dataclass
class Aio:
    """``aio rt ...`` for one server, run in ``work`` with a throwaway home."""

    node: str
    server: ServerProcess
    work: Path
    home: Path

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "WSK_CONFIG_FILE": str(self.home / ".wskprops"),  # absent: nothing to read
            "AIO_RUNTIME_APIHOST": self.server.url,
            "AIO_RUNTIME_AUTH": ":".join(GUEST_AUTH),
            "AIO_RUNTIME_NAMESPACE": "guest",
            "USE_RUNTIME_AUTH": "true",
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
        }

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                [self.node, str(COMPAT / "aio.cjs"), "rt", *args],
                cwd=self.work,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"aio rt {' '.join(args)} did not finish in {COMMAND_TIMEOUT_S} s: {exc}")
        if ok:
            assert done.returncode == 0, (
                f"aio rt {' '.join(args)} exited {done.returncode}:\n"
                f"{shown(done.stdout)}\n{shown(done.stderr)}"
            )
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args).stdout)


def shown(text: str) -> str:
    return text.replace(GUEST_AUTH[1], "<key>")


def node_or_fail() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node (v20+) is not on PATH; install Node.js to run the aio compatibility tests"
        )
    if not (COMPAT / "node_modules" / "@adobe" / "aio-cli-plugin-runtime").is_dir():
        pytest.fail("tests/compat/node_modules lacks the aio plugin: run `make compat-deps` first")
    return node


def make_aio(tmp_path: Path, server: ServerProcess) -> Aio:
    work = tmp_path / "work"
    shutil.copytree(FIXTURES, work)
    home = tmp_path / "home"
    home.mkdir()
    return Aio(node_or_fail(), server, work, home)


@pytest.fixture(scope="module")
def guide_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("lw-aio-guide"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aio(tmp_path_factory: pytest.TempPathFactory, guide_server: ServerProcess) -> Aio:
    return make_aio(tmp_path_factory.mktemp("aio"), guide_server)


@pytest.fixture
def api(guide_server: ServerProcess) -> Iterator[Client]:
    client = Client(guide_server.url, GUEST_AUTH)
    yield client
    client.session.close()


def finished(api: Client, activation_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        response = api.get(f"{NS}/activations/{activation_id}")
        return response.json() if response.status_code == 200 else None

    return wait_for(done, timeout=30, what=f"activation {activation_id}")


def assert_worker_result(aio: Aio, activation_id: str) -> None:
    result = aio.json("activation", "result", activation_id)
    assert result["status"] == "success", result
    assert result["result"]["body"] == {"payload": PAYLOAD, "args": "bar"}


# -- option 1: a web action starts the worker ------------------------------------------


def test_guide_actions_are_created_as_the_guide_says(aio: Aio, api: Client) -> None:
    aio.run("action", "create", "my-worker", "worker.js", "-t", "120000")
    # The guide's command, plus the annotation Adobe's security guide asks for, without
    # which openwhisk() in the action has no key (on Adobe, OpenWhisk and here alike).
    aio.run(
        "action",
        "create",
        "test",
        "web-action.js",
        "--web",
        "true",
        "-a",
        "provide-api-key",
        "true",
    )
    worker = api.get(f"{NS}/actions/my-worker").json()
    assert (worker["exec"]["kind"], worker["limits"]["timeout"]) == ("nodejs:20", 120000)
    web = {a["key"]: a["value"] for a in api.get(f"{NS}/actions/test").json()["annotations"]}
    assert web["web-export"] is True and web["provide-api-key"] is True


def test_the_web_action_answers_the_workers_id_and_aio_reads_its_result(
    aio: Aio, api: Client, guide_server: ServerProcess
) -> None:
    url = f"{guide_server.url}/api/v1/web/guest/default/test.json"
    answer = requests.get(url, params={"duration_ms": "200"}, timeout=70)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["statusCode"] == 200
    worker_id = body["body"]["activationId"]
    assert finished(api, worker_id)["name"] == "my-worker"
    assert_worker_result(aio, worker_id)


# -- option 2: a trigger and a rule ----------------------------------------------------


def test_a_fired_trigger_logs_the_workers_id(aio: Aio, api: Client) -> None:
    aio.run("trigger", "create", "my-worker-trigger")
    aio.run("rule", "create", "async-rule", "my-worker-trigger", "my-worker")
    fired = aio.json(
        "trigger", "fire", "my-worker-trigger", "-p", "duration_ms", "200", "-p", "foo", "bar"
    )
    trigger_id = fired["activationId"]
    logs = aio.run("activation", "logs", trigger_id).stdout
    assert f"activation logs {trigger_id}" in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert [(line["rule"], line["action"]) for line in lines] == [
        ("guest/async-rule", "guest/my-worker")
    ]
    worker_id = lines[0]["activationId"]
    finished(api, worker_id)
    assert_worker_result(aio, worker_id)


def test_logs_follow_the_namespaces_log_forwarding(aio: Aio, api: Client) -> None:
    started = api.post(f"{NS}/actions/my-worker", {"duration_ms": 50, "foo": "bar"}).json()
    finished(api, started["activationId"])
    shown_config = aio.run("namespace", "log-forwarding", "get").stdout
    assert json.loads(shown_config.split("\n", 1)[1]) == {"adobe_io_runtime": {}}
    aio.run(
        "namespace", "log-forwarding", "set", "splunk-hec",
        "--host", "splunk.example", "--port", "8088", "--index", "main", "--hec-token", "tok-123",
    )  # fmt: skip
    kept = json.loads(aio.run("namespace", "log-forwarding", "get").stdout.split("\n", 1)[1])
    assert set(kept["splunk_hec"]) == {"host", "port", "index", "updated_at"}  # no token
    logs = aio.run("activation", "logs", started["activationId"]).stdout
    assert "custom log forwarding destination: 'splunk_hec'" in logs
    errors = aio.run("namespace", "log-forwarding", "errors").stdout
    assert (
        errors.strip()
        == "No log forwarding errors for the last configured destination 'splunk_hec'"
    )
    aio.run("namespace", "log-forwarding", "set", "adobe-io-runtime")
    logs = aio.run("activation", "logs", started["activationId"]).stdout
    assert f"activation logs {started['activationId']}" in logs


# -- aio rt deploy -m, against the Adobe profile ----------------------------------------


@pytest.fixture
def adobe_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server(tmp_path / "data", "--profile", "adobe")
    try:
        yield server
    finally:
        server.stop()


def test_deploy_of_the_nodejs_bundle_runs_the_pattern(
    tmp_path: Path, adobe_server: ServerProcess
) -> None:
    # The project's own manifest.nodejs.yaml, unchanged, in a copy of the project's layout
    # (aio reads function: paths from the folder it runs in).
    aio = make_aio(tmp_path, adobe_server)
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "actions" / "nodejs", bundle / "actions" / "nodejs")
    shutil.copy(ROOT / "manifest.nodejs.yaml", bundle / "manifest.nodejs.yaml")
    aio.work = bundle
    api = Client(adobe_server.url, GUEST_AUTH)
    out = aio.run("deploy", "-m", "manifest.nodejs.yaml").stdout
    assert "Success: Deployment completed successfully." in out
    worker = api.get(f"{NS}/actions/async-nodejs/my-worker").json()
    assert (worker["limits"]["timeout"], worker["exec"]["kind"]) == (120000, "nodejs:22")
    rule = api.get(f"{NS}/rules/async-rule").json()
    assert (rule["status"], rule["action"]["name"]) == ("active", "my-worker")

    status = api.get(f"{NS}/actions/async-nodejs/status").json()
    assert (status["exec"]["main"], status["exec"]["kind"]) == ("status", "nodejs:22")

    url = f"{adobe_server.url}/api/v1/web/guest/async-nodejs/test.json"
    started = requests.get(url, params={"duration_ms": "200"}, timeout=70).json()
    worker_id = started["body"]["activationId"]
    finished(api, worker_id)
    result = aio.json("activation", "result", worker_id)
    assert result["result"]["body"] == {"payload": PAYLOAD}
    # ... and a caller without the key follows the same job through its status URL
    followed = wait_for(
        lambda: (
            (r := requests.get(started["body"]["statusUrl"], timeout=70)).status_code == 200
            and r.json()
        ),
        what="the status URL to answer 200",
    )
    assert followed["body"] == {"payload": PAYLOAD}

    fired = aio.json("trigger", "fire", "my-worker-trigger", "-p", "duration_ms", "200")
    logs = aio.run("activation", "logs", fired["activationId"]).stdout
    line = next(json.loads(text) for text in logs.splitlines() if text.startswith("{"))
    assert line["action"] == "guest/async-nodejs/my-worker"
    finished(api, line["activationId"])
    result = aio.json("activation", "result", line["activationId"])
    assert result["result"]["body"] == {"payload": PAYLOAD}


def test_the_adobe_profile_refuses_through_aio_what_adobe_refuses(
    tmp_path: Path, adobe_server: ServerProcess
) -> None:
    aio = make_aio(tmp_path, adobe_server)
    refused = aio.run("action", "create", "big", "worker.js", "-m", "8192", ok=False)
    assert refused.returncode != 0
    assert (
        "memory size 8192 mb exceeds allowed threshold of 4096 mb (400 Bad Request)"
        in refused.stderr
    )
