"""Every response of every implemented REST path, checked against the upstream Swagger spec.

Drives a real server (the session fixture of ``conftest.py``) over HTTP with ``requests``;
each call goes through ``Api.call``, which validates the body against the spec's schema for
that operation and status (``tests/contract.py``), so a test cannot forget to.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration

HELLO = 'def main(args):\n    return {"greeting": "hello " + args.get("name", "world")}\n'
FAILS = 'def main(args):\n    return {"error": "no " + args.get("name", "thing")}\n'
WAIT_S = 60.0


def load_contract() -> ModuleType:
    # tests/ is not a package; load the helper by path, once, under a stable name.
    if "contract" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "contract", Path(__file__).resolve().parents[1] / "contract.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["contract"] = module
        spec.loader.exec_module(module)
    return sys.modules["contract"]


contract = load_contract()


class Api:
    """A ``requests`` session whose every answer is validated against the spec."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None, namespace: str = "_") -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.auth = auth
        self.namespace = namespace
        self.ns = f"/api/v1/namespaces/{namespace}"

    def call(self, method: str, path: str, expect: int, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, self.base_url + path, timeout=WAIT_S + 10, **kwargs)
        assert response.status_code == expect, (
            f"{method} {path}: expected {expect}, got {response.status_code}: {response.text[:500]}"
        )
        body = decoded(response)
        template = contract.template_for(path)
        contract.validate_response(method, template, response.status_code, body)
        return response

    def json(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        return self.call(method, path, expect, **kwargs).json()

    def wait_for(self, what: str, probe: Callable[[], Any]) -> Any:
        """Poll ``probe`` until it returns non-None; bounded by WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            value = probe()
            if value is not None:
                return value
            time.sleep(0.05)  # poll interval, not a wait for an event
        raise AssertionError(f"gave up after {WAIT_S} s waiting for {what}")


def decoded(response: requests.Response) -> Any:
    """JSON when the server says JSON, else the text (so a documented schema rejects it)."""
    if not response.content:
        return contract.NO_BODY
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    if media == "application/json" or media.endswith("+json"):
        return response.json()
    return response.text


@pytest.fixture
def api(localwhisk_url: str, guest_auth: tuple[str, str]) -> Iterator[Api]:
    client = Api(localwhisk_url, guest_auth)
    # The real namespace name: web URLs and rule paths need it (works against any OpenWhisk).
    client.namespace = client.json("GET", "/api/v1/namespaces", 200)[0]
    client.ns = f"/api/v1/namespaces/{client.namespace}"
    yield client
    client.session.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def action_body(code: str, **extra: Any) -> dict[str, Any]:
    return {"exec": {"kind": "python:3.11", "code": code}, **extra}


def test_namespaces_and_limits(api: Api) -> None:
    assert api.namespace in api.json("GET", "/api/v1/namespaces", 200)
    api.call("GET", f"{api.ns}/limits", 200)


def test_unauthenticated_and_missing_entities_answer_error_messages(
    api: Api, localwhisk_url: str
) -> None:
    anonymous = Api(localwhisk_url, auth=None)
    anonymous.call("GET", f"{api.ns}/actions", 401)
    wrong = Api(localwhisk_url, auth=(api.session.auth[0], "not-the-key"))
    wrong.call("GET", f"{api.ns}/actions", 401)
    api.call("GET", f"{api.ns}/actions/{unique('missing')}", 404)
    api.call("GET", f"{api.ns}/triggers/{unique('missing')}", 404)
    api.call("GET", f"{api.ns}/rules/{unique('missing')}", 404)
    api.call("GET", f"{api.ns}/packages/{unique('missing')}", 404)
    api.call("GET", f"{api.ns}/activations/{uuid.uuid4().hex}", 404)


def test_action_lifecycle_and_invokes(api: Api) -> None:
    name = unique("contract-action")
    path = f"{api.ns}/actions/{name}"
    created = api.json("PUT", path, 200, json=action_body(HELLO))
    assert created["name"] == name
    api.call("PUT", path, 409, json=action_body(HELLO))
    api.call("PUT", path + "?overwrite=true", 200, json=action_body(HELLO, parameters=[]))
    assert api.json("GET", path, 200)["exec"]["code"] == HELLO
    listed = api.json("GET", f"{api.ns}/actions?limit=200", 200)
    assert name in [a["name"] for a in listed]

    result = api.json("POST", path + "?blocking=true&result=true", 200, json={"name": "spec"})
    assert result == {"greeting": "hello spec"}
    record = api.json("POST", path + "?blocking=true", 200, json={})
    assert record["response"]["result"] == {"greeting": "hello world"}

    accepted = api.json("POST", path, 202, json={"name": "later"})
    activation_id = accepted["activationId"]
    done = api.wait_for("the non-blocking activation", lambda: finished(api, activation_id))
    assert done["response"]["result"] == {"greeting": "hello later"}
    api.call("GET", f"{api.ns}/activations/{activation_id}/result", 200)
    api.call("GET", f"{api.ns}/activations/{activation_id}/logs", 200)
    briefs = api.json("GET", f"{api.ns}/activations?name={name}&limit=5", 200)
    assert activation_id in [b["activationId"] for b in briefs]
    api.call("GET", f"{api.ns}/activations?name={name}&docs=true", 200)

    api.call("DELETE", path, 200)
    api.call("DELETE", path, 404)


def finished(api: Api, activation_id: str) -> dict[str, Any] | None:
    response = api.session.get(f"{api.base_url}{api.ns}/activations/{activation_id}", timeout=10)
    if response.status_code == 404:
        return None  # not recorded yet
    api.call("GET", f"{api.ns}/activations/{activation_id}", 200)
    return response.json()


def test_failed_blocking_invoke_is_502_with_the_activation(api: Api) -> None:
    name = unique("contract-fails")
    path = f"{api.ns}/actions/{name}"
    api.call("PUT", path, 200, json=action_body(FAILS))
    record = api.json("POST", path + "?blocking=true", 502, json={})
    assert record["response"]["status"] == "application error"
    assert record["response"]["result"] == {"error": "no thing"}
    api.call("DELETE", path, 200)


def test_packages_and_packaged_actions(api: Api) -> None:
    package = unique("contract-pkg")
    api.call(
        "PUT", f"{api.ns}/packages/{package}", 200, json={"parameters": [{"key": "k", "value": 1}]}
    )
    api.call("GET", f"{api.ns}/packages/{package}", 200)
    assert package in [p["name"] for p in api.json("GET", f"{api.ns}/packages", 200)]
    path = f"{api.ns}/actions/{package}/inner"
    api.call("PUT", path, 200, json=action_body(HELLO))
    api.call("GET", path, 200)
    assert api.json("POST", path + "?blocking=true&result=true", 200, json={}) == {
        "greeting": "hello world"
    }
    api.call("DELETE", path, 200)
    api.call("DELETE", f"{api.ns}/packages/{package}", 200)


def test_triggers_and_rules(api: Api) -> None:
    action, trigger, rule = unique("contract-ra"), unique("contract-t"), unique("contract-r")
    api.call("PUT", f"{api.ns}/actions/{action}", 200, json=action_body(HELLO))
    api.call("PUT", f"{api.ns}/triggers/{trigger}", 200, json={})
    api.call("GET", f"{api.ns}/triggers/{trigger}", 200)
    assert trigger in [t["name"] for t in api.json("GET", f"{api.ns}/triggers", 200)]
    api.call("POST", f"{api.ns}/triggers/{trigger}", 204, json={})  # no rule yet: nothing runs

    api.call(
        "PUT",
        f"{api.ns}/rules/{rule}",
        200,
        json={"trigger": f"/{api.namespace}/{trigger}", "action": f"/{api.namespace}/{action}"},
    )
    assert api.json("GET", f"{api.ns}/rules/{rule}", 200)["status"] == "active"
    assert rule in [r["name"] for r in api.json("GET", f"{api.ns}/rules", 200)]
    fired = api.json("POST", f"{api.ns}/triggers/{trigger}", 202, json={"name": "rule"})
    api.wait_for("the trigger activation", lambda: finished(api, fired["activationId"]))

    api.call("POST", f"{api.ns}/rules/{rule}", 200, json={"status": "inactive"})
    assert api.json("GET", f"{api.ns}/rules/{rule}", 200)["status"] == "inactive"
    api.call("POST", f"{api.ns}/triggers/{trigger}", 204, json={})
    api.call("POST", f"{api.ns}/rules/{rule}", 200, json={"status": "active"})

    api.call("DELETE", f"{api.ns}/rules/{rule}", 200)
    api.call("DELETE", f"{api.ns}/triggers/{trigger}", 200)
    api.call("DELETE", f"{api.ns}/actions/{action}", 200)


def test_web_action_json(api: Api) -> None:
    name = unique("contract-web")
    annotations = [{"key": "web-export", "value": True}]
    api.call(
        "PUT", f"{api.ns}/actions/{name}", 200, json=action_body(HELLO, annotations=annotations)
    )
    web = f"/api/v1/web/{api.namespace}/default/{name}.json"
    response = api.call("GET", web + "?name=web", 200)
    assert response.json() == {"greeting": "hello web"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers.get("x-openwhisk-activation-id")
    api.call("POST", web, 200, json={"name": "post"})
    api.call("DELETE", f"{api.ns}/actions/{name}", 200)
    api.call("GET", web, 404)
