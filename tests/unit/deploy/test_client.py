"""OpenWhiskClient against `responses`: paths, pagination, retries, error mapping.

The client runs over ``requests_session`` here, the transport `responses` intercepts;
the default standard-library transport is checked against a real server in
``test_transport.py``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import pytest
import requests
import responses
from responses import matchers

from deploy.errors import AuthError, ConflictError, ConnectError, OpenWhiskError, ThrottledError
from deploy.http.client import OpenWhiskClient, with_code
from deploy.http.sessions import requests_session
from deploy.models import Artifact
from deploy.settings import Settings

KEY = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:" + "k" * 64
HOST = "https://ow.example"
NS = f"{HOST}/api/v1/namespaces/guest"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(apihost: str = HOST, retries: int = 3) -> tuple[OpenWhiskClient, Sleeps]:
    sleeps = Sleeps()
    client = OpenWhiskClient(
        Settings(apihost, KEY, "guest", "flags"),
        retries=retries,
        backoff=0.5,
        sleep=sleeps,
        jitter=lambda: 0.5,
        session=requests_session(apihost),
    )
    return client, sleeps


def test_paths_encode_each_segment_and_keep_the_package_slash(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{NS}/actions/my%20pkg/a%26b", json={"name": "a&b"})
    client, _ = make()
    assert client.get("actions", "my pkg/a&b") == {"name": "a&b"}


def test_basic_auth_is_sent_and_never_in_the_url(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{NS}/triggers/t", json={})
    client, _ = make()
    client.get("triggers", "t")
    request = rsps.calls[0].request
    assert request.headers["Authorization"].startswith("Basic ")
    assert KEY.split(":")[1] not in request.url


def test_get_returns_none_on_404(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{NS}/actions/missing",
        status=404,
        json={"error": "The requested resource does not exist.", "code": "x"},
    )
    client, _ = make()
    assert client.get("actions", "missing") is None


def test_list_pages_with_limit_200_until_a_short_page(rsps: responses.RequestsMock) -> None:
    first = [{"name": f"a{i}"} for i in range(200)]
    rsps.get(
        f"{NS}/actions",
        json=first,
        match=[matchers.query_param_matcher({"limit": "200", "skip": "0"})],
    )
    rsps.get(
        f"{NS}/actions",
        json=[{"name": "last"}],
        match=[matchers.query_param_matcher({"limit": "200", "skip": "200"})],
    )
    client, _ = make()
    items = client.list("actions")
    assert len(items) == 201 and items[-1]["name"] == "last"
    assert client.request_count == 2


def test_put_sends_overwrite_true_and_the_body(rsps: responses.RequestsMock) -> None:
    body = {"exec": {"kind": "python:3.11", "binary": True}, "limits": {"timeout": 120000}}
    artifact = Artifact(b"PK\x03\x04zip", "sha", True)
    rsps.put(
        f"{NS}/actions/w",
        json={"name": "w"},
        match=[
            matchers.query_param_matcher({"overwrite": "true"}),
            matchers.json_params_matcher(with_code(body, artifact)),
        ],
    )
    client, _ = make()
    client.put("actions", "w", body, artifact=artifact)
    assert "code" not in body["exec"], "the caller's body must not be modified"
    assert with_code(body, artifact)["exec"]["code"] == "UEsDBHppcA=="


def test_delete_returns_false_when_already_gone(rsps: responses.RequestsMock) -> None:
    rsps.delete(f"{NS}/rules/r", json={})
    rsps.delete(
        f"{NS}/rules/gone", status=404, json={"error": "The requested resource does not exist."}
    )
    client, _ = make()
    assert client.delete("rules", "r") is True
    assert client.delete("rules", "gone") is False


def test_429_then_200_waits_retry_after_seconds(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{NS}/actions/a",
        status=429,
        headers={"Retry-After": "7"},
        json={"error": "Too many requests"},
    )
    rsps.get(f"{NS}/actions/a", json={"name": "a"})
    client, sleeps = make()
    assert client.get("actions", "a") == {"name": "a"}
    assert sleeps == [7.0]
    assert len(rsps.calls) == 2


def test_retry_after_as_http_date(rsps: responses.RequestsMock) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    rsps.get(f"{NS}/actions/a", status=429, headers={"Retry-After": when}, json={"error": "slow"})
    rsps.get(f"{NS}/actions/a", json={})
    client, sleeps = make()
    client.get("actions", "a")
    assert 25 <= sleeps[0] <= 31


def test_503_then_200_backs_off_exponentially(rsps: responses.RequestsMock) -> None:
    rsps.put(f"{NS}/triggers/t", status=503, body="unavailable")
    rsps.put(f"{NS}/triggers/t", status=502, body="bad gateway")
    rsps.put(f"{NS}/triggers/t", json={"name": "t"})
    client, sleeps = make()
    client.put("triggers", "t", {})
    assert sleeps == [0.375, 0.75]  # equal jitter at 0.5: base/2 + 0.5*base/2
    assert client.request_count == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, OpenWhiskError), (409, ConflictError), (401, AuthError), (403, AuthError)],
)
def test_other_4xx_is_never_retried(rsps: responses.RequestsMock, status: int, error: type) -> None:
    rsps.put(f"{NS}/rules/r", status=status, json={"error": "nope", "code": "tx42"})
    client, sleeps = make()
    with pytest.raises(error) as err:
        client.put("rules", "r", {})
    assert len(rsps.calls) == 1 and sleeps == []
    message = str(err.value)
    assert "PUT" in message and f"HTTP {status}" in message and "nope" in message
    assert f"{NS}/rules/r" in message and err.value.code == "tx42"
    assert KEY.split(":")[1] not in message


def test_throttled_after_every_retry_raises(rsps: responses.RequestsMock) -> None:
    for _ in range(3):
        rsps.get(
            f"{NS}/actions/a", status=429, json={"error": "Too many requests in the last minute"}
        )
    client, sleeps = make(retries=2)
    with pytest.raises(ThrottledError):
        client.get("actions", "a")
    assert len(rsps.calls) == 3 and len(sleeps) == 2


def test_connection_error_on_loopback_hints_make_up(rsps: responses.RequestsMock) -> None:
    url = "http://127.0.0.1:3233/api/v1/namespaces/guest/actions/a"
    for _ in range(2):
        rsps.get(url, body=requests.ConnectionError("refused"))
    client, sleeps = make("http://127.0.0.1:3233", retries=1)
    with pytest.raises(ConnectError) as err:
        client.get("actions", "a")
    assert "make up" in str(err.value) and len(sleeps) == 1


def refused_by_urllib3(url: str) -> requests.ConnectionError:
    """What requests raises for a refused connection: urllib3's wrapping of the socket error."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    new_connection = NewConnectionError(None, "Failed to establish a new connection")
    new_connection.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return requests.ConnectionError(MaxRetryError(None, url, new_connection))


def test_a_refused_connection_to_a_remote_host_is_retried(rsps: responses.RequestsMock) -> None:
    # a remote refusal can be a restart behind a load balancer: worth the backoff
    for _ in range(3):
        rsps.get(f"{HOST}/", body=refused_by_urllib3(f"{HOST}/"))
    client, sleeps = make(retries=2)
    with pytest.raises(ConnectError) as err:
        client.server_info()
    assert len(sleeps) == 2 and "cannot reach https://ow.example" in str(err.value)


def test_a_refused_loopback_connection_through_requests_is_not_retried(
    rsps: responses.RequestsMock,
) -> None:
    url = "http://127.0.0.1:3299/"
    rsps.get(url, body=refused_by_urllib3(url))
    client, sleeps = make("http://127.0.0.1:3299", retries=4)
    with pytest.raises(ConnectError) as err:
        client.server_info()
    assert sleeps == [] and "nothing listens on 127.0.0.1:3299" in str(err.value)


def test_connection_error_on_remote_hints_apihost(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{HOST}/", body=requests.ConnectionError("dns"))
    client, _ = make(retries=0)
    with pytest.raises(ConnectError) as err:
        client.server_info()
    assert "--apihost" in str(err.value)


def test_blocking_invoke_502_is_an_outcome_not_an_error(rsps: responses.RequestsMock) -> None:
    rsps.post(
        f"{NS}/actions/a",
        status=502,
        json={"error": "boom"},
        headers={"x-openwhisk-activation-id": "f" * 32},
        match=[
            matchers.query_param_matcher({"blocking": "true", "result": "true"}),
            matchers.json_params_matcher({"n": 1}),
        ],
    )
    client, sleeps = make()
    outcome = client.invoke("a", {"n": 1}, blocking=True, result=True)
    assert (outcome.status, outcome.activation_id, outcome.body) == (
        502,
        "f" * 32,
        {"error": "boom"},
    )
    assert sleeps == []


def test_fire_without_active_rule_returns_none(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{NS}/triggers/t", status=204)
    rsps.post(f"{NS}/triggers/t", status=202, json={"activationId": "a" * 32})
    client, _ = make()
    assert client.fire("t") is None
    assert client.fire("t", {"x": 1}) == "a" * 32


def test_activation_reads(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{NS}/activations/{'b' * 32}/logs", json={"logs": ["l1"]})
    rsps.get(f"{NS}/activations/{'b' * 32}/result", json={"result": {"ok": True}})
    client, _ = make()
    assert client.activation_logs("b" * 32) == {"logs": ["l1"]}
    assert client.activation_result("b" * 32) == {"result": {"ok": True}}
