"""``--profile``: each profile's figures, flags over a profile, refusals of a bad name,
and the handlers refusing what the chosen platform refuses."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fakes import call, make_app, make_backend

from localwhisk.__main__ import build_parser, main, settings_from
from localwhisk.config import MB, Limits
from localwhisk.profiles import ADOBE, OPENWHISK, PROFILES, describe

NS = "/api/v1/namespaces/_"


def limits_of(*argv: str, environ: dict[str, str] | None = None) -> Limits:
    return settings_from(build_parser(environ or {}).parse_args(list(argv))).limits


def test_the_default_profile_is_localwhisks_own_limits_unchanged():
    assert PROFILES["default"].limits == Limits()
    assert limits_of() == Limits()


def test_adobe_has_the_figures_of_its_system_settings_page():
    figures = (
        (ADOBE.timeout_min, ADOBE.timeout_max, ADOBE.timeout_default, ADOBE.blocking_wait_ms),
        (ADOBE.memory_min, ADOBE.memory_max, ADOBE.memory_default),
        (ADOBE.logs_min, ADOBE.logs_max, ADOBE.logs_default),
        (ADOBE.concurrency_min, ADOBE.concurrency_max, ADOBE.concurrency_default),
        (ADOBE.code_bytes, ADOBE.parameter_bytes, ADOBE.payload_bytes, ADOBE.sequence_max),
        (ADOBE.invocations_per_minute, ADOBE.concurrent_invocations, ADOBE.fires_per_minute),
    )
    assert figures == (
        (100, 10_800_000, 60_000, 60_000),
        (128, 4096, 256),
        (0, 10, 10),
        (1, 500, 200),
        (22 * MB, MB, MB, 50),
        (6000, 100, 600),
    )


def test_openwhisk_has_the_figures_of_its_configuration():
    figures = (
        (OPENWHISK.timeout_min, OPENWHISK.timeout_max, OPENWHISK.timeout_default),
        (OPENWHISK.memory_min, OPENWHISK.memory_max, OPENWHISK.memory_default),
        (OPENWHISK.logs_min, OPENWHISK.logs_max, OPENWHISK.concurrency_max),
        (OPENWHISK.code_bytes, OPENWHISK.parameter_bytes, OPENWHISK.payload_bytes),
        (OPENWHISK.invocations_per_minute, OPENWHISK.concurrent_invocations),
        (OPENWHISK.fires_per_minute, OPENWHISK.sequence_max, OPENWHISK.blocking_wait_ms),
    )
    assert figures == (
        (100, 300_000, 60_000),
        (128, 512, 256),
        (0, 10, 1),
        (48 * MB, MB, MB),
        (60, 30),
        (60, 50, 60_000),
    )


def test_the_profile_comes_from_the_flag_or_the_environment():
    assert limits_of("--profile", "adobe") == ADOBE
    assert limits_of(environ={"LOCALWHISK_PROFILE": "openwhisk"}) == OPENWHISK
    assert limits_of("--profile", "adobe", environ={"LOCALWHISK_PROFILE": "openwhisk"}) == ADOBE


def test_limit_flags_override_single_figures_of_the_profile():
    limits = limits_of("--profile", "openwhisk", "--memory-max", "1024")
    assert (limits.memory_max, limits.timeout_max) == (1024, 300_000)
    limits = limits_of("--profile", "adobe", environ={"LOCALWHISK_FIRES_PER_MINUTE": "0"})
    assert (limits.fires_per_minute, limits.invocations_per_minute) == (0, 6000)


def test_a_default_follows_a_bound_moved_past_it():
    limits = limits_of("--profile", "adobe", "--timeout-max", "30000", "--memory-min", "512")
    assert (limits.timeout_default, limits.memory_default) == (30_000, 512)


@pytest.mark.parametrize(
    ("argv", "environ"),
    [(["--profile", "aws"], {}), ([], {"LOCALWHISK_PROFILE": "aws"})],
)
def test_an_unknown_profile_is_exit_2_naming_the_valid_ones(capsys, monkeypatch, argv, environ):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main([*argv, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "localwhisk: error: --profile (or LOCALWHISK_PROFILE): no profile named 'aws'; "
        "choose one of default, adobe, openwhisk"
    )


def test_the_start_up_line_says_what_is_in_force():
    line = describe(ADOBE)
    assert line.startswith(
        "timeout 100-10800000 ms (default 60000), blocking calls cut at 60000 ms"
    )
    assert "memory 128-4096 MB (default 256)" in line and "code 22 MB" in line
    assert line.endswith("6000 invocations/min, 100 concurrent, 600 fires/min per namespace")
    assert "no invocations/min limit" in describe(Limits()) and "parameters unchecked" in describe(
        Limits()
    )


class Server:
    """The in-process app with a profile's limits."""

    def __init__(self, tmp_path, limits: Limits) -> None:
        self.app = make_app(make_backend(tmp_path, limits=limits))

    def __call__(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = asyncio.run(call(self.app, method, path, body, **kw))
        return response.status, json.loads(response.body) if response.body else None


def code(size: int) -> dict[str, Any]:
    return {"kind": "python:3", "code": "def main(a): return a\n#" + "x" * size}


def test_adobe_refuses_what_adobe_refuses(tmp_path):
    adobe = Server(tmp_path, ADOBE)
    status, body = adobe("PUT", f"{NS}/actions/big", {"exec": code(1), "limits": {"memory": 8192}})
    assert (status, body["error"]) == (
        400,
        "The request content was malformed:\nmemory size 8192 MB exceeds allowed threshold of 4096 MB",
    )
    too_big = code(23 * MB)
    status, body = adobe("PUT", f"{NS}/actions/big", {"exec": too_big})
    assert status == 413
    size = len(too_big["code"])
    assert body["error"] == f"exec larger than allowed: {size} > {22 * MB} bytes."
    big = [{"key": "blob", "value": "x" * MB}]
    status, body = adobe("PUT", f"{NS}/actions/big", {"exec": code(1), "parameters": big})
    assert (status, body["error"]) == (
        413,
        f"parameters larger than allowed: {MB + 6} > {MB} bytes.",
    )
    status, body = adobe("PUT", f"{NS}/triggers/t", {"annotations": big})
    assert (status, body["error"]) == (
        413,
        f"annotations larger than allowed: {MB + 6} > {MB} bytes.",
    )


def test_adobe_takes_what_adobe_takes(tmp_path):
    adobe = Server(tmp_path, ADOBE)
    status, body = adobe(
        "PUT",
        f"{NS}/actions/w",
        {"exec": code(21 * MB), "limits": {"memory": 4096, "timeout": 10_800_000}},
    )
    assert status == 200
    assert body["limits"] == {"timeout": 10_800_000, "memory": 4096, "logs": 10, "concurrency": 200}
    status, info = adobe("GET", "/", auth=None)
    assert info["limits"]["max_action_memory"] == 4096 * MB
    assert (info["limits"]["actions_per_minute"], info["limits"]["concurrent_actions"]) == (
        6000,
        100,
    )


def test_openwhisk_refuses_a_ten_minute_timeout(tmp_path):
    openwhisk = Server(tmp_path, OPENWHISK)
    status, body = openwhisk(
        "PUT", f"{NS}/actions/w", {"exec": code(1), "limits": {"timeout": 600_000}}
    )
    assert (status, body["error"]) == (
        400,
        "The request content was malformed:\n"
        "duration 600000 milliseconds exceeds allowed threshold of 300000 milliseconds",
    )
    status, body = openwhisk(
        "PUT", f"{NS}/actions/w", {"exec": code(1), "limits": {"concurrency": 2}}
    )
    assert status == 400 and "concurrency 2 exceeds allowed threshold of 1" in body["error"]
