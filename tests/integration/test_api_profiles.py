"""Real servers started with ``--profile adobe`` and ``--profile openwhisk``: they say
which limits are in force, report them at ``GET /`` and refuse what the platform would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lw_client import NS, Client, unique
from serverprocess import GUEST_AUTH, ServerProcess, start_server

pytestmark = pytest.mark.integration

MB = 1024 * 1024
ECHO = {"kind": "python:3", "code": "def main(args):\n    return args\n"}


def serve(tmp_path_factory: pytest.TempPathFactory, profile: str) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp(f"lw-{profile}"), "--profile", profile)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def adobe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve(tmp_path_factory, "adobe")


@pytest.fixture(scope="module")
def openwhisk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serve(tmp_path_factory, "openwhisk")


@pytest.fixture
def adobe(adobe_server: ServerProcess) -> Iterator[Client]:
    client = Client(adobe_server.url, GUEST_AUTH)
    yield client
    client.session.close()


@pytest.fixture
def openwhisk(openwhisk_server: ServerProcess) -> Iterator[Client]:
    client = Client(openwhisk_server.url, GUEST_AUTH)
    yield client
    client.session.close()


def profile_line(server: ServerProcess) -> str:
    return next(line for line in server.output if line.startswith("localwhisk: profile "))


def test_adobe_says_so_at_start_and_reports_its_limits(adobe_server, adobe) -> None:
    line = profile_line(adobe_server)
    assert line.startswith("localwhisk: profile adobe: timeout 100-10800000 ms (default 60000)")
    assert "memory 128-4096 MB (default 256)" in line and "code 22 MB" in line
    limits = adobe.get("/").json()["limits"]
    assert {key: limits[key] for key in ("min_action_memory", "max_action_memory")} == {
        "min_action_memory": 128 * MB,
        "max_action_memory": 4096 * MB,
    }
    assert (limits["min_action_duration"], limits["max_action_duration"]) == (100, 10_800_000)
    assert (limits["max_action_logs"], limits["sequence_length"]) == (10 * MB, 50)
    assert (limits["actions_per_minute"], limits["triggers_per_minute"]) == (6000, 600)
    assert limits["concurrent_actions"] == 100
    assert limits["max_action_code_size"] == 22 * MB
    assert adobe.get(f"{NS}/limits").json()["maxActionConcurrency"] == 500


def test_adobe_refuses_8192_mb_and_a_23_mb_action(adobe) -> None:
    name = unique("big")
    answer = adobe.put(f"{NS}/actions/{name}", {"exec": ECHO, "limits": {"memory": 8192}})
    assert answer.status_code == 400
    assert "memory size 8192 MB exceeds allowed threshold of 4096 MB" in answer.json()["error"]
    source = "def main(args):\n    return args\n#" + "x" * (23 * MB)
    answer = adobe.put(f"{NS}/actions/{name}", {"exec": {"kind": "python:3", "code": source}})
    assert answer.status_code == 413
    assert answer.json()["error"] == f"exec larger than allowed: {len(source)} > {22 * MB} bytes."
    assert adobe.get(f"{NS}/actions/{name}").status_code == 404


def test_adobe_takes_4096_mb_and_three_hours_and_runs_it(adobe) -> None:
    name = unique("ok")
    body = {"exec": ECHO, "limits": {"memory": 4096, "timeout": 10_800_000}}
    created = adobe.put(f"{NS}/actions/{name}", body)
    assert created.status_code == 200, created.text
    assert created.json()["limits"]["concurrency"] == 200  # Adobe's default
    done = adobe.post(f"{NS}/actions/{name}?blocking=true&result=true", {"hello": "adobe"})
    assert (done.status_code, done.json()) == (200, {"hello": "adobe"})


def test_openwhisk_says_so_and_refuses_a_ten_minute_timeout(openwhisk_server, openwhisk) -> None:
    assert profile_line(openwhisk_server).startswith(
        "localwhisk: profile openwhisk: timeout 100-300000 ms (default 60000)"
    )
    limits = openwhisk.get("/").json()["limits"]
    assert (limits["max_action_duration"], limits["max_action_memory"]) == (300_000, 512 * MB)
    assert (limits["actions_per_minute"], limits["concurrent_actions"]) == (60, 30)
    assert limits["triggers_per_minute"] == 60
    assert limits["max_action_code_size"] == 48 * MB
    name = unique("long")
    answer = openwhisk.put(f"{NS}/actions/{name}", {"exec": ECHO, "limits": {"timeout": 600_000}})
    assert answer.status_code == 400
    assert (
        "duration 600000 milliseconds exceeds allowed threshold of 300000 milliseconds"
        in answer.json()["error"]
    )
    answer = openwhisk.put(f"{NS}/actions/{name}", {"exec": ECHO, "limits": {"memory": 1024}})
    assert "memory size 1024 MB exceeds allowed threshold of 512 MB" in answer.json()["error"]


def test_the_default_profile_is_named_at_start_too(localwhisk_server: ServerProcess) -> None:
    if localwhisk_server.process is None:
        pytest.skip("OW_TEST_APIHOST names a server this test did not start")
    line = profile_line(localwhisk_server)
    assert line.startswith("localwhisk: profile default: timeout 100-10800000 ms")
    assert "no invocations/min limit" in line
