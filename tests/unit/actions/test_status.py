"""The status web action answers a status URL in HTTP terms, from the worker's activation record.

Every case the bundle promises: running (202 + Retry-After), done (200 + the worker's
result), failed (502), timed out (504, also with no record long after the limit),
malformed (400), and 404 for every id it did not issue, with no word about it. The REST
API is ``responses``: each test registers exactly the calls it expects.
"""

from __future__ import annotations

import pytest
import requests
import responses
from responses import matchers

HOST = "http://ow.test:3233"
KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret-half"
ENV = {"__OW_API_HOST": HOST, "__OW_API_KEY": KEY, "__OW_NAMESPACE": "guest"}
ID = "0123456789abcdef0123456789abcdef"
START_MS = 1764300000000
RECORD_URL = f"{HOST}/api/v1/namespaces/guest/activations/{ID}"
WORKER_URL = f"{HOST}/api/v1/namespaces/guest/actions/my-worker"
AUTH = requests.auth._basic_auth_str(*KEY.split(":", 1))
RESULT = {"statusCode": 200, "body": {"payload": "Hello from the long running job!"}}
NOT_FOUND = {"status": "not found", "error": "no job is known by this id"}


@pytest.fixture
def ask(jobstatus, capability):
    """``ask(seconds_after_start, **args)``: the status action's answer for the issued token."""

    def run(after_s=1.0, worker="my-worker", token=None, **args):
        if token is None:
            token = capability.issue(KEY, "guest", "my-worker", ID, START_MS)
        args = {"worker_action": worker, "id": token, **args}
        return jobstatus.answer(args, ENV, clock=lambda: START_MS / 1000 + after_s)

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


@responses.activate(assert_all_requests_are_fired=True)
def test_a_job_without_a_record_yet_is_running_and_says_when_to_ask_again(ask):
    responses.get(RECORD_URL, status=404, json={"error": "The requested resource does not exist."})
    answer = ask(after_s=1.5)
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (202, "1")
    assert body_of(answer) == {"status": "running"}
    [call] = responses.calls  # within the grace: the worker's limit is not even read
    assert call.request.headers["Authorization"] == AUTH


@responses.activate(assert_all_requests_are_fired=True)
def test_a_long_job_is_running_until_its_own_limit_and_polled_less_often(ask):
    responses.get(RECORD_URL, status=404, json={})
    responses.get(
        WORKER_URL,
        json={"name": "my-worker", "limits": {"timeout": 3 * 3600 * 1000}},
        match=[matchers.query_param_matcher({"code": "false"})],
    )
    answer = ask(after_s=2 * 3600)
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (202, "60")


@responses.activate(assert_all_requests_are_fired=True)
def test_a_finished_job_answers_200_with_the_workers_result(ask):
    responses.get(RECORD_URL, json=record())
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
@responses.activate
def test_a_failed_job_is_a_502_with_the_activations_status_and_message(ask, status, result, error):
    responses.get(RECORD_URL, json=record(status, result))
    answer = ask()
    assert answer["statusCode"] == 502
    assert body_of(answer) == {
        "status": status,
        "activationId": ID,
        "error": result["error"] if error is None else error,
    }


@responses.activate
def test_a_job_the_platform_timed_out_is_a_504(ask):
    message = "The action exceeded its time limits of 120000 milliseconds."
    responses.get(
        RECORD_URL, json=record("action developer error", {"error": message}, timeout=True)
    )
    answer = ask(after_s=121)
    assert answer["statusCode"] == 504
    assert body_of(answer) == {"status": "timeout", "activationId": ID, "error": message}


@responses.activate(assert_all_requests_are_fired=True)
def test_no_record_long_after_the_workers_limit_is_a_504(ask):
    responses.get(RECORD_URL, status=404, json={})
    responses.get(WORKER_URL, json={"limits": {"timeout": 120000}})
    answer = ask(after_s=120 + 61)
    assert answer["statusCode"] == 504
    assert body_of(answer) == {
        "status": "timeout",
        "error": "the job left no record 3 min after it started; the worker's time limit is 2 min",
    }


@responses.activate
def test_an_unreadable_limit_waits_as_long_as_any_platform_allows(ask):
    responses.get(RECORD_URL, status=404, json={})
    responses.get(WORKER_URL, status=404, json={})  # the worker was deleted meanwhile
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
@responses.activate
def test_a_request_no_status_url_makes_is_a_400(jobstatus, args, shown):
    answer = jobstatus.answer(args, ENV)
    assert answer["statusCode"] == 400
    body = body_of(answer)
    assert body["status"] == "invalid" and shown in body["error"]
    assert not responses.calls


@pytest.mark.parametrize(
    "token",
    [
        ID,  # a bare activation id, as `activation list` shows them
        f"{ID}.{START_MS}.AAAAAAAAAAAAAAAAAAAAAA",
        f"{'f' * 32}.{START_MS}.oCFb_S5KFbD7nEadaqA-vg",
    ],
)
@responses.activate
def test_an_unsigned_or_forged_id_is_a_404_without_asking_the_api(ask, token):
    answer = ask(token=token)
    assert (answer["statusCode"], body_of(answer)) == (404, NOT_FOUND)
    assert not responses.calls


@responses.activate
def test_a_url_issued_for_another_bundles_worker_is_a_404(ask, capability):
    token = capability.issue(KEY, "guest", "my-worker", ID, START_MS)
    answer = ask(token=token, worker="async-nodejs/my-worker")
    assert (answer["statusCode"], body_of(answer)) == (404, NOT_FOUND)
    assert not responses.calls


@responses.activate
def test_an_activation_of_another_action_is_a_404_that_says_nothing_of_it(ask):
    responses.get(RECORD_URL, json=record(path="guest/test", result={"secret": "theirs"}))
    answer = ask()
    assert (answer["statusCode"], body_of(answer)) == (404, NOT_FOUND)


@responses.activate
def test_a_packaged_worker_is_matched_by_its_full_path(ask, capability):
    token = capability.issue(KEY, "guest", "async-nodejs/my-worker", ID, START_MS)
    responses.get(RECORD_URL, json=record(path="guest/async-nodejs/my-worker"))
    assert ask(token=token, worker="async-nodejs/my-worker")["statusCode"] == 200
    responses.replace(responses.GET, RECORD_URL, json=record(path="guest/my-worker"))
    assert ask(token=token, worker="async-nodejs/my-worker")["statusCode"] == 404


@pytest.mark.parametrize(
    ("failure", "retry"),
    [
        ({"body": requests.ConnectionError("refused")}, "1"),
        ({"body": requests.ReadTimeout("slow")}, "1"),
        (
            {
                "status": 429,
                "json": {"error": "Too many requests"},
                "headers": {"Retry-After": "7"},
            },
            "7",
        ),
        ({"status": 500, "json": {"error": "There was an internal server error."}}, "1"),
        ({"status": 200, "body": "not json"}, "1"),
    ],
)
@responses.activate
def test_an_api_that_cannot_tell_is_a_503_to_retry(ask, failure, retry):
    responses.get(RECORD_URL, **failure)
    answer = ask()
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (503, retry)
    assert body_of(answer)["status"] == "unavailable"
    assert KEY.split(":")[1] not in str(answer)


@responses.activate
def test_an_api_that_refuses_the_key_names_the_annotation(ask):
    responses.get(RECORD_URL, status=401, json={"error": "The supplied authentication is invalid"})
    answer = ask()
    assert answer["statusCode"] == 500
    assert "provide-api-key: true" in body_of(answer)["error"]
    assert KEY.split(":")[1] not in str(answer)


def test_without_an_api_key_it_names_the_missing_annotation(jobstatus):
    answer = jobstatus.answer({"id": ID}, {"__OW_API_HOST": HOST})
    assert answer["statusCode"] == 500
    assert "provide-api-key: true" in answer["body"]["error"]


def test_the_entry_point_main_status_reads_the_platform_environment(web_action, monkeypatch):
    for name, value in ENV.items():  # what the runtime sets before calling exec.main
        monkeypatch.setenv(name, value)
    answer = web_action.status({"worker_action": "my-worker"})  # exec.main: "status"
    assert (answer["statusCode"], answer["body"]["status"]) == (400, "invalid")
