"""The async pattern with curl alone, for both bundles, on a real localwhisk over HTTP.

Each bundle is deployed by the deploy tool as a user deploys it; then, as a caller with
no API key: start a job through ``test``, follow its ``statusUrl`` (202 while it runs,
200 with the worker's payload), see a failed and a timed-out worker answered as such,
and see ids the bundle did not issue refused with 404.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from lw_client import wait_for
from serverprocess import GUEST_AUTH, ROOT

KEY = ":".join(GUEST_AUTH)
WORKER_RESULT = {"statusCode": 200, "body": {"payload": "Hello from the long running job!"}}
BUNDLES = [("manifest.yaml", "default"), ("manifest.nodejs.yaml", "async-nodejs")]
NOT_FOUND = {"status": "not found", "error": "no job is known by this id"}
EXAMPLES: dict[str, list[str]] = {}  # package -> the two lines deploy printed


def load_capability() -> Any:
    """The Python bundle's token module, to sign ids as only the bundle should."""
    path = ROOT / "actions" / "web_action" / "capability.py"
    spec = importlib.util.spec_from_file_location("bundle_capability", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Iterator[Any]:
    proc = start_localwhisk(tmp_path_factory.mktemp("status-flow-data"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module", params=BUNDLES, ids=["python", "nodejs"])
def bundle(
    request: pytest.FixtureRequest, server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The bundle deployed from the project's own files; yields its package segment."""
    manifest, package = request.param
    home = tmp_path_factory.mktemp("home")
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("WHISK_", "AIO_", "WSK_"))
    }
    env.update(HOME=str(home), WHISK_APIHOST=server.url, WHISK_AUTH=KEY)

    def owdeploy(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "deploy", *args, "-m", manifest],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert KEY.split(":")[1] not in done.stdout + done.stderr
        return done.stdout

    EXAMPLES[package] = json.loads(owdeploy("deploy", "--json"))["example"]
    assert json.loads(owdeploy("urls", "--json"))["example"] == EXAMPLES[package]
    yield package
    owdeploy("undeploy")


def web(server: Any, package: str, action: str) -> str:
    return f"{server.url}/api/v1/web/guest/{package}/{action}"


def start(server: Any, package: str, **params: str) -> dict[str, Any]:
    started = requests.get(f"{web(server, package, 'test')}.json", params=params, timeout=30)
    assert started.status_code == 200, started.text
    body = started.json()["body"]
    assert set(body) == {"activationId", "statusUrl"}
    return body


def poll_until_done(url: str, timeout: float = 30.0) -> tuple[list[requests.Response], Any]:
    """Every answer up to the first that is not 202 (the poll is bounded)."""
    seen: list[requests.Response] = []

    def done() -> requests.Response | None:
        seen.append(requests.get(url, timeout=30))
        return seen[-1] if seen[-1].status_code != 202 else None

    last = wait_for(done, timeout, "the job's status to be final")
    return seen, last


def worker_path(package: str) -> str:
    return "my-worker" if package == "default" else f"{package}/my-worker"


def test_a_job_is_started_followed_and_collected_with_curl_alone(server, bundle):
    job = start(server, bundle, duration_ms="1500")
    url = job["statusUrl"]
    assert url.startswith(f"{web(server, bundle, 'status')}?id={job['activationId']}.")
    assert KEY.split(":")[1] not in url

    seen, last = poll_until_done(url)
    running = seen[0]  # asked at once: the 1.5 s job is still running
    assert (running.status_code, running.json()) == (202, {"status": "running"})
    assert running.headers["Retry-After"] == "1"
    assert (last.status_code, last.json()) == (200, WORKER_RESULT)

    verbatim = requests.get(url.replace("/status?", "/status.json?"), timeout=30).json()
    assert (verbatim["status"], verbatim["statusCode"]) == ("success", 200)
    assert verbatim["body"] == WORKER_RESULT


def test_the_plain_start_points_at_the_status_url_from_the_callers_own_host(server, bundle):
    port = urlsplit(server.url).port
    started = requests.get(
        web(server, bundle, "test"),
        params={"duration_ms": "0"},
        headers={"Host": f"localhost:{port}"},
        timeout=30,
    )
    assert started.status_code == 200, started.text
    url = started.json()["statusUrl"]
    assert started.headers["Location"] == url
    assert url.startswith(f"http://localhost:{port}/api/v1/web/guest/{bundle}/status?id=")
    _, last = poll_until_done(url)
    assert last.json() == WORKER_RESULT

    # Behind a proxy (Adobe's edge sets X-Forwarded-Host): the public host, not the server's.
    proxied = requests.get(
        f"{web(server, bundle, 'test')}.json",
        params={"duration_ms": "0"},
        headers={"X-Forwarded-Host": "jobs.example", "X-Forwarded-Proto": "https"},
        timeout=30,
    )
    assert proxied.json()["body"]["statusUrl"].startswith(
        f"https://jobs.example/api/v1/web/guest/{bundle}/status?id="
    )


def test_a_failed_worker_answers_its_failure(server, bundle):
    job = start(server, bundle, duration_ms="soon")
    _, last = poll_until_done(job["statusUrl"])
    assert last.status_code == 502
    assert last.json() == {
        "status": "application error",
        "activationId": job["activationId"],
        "error": "duration_ms must be a number of milliseconds, got 'soon'"
        if bundle == "default"
        else 'duration_ms must be a number of milliseconds, got "soon"',
    }


def test_a_worker_cut_at_its_time_limit_answers_504(server, bundle):
    # The worker's limit lowered to 1 s, as a user would misconfigure it: a 3 s job is cut.
    path = f"{server.url}/api/v1/namespaces/_/actions/{worker_path(bundle)}"
    action = requests.get(path, auth=GUEST_AUTH, timeout=30).json()

    def limit(millis: int) -> None:
        action["limits"]["timeout"] = millis
        updated = requests.put(
            path, params={"overwrite": "true"}, json=action, auth=GUEST_AUTH, timeout=30
        )
        assert updated.status_code == 200, updated.text

    original = action["limits"]["timeout"]
    limit(1000)
    try:
        job = start(server, bundle, duration_ms="3000")
        _, last = poll_until_done(job["statusUrl"])
    finally:
        limit(original)
    assert last.status_code == 504
    assert last.json() == {
        "status": "timeout",
        "activationId": job["activationId"],
        "error": "The action exceeded its time limits of 1000 milliseconds.",
    }


def test_ids_the_bundle_did_not_issue_are_404_and_reveal_nothing(server, bundle):
    # An activation of another action: the web action test itself.
    started = requests.get(f"{web(server, bundle, 'test')}.json", timeout=30)
    foreign = started.headers["x-openwhisk-activation-id"]
    wait_for(
        lambda: (
            requests.get(
                f"{server.url}/api/v1/namespaces/_/activations/{foreign}",
                auth=GUEST_AUTH,
                timeout=30,
            ).status_code
            == 200
        ),
        what="the foreign activation's record",
    )
    status = web(server, bundle, "status")
    job = started.json()["body"]
    # Signed as the bundle signs, with the namespace key: only the record says whose it is.
    signed = load_capability().issue(KEY, "guest", worker_path(bundle), foreign, 1)
    issued = job["statusUrl"].split("?id=")[1]
    head, _, sig = issued.rpartition(".")
    forged = f"{head}.{'B' if sig[0] == 'A' else 'A'}{sig[1:]}"  # one character changed
    for token in (foreign, forged, signed):
        answer = requests.get(status, params={"id": token}, timeout=30)
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND), token

    malformed = requests.get(status, timeout=30)
    assert malformed.status_code == 400
    assert malformed.json()["status"] == "invalid"


def test_the_printed_example_runs_as_printed(server, bundle):
    if shutil.which("curl") is None:
        pytest.fail("curl is not on PATH: the printed example needs it")
    start, poll = EXAMPLES[bundle]
    assert "duration_ms=2000" in start
    shell = subprocess.run(
        ["sh", "-c", f'{start}\n{poll} -o /dev/null -w "%{{http_code}}\\n"\necho "$status"'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    code, url = shell.stdout.split()
    assert code == "202"  # the 2-second job is running
    _, last = poll_until_done(url)
    assert (last.status_code, last.json()) == (200, WORKER_RESULT)
