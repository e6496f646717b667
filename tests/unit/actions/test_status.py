"""The status web action answers a status URL in HTTP terms, from the worker's activation record.

Every case the bundle promises: running (202 + Retry-After), done (200 + the worker's
result), failed (502), timed out (504, also with no record long after the limit),
malformed (400), and 404 for every id it did not issue, with no word about it. The REST
API is ``fakeapi`` on a loopback port: each test scripts exactly the calls it expects.
"""

from __future__ import annotations

import base64

import pytest
from fakeapi import closed_port_url

KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret-half"
ID = "0123456789abcdef0123456789abcdef"
START_MS = 1764300000000
RECORD = f"/api/v1/namespaces/guest/activations/{ID}"
WORKER = "/api/v1/namespaces/guest/actions/my-worker"
AUTH = "Basic " + base64.b64encode(KEY.encode()).decode()
RESULT = {"statusCode": 200, "body": {"payload": "Hello from the long running job!"}}
NOT_FOUND = {"status": "not found", "error": "no job is known by this id"}


def env_for(host):
    return {"__OW_API_HOST": host, "__OW_API_KEY": KEY, "__OW_NAMESPACE": "guest"}


@pytest.fixture
def ask(jobstatus, capability, api, connections):
    """``ask(seconds_after_start, **args)``: the status action's answer for the issued token."""

    def run(after_s=1.0, worker="my-worker", token=None, host=None, **args):
        if token is None:
            token = capability.issue(KEY, "guest", "my-worker", ID, START_MS)
        args = {"worker_action": worker, "id": token, **args}
        env = env_for(host or api.url)
        clock = lambda: START_MS / 1000 + after_s  # noqa: E731
        return jobstatus.answer(args, env, connections=connections, clock=clock)

    return run


def record(status="success", result=RESULT, path="guest/my-worker", timeout=False):
    return {
        "namespace": "guest",
        "name": path.rsplit("/", 1)[-1],
        "activationId": ID,
        "response": {"status": status, "success": status == "success", "result": result},
        "annotations": [{"key": "path", "value": path}, {"key": "timeout", "value": timeout}],
    }


def body_of(answer):
    """What a caller of the plain URL reads, after checking the ``.json`` view agrees."""
    assert answer["status"] == answer["body"].get("status", "success")
    assert answer["headers"]["Cache-Control"] == "no-store"
    return answer["body"]


def test_a_job_without_a_record_yet_is_running_and_says_when_to_ask_again(ask, api):
    api.answer("GET", RECORD, 404, {"error": "The requested resource does not exist."})
    answer = ask(after_s=1.5)
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (202, "1")
    assert body_of(answer) == {"status": "running"}
    [call] = api.calls  # within the grace: the worker's limit is not even read
    assert (call.method, call.path, call.query, call.body) == ("GET", RECORD, {}, b"")
    assert call.headers["authorization"] == AUTH


def test_a_long_job_is_running_until_its_own_limit_and_polled_less_often(ask, api):
    api.answer("GET", RECORD, 404, {})
    api.answer("GET", WORKER, 200, {"name": "my-worker", "limits": {"timeout": 3 * 3600 * 1000}})
    answer = ask(after_s=2 * 3600)
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (202, "60")
    assert api.calls[1].query == {"code": "false"}  # the limit, without the code
    assert not api.unanswered()


def test_a_finished_job_answers_200_with_the_workers_result(ask, api):
    api.answer("GET", RECORD, 200, record())
    answer = ask()
    assert answer["statusCode"] == 200
    assert answer["body"] == RESULT  # the worker's result verbatim, as `activation result` shows
    assert answer["status"] == "success"  # the .json view: the result object as it is


@pytest.mark.parametrize(
    ("status", "result", "error"),
    [
        ("application error", {"error": "bad input"}, "bad input"),
        ("application error", {"error": {"code": 7}}, {"code": 7}),
        ("action developer error", {"error": "The action did not return a dictionary."}, None),
        ("whisk internal error", {"error": "There was an internal server error."}, None),
    ],
)
def test_a_failed_job_is_a_502_with_the_activations_status_and_message(
    ask, api, status, result, error
):
    api.answer("GET", RECORD, 200, record(status, result))
    answer = ask()
    assert answer["statusCode"] == 502
    assert body_of(answer) == {
        "status": status,
        "activationId": ID,
        "error": result["error"] if error is None else error,
    }


def test_a_job_the_platform_timed_out_is_a_504(ask, api):
    message = "The action exceeded its time limits of 120000 milliseconds."
    api.answer(
        "GET", RECORD, 200, record("action developer error", {"error": message}, timeout=True)
    )
    answer = ask(after_s=121)
    assert answer["statusCode"] == 504
    assert body_of(answer) == {"status": "timeout", "activationId": ID, "error": message}


def test_no_record_long_after_the_workers_limit_is_a_504(ask, api):
    api.answer("GET", RECORD, 404, {})
    api.answer("GET", WORKER, 200, {"limits": {"timeout": 120000}})
    answer = ask(after_s=120 + 61)
    assert answer["statusCode"] == 504
    assert body_of(answer) == {
        "status": "timeout",
        "error": "the job left no record 3 min after it started; the worker's time limit is 2 min",
    }


def test_an_unreadable_limit_waits_as_long_as_any_platform_allows(ask, api):
    api.answer("GET", RECORD, 404, {}, times=2)
    api.answer("GET", WORKER, 404, {}, times=2)  # the worker was deleted meanwhile
    assert ask(after_s=3 * 3600)["statusCode"] == 202
    assert ask(after_s=3 * 3600 + 61)["statusCode"] == 504


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        ({"id": None}, "no id"),
        ({"id": "x y"}, "'x y'"),
        ({"id": 7}, "7"),
        ({"id": "a" * 300}, "..."),
    ],
)
def test_a_request_no_status_url_makes_is_a_400(jobstatus, api, connections, args, shown):
    answer = jobstatus.answer(args, env_for(api.url), connections=connections)
    assert answer["statusCode"] == 400
    body = body_of(answer)
    assert body["status"] == "invalid" and shown in body["error"]
    assert not api.calls


@pytest.mark.parametrize(
    "token",
    [
        ID,  # a bare activation id, as `activation list` shows them
        f"{ID}.{START_MS}.AAAAAAAAAAAAAAAAAAAAAA",
        f"{'f' * 32}.{START_MS}.oCFb_S5KFbD7nEadaqA-vg",
    ],
)
def test_an_unsigned_or_forged_id_is_a_404_without_asking_the_api(ask, api, token):
    answer = ask(token=token)
    assert (answer["statusCode"], body_of(answer)) == (404, NOT_FOUND)
    assert not api.calls


def test_a_url_issued_for_another_bundles_worker_is_a_404(ask, api, capability):
    token = capability.issue(KEY, "guest", "my-worker", ID, START_MS)
    answer = ask(token=token, worker="async-nodejs/my-worker")
    assert (answer["statusCode"], body_of(answer)) == (404, NOT_FOUND)
    assert not api.calls


def test_an_activation_of_another_action_is_a_404_that_says_nothing_of_it(ask, api):
    api.answer("GET", RECORD, 200, record(path="guest/test", result={"secret": "theirs"}))
    answer = ask()
    assert (answer["statusCode"], body_of(answer)) == (404, NOT_FOUND)


def test_a_packaged_worker_is_matched_by_its_full_path(ask, api, capability):
    token = capability.issue(KEY, "guest", "async-nodejs/my-worker", ID, START_MS)
    api.answer("GET", RECORD, 200, record(path="guest/async-nodejs/my-worker"))
    assert ask(token=token, worker="async-nodejs/my-worker")["statusCode"] == 200
    api.answer("GET", RECORD, 200, record(path="guest/my-worker"))
    assert ask(token=token, worker="async-nodejs/my-worker")["statusCode"] == 404


@pytest.mark.parametrize(
    ("failure", "retry"),
    [
        (
            {
                "status": 429,
                "json_body": {"error": "Too many requests"},
                "headers": {"Retry-After": "7"},
            },
            "7",
        ),
        (
            {
                "status": 429,
                "json_body": {"error": "Too many requests"},
                "headers": {"Retry-After": "soon"},
            },
            "1",
        ),
        ({"status": 500, "json_body": {"error": "There was an internal server error."}}, "1"),
        ({"status": 200, "body": b"not json"}, "1"),
        ({"status": 200, "json_body": ["not", "a", "record"]}, "1"),
    ],
)
def test_an_api_that_cannot_tell_is_a_503_to_retry(ask, api, failure, retry):
    api.answer("GET", RECORD, **failure)
    answer = ask()
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (503, retry)
    assert body_of(answer)["status"] == "unavailable"
    assert KEY.split(":")[1] not in str(answer)


def test_an_unreachable_api_is_a_503_to_retry(ask):
    host = closed_port_url()
    answer = ask(host=host)
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (503, "1")
    assert body_of(answer) == {
        "status": "unavailable",
        "error": f"cannot reach the OpenWhisk API at {host}: ConnectionRefusedError",
    }


def test_a_slow_api_is_a_503_within_the_bound(ask, api):
    api.hang("GET", RECORD)
    answer = ask()
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (503, "1")
    assert body_of(answer)["error"] == f"the OpenWhisk API at {api.url} did not answer within 0.5 s"


def test_polls_of_a_warm_action_share_one_connection(ask, api):
    api.answer("GET", RECORD, 404, {}, times=3)
    for _ in range(3):
        assert ask()["statusCode"] == 202
    assert [call.connection for call in api.calls] == [0, 0, 0]


def test_a_connection_the_api_dropped_is_opened_again_and_the_read_asked_once_more(ask, api):
    api.drop("GET", RECORD)
    api.answer("GET", RECORD, 200, record())
    assert ask()["statusCode"] == 503  # a fresh connection that fails is not retried
    assert ask()["statusCode"] == 200  # on a new connection
    # Reused, it is closed under the request: the GET goes once more, on a new one.
    api.drop("GET", RECORD)
    api.answer("GET", RECORD, 200, record())
    assert ask()["statusCode"] == 200
    assert [call.connection for call in api.calls] == [0, 1, 1, 2]


def test_an_api_that_refuses_the_key_names_the_annotation(ask, api):
    api.answer("GET", RECORD, 401, {"error": "The supplied authentication is invalid"})
    answer = ask()
    assert answer["statusCode"] == 500
    assert "provide-api-key: true" in body_of(answer)["error"]
    assert KEY.split(":")[1] not in str(answer)


def test_without_an_api_key_it_names_the_missing_annotation(jobstatus):
    answer = jobstatus.answer({"id": ID}, {"__OW_API_HOST": "http://ow.test:3233"})
    assert answer["statusCode"] == 500
    assert "provide-api-key: true" in answer["body"]["error"]


def test_the_entry_point_main_status_reads_the_platform_environment(web_action, monkeypatch):
    for name, value in env_for("http://ow.test:3233").items():  # set before exec.main
        monkeypatch.setenv(name, value)
    answer = web_action.status({"worker_action": "my-worker"})  # exec.main: "status"
    assert (answer["statusCode"], answer["body"]["status"]) == (400, "invalid")
