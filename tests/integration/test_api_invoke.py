"""Invoking over the real server: blocking and not, results, errors, sequences, activations, web."""

from __future__ import annotations

import pytest
import requests
from lw_client import (
    ARRAY,
    CRASH,
    ECHO,
    FAILS,
    NS,
    SLEEPY,
    Client,
    code,
    finished,
    unique,
    wait_for,
)

pytestmark = pytest.mark.integration


# -- invoke ------------------------------------------------------------------------


def test_blocking_invoke_returns_the_activation_and_result(api: Client) -> None:
    name = unique()
    api.put(f"{NS}/actions/{name}", code(ECHO, parameters=[{"key": "base", "value": 1}]))
    full = api.post(f"{NS}/actions/{name}", {"n": 2}, params={"blocking": "true"})
    assert full.status_code == 200
    act = full.json()
    assert full.headers["x-openwhisk-activation-id"] == act["activationId"]
    assert act["response"] == {
        "status": "success",
        "success": True,
        "result": {"base": 1, "n": 2},
        "size": act["response"]["size"],
    }
    assert "statusCode" not in act["response"]
    assert any("echo" in line for line in act["logs"])
    assert {"key": "path", "value": f"guest/{name}"} in act["annotations"]
    result = api.post(
        f"{NS}/actions/{name}", {"n": 3}, params={"blocking": "true", "result": "true"}
    )
    assert result.status_code == 200 and result.json() == {"base": 1, "n": 3}


def test_application_and_developer_errors_are_502(api: Client) -> None:
    failing, crashing = unique(), unique()
    api.put(f"{NS}/actions/{failing}", code(FAILS))
    api.put(f"{NS}/actions/{crashing}", code(CRASH))
    app_error = api.post(f"{NS}/actions/{failing}", params={"blocking": "true"})
    assert app_error.status_code == 502
    assert app_error.json()["response"]["status"] == "application error"
    just_result = api.post(f"{NS}/actions/{failing}", params={"blocking": "true", "result": "true"})
    assert just_result.status_code == 502 and just_result.json() == {"error": "nope"}
    dev_error = api.post(f"{NS}/actions/{crashing}", params={"blocking": "true"})
    assert dev_error.status_code == 502
    assert dev_error.json()["response"]["status"] == "action developer error"


def test_array_results_come_back_as_the_array(api: Client) -> None:
    name = unique()
    api.put(f"{NS}/actions/{name}", code(ARRAY))
    assert api.post(f"{NS}/actions/{name}", params={"blocking": "true"}).json() == [1, 2, 3]


def test_non_blocking_invoke_is_202_and_the_activation_appears(api: Client) -> None:
    name = unique()
    api.put(f"{NS}/actions/{name}", code(ECHO))
    started = api.post(f"{NS}/actions/{name}", {"k": "v"})
    assert started.status_code == 202
    activation_id = started.json()["activationId"]
    assert len(activation_id) == 32
    act = wait_for(lambda: finished(api, activation_id), what="the activation")
    assert act["response"]["result"] == {"k": "v"}
    result = api.get(f"{NS}/activations/{activation_id}/result").json()
    assert result["result"] == {"k": "v"} and result["success"] is True
    logs = api.get(f"{NS}/activations/{activation_id}/logs").json()
    assert logs == {"logs": act["logs"]}


def test_blocking_wait_expires_with_202_while_the_action_keeps_running(api: Client) -> None:
    name = unique()
    api.put(f"{NS}/actions/{name}", code(SLEEPY))
    response = api.post(
        f"{NS}/actions/{name}", {"s": 1.5}, params={"blocking": "true", "timeout": "200"}
    )
    assert response.status_code == 202
    activation_id = response.json()["activationId"]
    act = wait_for(lambda: finished(api, activation_id), what="the slow activation")
    assert act["response"]["result"] == {"slept": 1.5}


def test_bad_invoke_requests(api: Client) -> None:
    name = unique()
    api.put(
        f"{NS}/actions/{name}",
        code(
            ECHO,
            annotations=[{"key": "final", "value": True}],
            parameters=[{"key": "fixed", "value": 1}],
        ),
    )
    timeout = api.post(f"{NS}/actions/{name}", params={"blocking": "true", "timeout": "60001"})
    assert timeout.status_code == 400
    assert "Timeout must be number of milliseconds up to 60000." in timeout.json()["error"]
    final = api.post(f"{NS}/actions/{name}", {"fixed": 2}, params={"blocking": "true"})
    assert final.status_code == 400
    assert (
        final.json()["error"]
        == "Request defines parameters that are not allowed (e.g., reserved properties)."
    )
    assert api.post(f"{NS}/actions/{unique()}").status_code == 404
    too_big = api.request(
        "POST",
        f"{NS}/actions/{name}",
        data=b'{"a":"' + b"x" * 1_100_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"].startswith("Request larger than allowed: ")


def test_sequence_runs_components_in_order(api: Client) -> None:
    first, second, seq = unique(), unique(), unique()
    api.put(f"{NS}/actions/{first}", code("def main(a):\n    return {'n': a['n'] + 1}\n"))
    api.put(f"{NS}/actions/{second}", code("def main(a):\n    return {'n': a['n'] * 10}\n"))
    created = api.put(
        f"{NS}/actions/{seq}",
        {"exec": {"kind": "sequence", "components": [f"/_/{first}", f"/guest/{second}"]}},
    )
    assert created.status_code == 200
    assert created.json()["exec"]["components"] == [f"/guest/{first}", f"/guest/{second}"]
    act = api.post(f"{NS}/actions/{seq}", {"n": 1}, params={"blocking": "true"}).json()
    assert act["response"]["result"] == {"n": 20}
    assert len(act["logs"]) == 2
    component = finished(api, act["logs"][0])
    assert component is not None and component["cause"] == act["activationId"]


# -- activations list --------------------------------------------------------------


def test_activation_list_filters_by_name_and_rejects_bad_parameters(api: Client) -> None:
    name = unique()
    api.put(f"{NS}/actions/{name}", code(ECHO))
    ids = [
        api.post(f"{NS}/actions/{name}", params={"blocking": "true"}).json()["activationId"]
        for _ in range(2)
    ]
    listed = api.get(f"{NS}/activations", params={"name": name}).json()
    assert [a["activationId"] for a in listed] == list(reversed(ids))
    assert all(a["statusCode"] == 0 and "response" not in a for a in listed)
    docs = api.get(f"{NS}/activations", params={"name": name, "docs": "true"}).json()
    assert all("response" in a for a in docs)
    assert api.get(f"{NS}/activations", params={"name": name, "count": "true"}).json() == {
        "activations": 2
    }
    assert api.get(f"{NS}/activations", params={"count": "true", "docs": "true"}).status_code == 400
    assert api.get(f"{NS}/activations", params={"name": "a/b/c"}).status_code == 400
    assert api.get(f"{NS}/activations/abc").status_code == 400
    assert api.get(f"{NS}/activations/{'0' * 32}").status_code == 404


# -- web actions -------------------------------------------------------------------


def test_web_action_json_and_http(api: Client, localwhisk_url: str) -> None:
    name, hidden = unique(), unique()
    http_code = "def main(a):\n    return {'statusCode': 201, 'body': 'made ' + a.get('x', '')}\n"
    api.put(
        f"{NS}/actions/{name}", code(http_code, annotations=[{"key": "web-export", "value": True}])
    )
    api.put(f"{NS}/actions/{hidden}", code(ECHO))
    web = f"{localwhisk_url}/api/v1/web/guest/default/{name}"
    as_http = requests.get(web, params={"x": "it"}, timeout=30)
    assert as_http.status_code == 201 and as_http.text == "made it"
    assert as_http.headers["x-openwhisk-activation-id"]
    as_json = requests.get(f"{web}.json", timeout=30)
    assert as_json.json() == {"statusCode": 201, "body": "made "}
    assert (
        requests.get(
            f"{localwhisk_url}/api/v1/web/guest/default/{hidden}.json", timeout=30
        ).status_code
        == 404
    )


def test_a_stored_only_kind_is_kept_but_invoking_it_says_this_server_cannot_run_it(
    api: Client,
) -> None:
    # Clients create actions of any kind of OpenWhisk's manifest; refusing the PUT would
    # break a manifest that holds one.
    name = unique()
    body = {"exec": {"kind": "go:1.20", "code": "package main"}}
    created = api.put(f"{NS}/actions/{name}", body)
    assert created.status_code == 200, created.text
    ran = api.post(f"{NS}/actions/{name}", {}, params={"blocking": "true"})
    assert ran.status_code == 502
    assert ran.json()["response"]["status"] == "action developer error"
    assert "cannot run on this local server" in ran.json()["response"]["result"]["error"]
    kinds = [k["kind"] for family in api.get("/").json()["runtimes"].values() for k in family]
    assert "go:1.20" not in kinds  # GET / lists what runs here, not what is stored


def test_an_unknown_kind_is_refused_naming_the_valid_ones(api: Client) -> None:
    refused = api.put(f"{NS}/actions/{unique()}", {"exec": {"kind": "cobol:85", "code": "x"}})
    assert refused.status_code == 400
    assert (
        "The specified runtime 'cobol:85' is not supported by this platform."
        in refused.json()["error"]
    )
