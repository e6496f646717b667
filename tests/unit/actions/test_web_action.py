"""The web action starts the worker non-blocking through the REST API and maps every failure;
its answer carries the job's status URL, signed for this namespace and worker.

The API is ``fakeapi`` on a loopback port: each test scripts the answers it expects and
checks the exact request that arrived.
"""

from __future__ import annotations

import base64

import pytest
from fakeapi import closed_port_url

KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret-half"
AUTH = "Basic " + base64.b64encode(KEY.encode()).decode()
PATH = "/api/v1/namespaces/guest/actions/my-worker"
NOW_S = 1764300000.123


def env_for(host):
    return {
        "__OW_API_HOST": host,
        "__OW_API_KEY": KEY,
        "__OW_NAMESPACE": "guest",
        "__OW_ACTION_NAME": "/guest/test",
    }


@pytest.fixture
def start(web_action, api, connections):
    """``start(args)``: the web action's answer, against the fake API."""

    def run(args, env=None, **kwargs):
        env = env_for(api.url) if env is None else env
        return web_action.start_worker(args, env, connections=connections, **kwargs)

    return run


def test_starts_the_bound_worker_non_blocking_and_answers_its_id_and_status_url(
    start, api, capability
):
    api.answer("POST", PATH, 202, {"activationId": "a" * 32})
    args = {
        "worker_action": "my-worker",
        "status_action": "status",
        "duration_ms": "2000",
        "__ow_method": "get",
        "__ow_headers": {"accept": "*/*", "host": "127.0.0.1:3233"},
        "__ow_path": "",
    }
    token = capability.issue(KEY, "guest", "my-worker", "a" * 32, 1764300000123)
    status_url = f"http://127.0.0.1:3233/api/v1/web/guest/default/status?id={token}"
    assert start(args, clock=lambda: NOW_S) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Location": status_url},
        "body": {"activationId": "a" * 32, "statusUrl": status_url},
    }
    [call] = api.calls
    assert (call.method, call.path, call.query) == ("POST", PATH, {"blocking": "false"})
    # Only the caller's own parameters go to the worker: no __ow_* fields, no settings.
    assert call.body == b'{"duration_ms":"2000"}'
    assert call.headers["content-type"] == "application/json"
    assert call.headers["content-length"] == str(len(call.body))
    assert call.headers["authorization"] == AUTH


def test_the_status_url_is_signed_for_the_worker_and_carries_no_key(start, api, capability):
    api.answer("POST", PATH, 202, {"activationId": "c" * 32})
    result = start({"__ow_headers": {"host": "example.com"}})
    url = result["body"]["statusUrl"]
    assert url.startswith("http://example.com/api/v1/web/guest/default/status?id=")
    token = url.split("?id=", 1)[1]
    activation_id, _start = capability.verify(token, KEY, "guest", "my-worker")
    assert activation_id == "c" * 32
    assert KEY.split(":")[1] not in str(result) and KEY.split(":")[0] not in str(result)


def test_invoked_without_a_request_the_url_uses_the_api_host(start, api):
    api.answer("POST", PATH, 202, {"activationId": "d" * 32})
    result = start({})
    assert result["body"]["statusUrl"].startswith(f"{api.url}/api/v1/web/guest/default/status?id=")
    assert api.calls[0].body == b"{}"


def test_worker_name_comes_from_the_bound_parameter_and_may_be_packaged(start, api):
    api.answer(
        "POST", "/api/v1/namespaces/guest/actions/jobs/long%20one", 202, {"activationId": "b" * 32}
    )
    result = start({"worker_action": "jobs/long one"})
    assert result["body"]["activationId"] == "b" * 32
    assert not api.unanswered()


def test_a_warm_action_starts_every_job_over_one_connection(start, api):
    api.answer("POST", PATH, 202, {"activationId": "e" * 32}, times=3)
    for _ in range(3):
        assert start({})["statusCode"] == 200
    assert [call.connection for call in api.calls] == [0, 0, 0]


@pytest.mark.parametrize(
    ("status", "payload", "expected_status", "fragment"),
    [
        (
            401,
            {"error": "The supplied authentication is invalid", "code": "x"},
            502,
            "not allowed to invoke 'my-worker'",
        ),
        (403, {"error": "not authorized", "code": "x"}, 502, "not allowed"),
        (
            404,
            {"error": "The requested resource does not exist.", "code": "x"},
            502,
            "does not exist in namespace 'guest'",
        ),
        (
            429,
            {
                "error": "Too many requests in the last minute (count: 61, allowed: 60).",
                "code": "x",
            },
            429,
            "throttling",
        ),
        (500, {"error": "There was an internal server error.", "code": "x"}, 502, "HTTP 500"),
        (202, {"no": "id"}, 502, "HTTP 202"),
    ],
)
def test_a_refused_start_is_a_clear_http_error(
    start, api, status, payload, expected_status, fragment
):
    api.answer("POST", PATH, status, payload)
    result = start({"worker_action": "my-worker"})
    assert result["statusCode"] == expected_status
    assert fragment in result["body"]["error"]
    assert KEY.split(":")[1] not in str(result)


def test_an_answer_that_is_not_json_says_the_http_status(start, api):
    api.answer("POST", PATH, 502, body=b"<html>Bad Gateway</html>")
    result = start({})
    assert result["statusCode"] == 502
    assert result["body"]["error"] == "starting 'my-worker' failed with HTTP 502: Bad Gateway"


def test_an_unreachable_api_host_is_a_502_not_a_traceback(start):
    host = closed_port_url()
    result = start({}, env=env_for(host))
    assert result["statusCode"] == 502
    assert result["body"]["error"] == (
        f"cannot reach the OpenWhisk API at {host}: ConnectionRefusedError"
    )


def test_a_dropped_connection_is_a_502_and_the_job_is_not_started_twice(start, api):
    api.drop("POST", PATH)
    result = start({})
    assert result["statusCode"] == 502
    assert "cannot reach the OpenWhisk API" in result["body"]["error"]
    assert len(api.calls) == 1  # a POST is never sent again: the worker could run twice


def test_a_slow_api_is_a_504_within_the_bound(start, api):
    api.hang("POST", PATH)
    result = start({})
    assert result["statusCode"] == 504
    assert result["body"]["error"] == (
        f"the OpenWhisk API at {api.url} did not answer within 0.5 s"
    )


def test_without_an_api_key_it_names_the_missing_annotation(start, api):
    env = {k: v for k, v in env_for(api.url).items() if k != "__OW_API_KEY"}
    result = start({}, env=env)
    assert result["statusCode"] == 500
    assert "provide-api-key: true" in result["body"]["error"]
    assert not api.calls


def test_the_client_timeout_is_bounded_below_the_synchronous_cut(web_action):
    assert web_action.CONNECT_TIMEOUT_S + web_action.READ_TIMEOUT_S < 60
