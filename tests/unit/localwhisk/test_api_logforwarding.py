"""Adobe I/O Runtime's log forwarding settings: the default, a put kept per namespace
without its secrets, refusals that name the field, and the REST API's gates."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fakes import call, make_app, make_backend

from localwhisk.storage.store import Store

LF = "/runtime/namespaces/guest/logForwarding"
SPLUNK = {"host": "splunk.example", "port": "8088", "index": "main", "hec_token": "s3cr3t-token"}


@pytest.fixture
def backend(tmp_path):
    return make_backend(tmp_path)


def request(backend, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    response = asyncio.run(call(make_app(backend), method, path, body, **kw))
    return response.status, json.loads(response.body) if response.body else None


def test_a_namespace_that_never_set_one_answers_adobe_io_runtime(backend):
    assert request(backend, "GET", LF) == (200, {"adobe_io_runtime": {}})
    assert request(backend, "GET", f"{LF}/errors") == (
        200,
        {"configured_forwarder": "adobe_io_runtime", "errors": []},
    )


def test_a_put_is_answered_and_kept_without_its_secret(backend, tmp_path):
    status, answer = request(backend, "PUT", LF, {"splunk_hec": SPLUNK})
    assert status == 200
    assert list(answer) == ["splunk_hec"]
    settings = dict(answer["splunk_hec"])
    assert settings.pop("updated_at").endswith("+00:00")
    assert settings == {"host": "splunk.example", "port": "8088", "index": "main"}
    assert request(backend, "GET", LF) == (200, answer)
    assert request(backend, "GET", f"{LF}/errors")[1]["configured_forwarder"] == "splunk_hec"
    backend.store.close()
    # Kept in the database, as the namespace's entities are: a restart still knows it.
    reopened = Store(tmp_path / "db.sqlite")
    try:
        kept = reopened.get_log_forwarding("guest")
        assert kept is not None and kept.destination == "splunk_hec"
        assert "s3cr3t-token" not in (tmp_path / "db.sqlite").read_bytes().decode("latin-1")
    finally:
        reopened.close()


def test_setting_the_default_again_is_answered_with_its_time(backend):
    request(backend, "PUT", LF, {"new_relic": {"base_uri": "https://nr", "license_key": "k"}})
    status, answer = request(
        backend, "PUT", "/runtime/namespaces/_/logForwarding", {"adobe_io_runtime": {}}
    )
    assert status == 200 and list(answer["adobe_io_runtime"]) == ["updated_at"]
    assert request(backend, "GET", LF)[1] == answer


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "expected exactly one log forwarding destination (one of adobe_io_runtime, "),
        (
            {"adobe_io_runtime": {}, "splunk_hec": SPLUNK},
            "got 2: adobe_io_runtime, splunk_hec",
        ),
        ({"syslog": {}}, "'syslog' is not a log forwarding destination; expected one of"),
        (
            {"splunk_hec": ["host"]},
            "splunk_hec: expected an object of settings (host, port, index, hec_token), got an array",
        ),
        (
            {"splunk_hec": {**SPLUNK, "tls": "yes"}},
            "splunk_hec: unknown setting(s) tls; expected host, port",
        ),
        (
            {"azure_log_analytics": {"customer_id": "c"}},
            "azure_log_analytics: missing setting(s) shared_key, log_type",
        ),
        (
            {"splunk_hec": {**SPLUNK, "port": 8088}},
            "splunk_hec.port: expected a non-empty string, got a number",
        ),
        (
            {"adobe_io_runtime": {"level": "debug"}},
            "adobe_io_runtime: unknown setting(s) level; expected none",
        ),
    ],
)
def test_a_bad_body_is_refused_naming_what_to_fix(backend, body, expected):
    status, answer = request(backend, "PUT", LF, body)
    assert status == 400
    assert answer["error"].startswith("The request content was malformed:\n")
    assert expected in answer["error"]
    assert request(backend, "GET", LF)[1] == {"adobe_io_runtime": {}}  # nothing was kept


def test_a_refusal_never_quotes_a_secret(backend):
    status, answer = request(
        backend, "PUT", LF, {"splunk_hec": {**SPLUNK, "hec_token": ["s3cr3t-token"]}}
    )
    assert status == 400 and "s3cr3t-token" not in answer["error"]
    assert "splunk_hec.hec_token: expected a non-empty string, got an array" in answer["error"]


def test_a_body_that_is_not_json_is_refused(backend):
    status, answer = request(
        backend, "PUT", LF, b"[1,", headers={"content-type": "application/json"}
    )
    assert status == 400 and answer["error"].startswith("The request content was malformed")
    status, answer = request(backend, "PUT", LF, ["splunk_hec"])
    assert (status, answer["error"]) == (400, "The request content was malformed:\nObject expected")


def test_it_takes_the_namespaces_key_and_no_other(backend):
    assert request(backend, "GET", LF, auth=None)[0] == 401
    assert request(backend, "GET", "/runtime/namespaces/someone-else/logForwarding")[0] == 403
    assert request(backend, "DELETE", LF)[0] == 405


def test_web_pages_of_other_origins_cannot_use_it(backend):
    status, answer = request(
        backend, "PUT", LF, {"adobe_io_runtime": {}}, headers={"origin": "http://evil.example"}
    )
    assert status == 403 and "--allow-origin http://evil.example" in answer["error"]
