"""The web action starts the worker non-blocking through the REST API and maps every failure;
its answer carries the job's status URL, signed for this namespace and worker."""

from __future__ import annotations

import pytest
import requests
import responses
from responses import matchers

HOST = "http://ow.test:3233"
KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret-half"
ENV = {
    "__OW_API_HOST": HOST,
    "__OW_API_KEY": KEY,
    "__OW_NAMESPACE": "guest",
    "__OW_ACTION_NAME": "/guest/test",
}
URL = f"{HOST}/api/v1/namespaces/guest/actions/my-worker"
NOW_S = 1764300000.123


@responses.activate(assert_all_requests_are_fired=True)
def test_starts_the_bound_worker_non_blocking_and_answers_its_id_and_status_url(
    web_action, capability
):
    responses.post(
        URL,
        json={"activationId": "a" * 32},
        status=202,
        match=[
            matchers.query_param_matcher({"blocking": "false"}),
            matchers.json_params_matcher({"duration_ms": "2000"}),
            matchers.header_matcher(
                {"Authorization": requests.auth._basic_auth_str(*KEY.split(":", 1))}
            ),
        ],
    )
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
    assert web_action.start_worker(args, ENV, clock=lambda: NOW_S) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Location": status_url},
        "body": {"activationId": "a" * 32, "statusUrl": status_url},
    }


@responses.activate
def test_the_status_url_is_signed_for_the_worker_and_carries_no_key(web_action, capability):
    responses.post(URL, json={"activationId": "c" * 32}, status=202)
    result = web_action.start_worker({"__ow_headers": {"host": "example.com"}}, ENV)
    url = result["body"]["statusUrl"]
    assert url.startswith("http://example.com/api/v1/web/guest/default/status?id=")
    token = url.split("?id=", 1)[1]
    activation_id, _start = capability.verify(token, KEY, "guest", "my-worker")
    assert activation_id == "c" * 32
    assert KEY.split(":")[1] not in str(result) and KEY.split(":")[0] not in str(result)


@responses.activate
def test_invoked_without_a_request_the_url_uses_the_api_host(web_action):
    responses.post(URL, json={"activationId": "d" * 32}, status=202)
    result = web_action.start_worker({}, ENV)
    assert result["body"]["statusUrl"].startswith(f"{HOST}/api/v1/web/guest/default/status?id=")


@responses.activate(assert_all_requests_are_fired=True)
def test_worker_name_comes_from_the_bound_parameter_and_may_be_packaged(web_action):
    responses.post(
        f"{HOST}/api/v1/namespaces/guest/actions/jobs/long%20one",
        json={"activationId": "b" * 32},
        status=202,
    )
    result = web_action.start_worker({"worker_action": "jobs/long one"}, ENV)
    assert result["body"]["activationId"] == "b" * 32


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
    ],
)
@responses.activate
def test_a_refused_start_is_a_clear_http_error(
    web_action, status, payload, expected_status, fragment
):
    responses.post(URL, json=payload, status=status)
    result = web_action.start_worker({"worker_action": "my-worker"}, ENV)
    assert result["statusCode"] == expected_status
    assert fragment in result["body"]["error"]
    assert KEY.split(":")[1] not in str(result)


@responses.activate
def test_an_unreachable_api_host_is_a_502_not_a_traceback(web_action):
    responses.post(URL, body=requests.ConnectionError("refused"))
    result = web_action.start_worker({}, ENV)
    assert result["statusCode"] == 502
    assert "cannot reach the OpenWhisk API" in result["body"]["error"]


@responses.activate
def test_a_slow_api_is_a_504_within_the_bound(web_action):
    responses.post(URL, body=requests.ReadTimeout("slow"))
    result = web_action.start_worker({}, ENV)
    assert result["statusCode"] == 504


def test_without_an_api_key_it_names_the_missing_annotation(web_action):
    env = {k: v for k, v in ENV.items() if k != "__OW_API_KEY"}
    result = web_action.start_worker({}, env)
    assert result["statusCode"] == 500
    assert "provide-api-key: true" in result["body"]["error"]


def test_the_client_timeout_is_bounded_below_the_synchronous_cut(web_action):
    assert web_action.CONNECT_TIMEOUT_S + web_action.READ_TIMEOUT_S < 60
