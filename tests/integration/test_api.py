"""The REST contract of a real localwhisk process: meta, auth, entity CRUD, packages.

Every test isolates itself with unique entity names; nothing is reset between tests.
"""

from __future__ import annotations

import pytest
import requests
from lw_client import ECHO, NS, Client, code, unique

pytestmark = pytest.mark.integration


# -- meta --------------------------------------------------------------------------


def test_root_lists_limits_and_python_runtimes(api: Client) -> None:
    info = api.get("/").json()
    assert info["api_paths"] == ["/api/v1"]
    assert {"min_action_duration", "max_action_memory", "default_max_action_logs"} <= set(
        info["limits"]
    )
    kinds = {r["kind"]: r for r in info["runtimes"]["python"]}
    assert kinds["python:3.10"]["default"] is True
    assert {"python:3.11", "python:3.12", "python:3"} <= set(kinds)


def test_every_api_response_has_a_request_id_and_options_is_200(api: Client) -> None:
    # CORS on the REST API differs on purpose (localwhisk grants only --allow-origin
    # pages): tests/reliability/test_lw_browser_bounds.py covers it.
    response = api.get("/api/v1")
    assert len(response.headers["X-Request-ID"]) == 32
    assert api.request("OPTIONS", f"{NS}/actions/anything").status_code == 200


def test_namespaces_lists_the_callers_namespace(api: Client) -> None:
    assert api.get("/api/v1/namespaces").json() == ["guest"]


# -- auth --------------------------------------------------------------------------


def test_missing_and_wrong_credentials_are_401_with_the_realm(
    localwhisk_url: str, guest_auth: tuple[str, str]
) -> None:
    missing = requests.get(f"{localwhisk_url}{NS}/actions", timeout=10)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Basic realm="OpenWhisk secure realm"'
    assert (
        missing.json()["error"]
        == "The resource requires authentication, which was not supplied with the request"
    )
    assert missing.json()["code"] == missing.headers["X-Request-ID"]
    wrong = requests.get(
        f"{localwhisk_url}{NS}/actions", auth=(guest_auth[0], "x" * 64), timeout=10
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "The supplied authentication is invalid"


def test_another_namespace_is_403(api: Client) -> None:
    response = api.get("/api/v1/namespaces/whisk.system/actions")
    assert response.status_code == 403
    assert (
        response.json()["error"]
        == "The supplied authentication is not authorized to access this resource."
    )


# -- actions CRUD ------------------------------------------------------------------


def test_action_create_adds_exec_and_provide_api_key_annotations(api: Client) -> None:
    name = unique()
    created = api.put(f"{NS}/actions/{name}", code(ECHO, annotations=[{"key": "a", "value": 1}]))
    assert created.status_code == 200
    body = created.json()
    assert body["namespace"] == "guest" and body["name"] == name and body["version"] == "0.0.1"
    assert body["exec"] == {"kind": "python:3.11", "code": ECHO, "binary": False}
    assert body["limits"] == {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}
    assert {"key": "provide-api-key", "value": False} in body["annotations"]
    assert {"key": "exec", "value": "python:3.11"} in body["annotations"]
    assert api.get(f"{NS}/actions/{name}").json() == body
    without_code = api.get(f"{NS}/actions/{name}", params={"code": "false"}).json()
    assert "code" not in without_code["exec"]


def test_action_update_bumps_version_merges_annotations_replaces_parameters(api: Client) -> None:
    name = unique()
    path = f"{NS}/actions/{name}"
    api.put(
        path,
        code(ECHO, parameters=[{"key": "p", "value": 1}], annotations=[{"key": "a", "value": 1}]),
    )
    conflict = api.put(path, code(ECHO))
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "resource already exists"
    updated = api.put(
        path,
        {
            "parameters": [{"key": "q", "value": 2}],
            "annotations": [{"key": "b", "value": 2}],
            "limits": {"timeout": 1000},
        },
        params={"overwrite": "true"},
    ).json()
    assert updated["version"] == "0.0.2"
    assert updated["parameters"] == [{"key": "q", "value": 2}]
    keys = [a["key"] for a in updated["annotations"]]
    assert {"a", "b", "provide-api-key", "exec"} <= set(keys)
    assert updated["limits"]["timeout"] == 1000 and updated["limits"]["memory"] == 256
    assert updated["exec"]["code"] == ECHO
    removed = api.put(path, {"delAnnotations": ["a"]}, params={"overwrite": "true"}).json()
    assert "a" not in [a["key"] for a in removed["annotations"]]


def test_action_delete_returns_it_then_404(api: Client) -> None:
    name = unique()
    api.put(f"{NS}/actions/{name}", code(ECHO))
    deleted = api.delete(f"{NS}/actions/{name}")
    assert deleted.status_code == 200 and deleted.json()["name"] == name
    gone = api.get(f"{NS}/actions/{name}")
    assert gone.status_code == 404
    assert gone.json()["error"] == "The requested resource does not exist."
    assert api.delete(f"{NS}/actions/{name}").status_code == 404


@pytest.mark.parametrize("bad", ["%2E%2E", "a%00b", "-lead", "a%0Ab", "x" * 257])
def test_illegal_names_are_400(api: Client, bad: str) -> None:
    response = api.put(f"{NS}/actions/{bad}", code(ECHO))
    assert response.status_code == 400
    assert response.json()["error"] == "The name of the entity contains illegal characters."


def test_non_json_body_is_415(api: Client) -> None:
    response = api.request(
        "PUT", f"{NS}/actions/{unique()}", data=b"exec", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


def test_bad_limits_and_kinds_are_400_with_the_platform_text(api: Client) -> None:
    too_long = api.put(f"{NS}/actions/{unique()}", code(ECHO, limits={"timeout": 99}))
    assert too_long.status_code == 400
    assert (
        "duration 99 milliseconds below allowed threshold of 100 milliseconds"
        in too_long.json()["error"]
    )
    bad_kind = api.put(f"{NS}/actions/{unique()}", {"exec": {"kind": "cobol:1", "code": "x"}})
    assert bad_kind.status_code == 400
    assert "The specified runtime 'cobol:1' is not supported" in bad_kind.json()["error"]
    no_exec = api.put(f"{NS}/actions/{unique()}", {})
    assert no_exec.status_code == 400 and "exec undefined" in no_exec.json()["error"]


def test_lists_are_newest_first_with_limit_skip_and_count(api: Client) -> None:
    prefix = unique("order")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        api.put(f"{NS}/triggers/{name}", {})
    listed = [t["name"] for t in api.get(f"{NS}/triggers", params={"limit": 200}).json()]
    mine = [n for n in listed if n.startswith(prefix)]
    assert mine == list(reversed(names))
    assert [t["name"] for t in api.get(f"{NS}/triggers", params={"limit": 1}).json()] == [names[-1]]
    assert [
        t["name"] for t in api.get(f"{NS}/triggers", params={"limit": 1, "skip": 1}).json()
    ] == [names[1]]
    count = api.get(f"{NS}/triggers", params={"count": "true"}).json()
    assert count["triggers"] >= 3
    out_of_range = api.get(f"{NS}/actions", params={"limit": 201})
    assert out_of_range.status_code == 400
    assert (
        "The value '201' is not in the range of 0 to 200 for actions."
        in out_of_range.json()["error"]
    )


# -- packages ----------------------------------------------------------------------


def test_packaged_actions_inherit_package_parameters(api: Client) -> None:
    pkg, action = unique("pkg"), unique()
    created = api.put(f"{NS}/packages/{pkg}", {"parameters": [{"key": "from", "value": "pkg"}]})
    assert created.status_code == 200 and created.json()["binding"] == {}
    assert api.put(f"{NS}/actions/{pkg}/{action}", code(ECHO)).json()["namespace"] == f"guest/{pkg}"
    result = api.post(f"{NS}/actions/{pkg}/{action}", params={"blocking": "true", "result": "true"})
    assert result.json() == {"from": "pkg"}
    got = api.get(f"{NS}/packages/{pkg}").json()
    assert [a["name"] for a in got["actions"]] == [action]
    not_empty = api.delete(f"{NS}/packages/{pkg}")
    assert not_empty.status_code == 409
    assert (
        not_empty.json()["error"]
        == "Package not empty (contains 1 entity). Set force param or delete package contents."
    )
    assert api.delete(f"{NS}/packages/{pkg}", params={"force": "true"}).status_code == 200
    assert api.put(f"{NS}/packages/default", {}).status_code == 400
