"""Route management (whisk.system/apimgmt) and gateway routes through the in-process app."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fakes import FakeRunner, call, header, make_app, make_backend, now_ms

from localwhisk.models import SUCCESS
from localwhisk.runtime.contract import RunJob, RunOutcome
from whiskfacts.guest import GUEST_KEY, GUEST_UUID

NS = "/api/v1/namespaces/_"
MGMT = "/api/v1/web/whisk.system/apimgmt"
ROUTES = f"/api/{GUEST_UUID}"
CODE = {"kind": "python:3.11", "code": "def main(a): return a"}
WEB = [{"key": "web-export", "value": True}]


def answer_with_context(job: RunJob) -> RunOutcome:
    """A web action that shows what it was given: method, path, query and headers."""
    params = dict(job.params)
    body = {
        "path": params.get("__ow_path"),
        "method": params.get("__ow_method"),
        "q": params.get("q"),
        "auth": params.get("__ow_headers", {}).get("x-require-whisk-auth"),
        "forwarded": params.get("__ow_headers", {}).get("x-forwarded-url"),
    }
    now = now_ms()
    return RunOutcome(SUCCESS, {"statusCode": 200, "body": body}, [], now, now + 1)


class Harness:
    def __init__(self, tmp_path) -> None:
        self.runner = FakeRunner(answer_with_context)
        self.backend = make_backend(tmp_path, self.runner)
        self.app = make_app(self.backend)

    def raw(self, method: str, path: str, body: Any = None, **kw: Any):
        return asyncio.run(call(self.app, method, path, body, **kw))

    def __call__(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = self.raw(method, path, body, **kw)
        return response.status, json.loads(response.body) if response.body else None

    def action(self, name: str, annotations: list | None = None) -> None:
        body = {"exec": CODE, "annotations": WEB if annotations is None else annotations}
        assert self("PUT", f"{NS}/actions/{name}", body)[0] == 200

    def create(self, path: str, method: str = "GET", action: str = "books", **kw: Any):
        return self("POST", f"{MGMT}/createApi.http", api_doc(path, method, action), **kw)


def api_doc(path: str, method: str, action: str, base: str = "/club") -> dict:
    """The body ``wsk api create`` posts (openwhisk-cli commands/api.go ``parseApi``)."""
    doc: dict[str, Any] = {
        "namespace": "_",
        "gatewayBasePath": base,
        "gatewayPath": path,
        "gatewayMethod": method,
        "id": f"API:_:{base}",
        "action": {
            "name": action,
            "namespace": "_",
            "backendMethod": method,
            "backendUrl": f"https://ow.example/api/v1/web/_/default/{action}.http",
            "authkey": f"{GUEST_UUID}:{GUEST_KEY}",
        },
    }
    if "{" in path:
        doc["pathParameters"] = [{"name": "isbn", "in": "path", "required": True}]
    return {"apidoc": doc}


@pytest.fixture
def gw(tmp_path):
    return Harness(tmp_path)


def test_create_answers_the_api_and_its_url_and_the_route_reaches_the_web_action(gw):
    gw.action("books")
    status, created = gw.create("/books/{isbn}", query="responsetype=http&accesstoken=x")
    assert status == 200
    assert created["gwApiUrl"] == f"http://127.0.0.1:1/api/{GUEST_UUID}/club"
    assert created["namespace"] == "guest" and created["gwApiActivated"] is True
    assert list(created["apidoc"]["paths"]) == ["/books/{isbn}"]
    status, seen = gw("GET", f"{ROUTES}/club/books/978-0596517748", query="q=1", auth=None)
    assert status == 200
    assert seen == {
        "path": "/club/books/978-0596517748",
        "method": "get",
        "q": "1",
        "auth": None,
        "forwarded": f"http://127.0.0.1:1{ROUTES}/club/books/978-0596517748?q=1",
    }


def test_json_routes_give_the_result_and_no_path(gw):
    gw.action("books")
    assert gw.create("/books")[0] == 200  # no responsetype: json, as createApi defaults
    status, seen = gw("GET", f"{ROUTES}/club/books", auth=None)
    assert status == 200 and seen["statusCode"] == 200 and seen["body"]["path"] == ""


def test_gateway_errors_keep_the_gateways_shape(gw):
    gw.action("books")
    gw.create("/books")
    response = gw.raw("POST", f"{ROUTES}/club/books", auth=None)
    assert response.status == 404
    assert json.loads(response.body) == {
        "status": 404,
        "message": "Error: Whoops. Verb not supported.",
    }
    assert header(response, "content-type") == "application/json; charset=utf-8"
    assert gw("GET", f"{ROUTES}/club/nothing", auth=None) == (
        404,
        {"status": 404, "message": "Error: Not found."},
    )
    other = "00000000-0000-4000-8000-000000000000"
    assert gw("GET", f"/api/{other}/club/books", auth=None)[0] == 404


def test_cors_preflight_is_answered_by_the_gateway_without_the_action(gw):
    gw.action("books")
    gw.create("/books")
    response = gw.raw(
        "OPTIONS",
        f"{ROUTES}/club/books",
        auth=None,
        headers={"origin": "https://app.example", "access-control-request-headers": "x-token"},
    )
    assert response.status == 200 and gw.runner.jobs == []
    assert header(response, "access-control-allow-origin") == "*"
    assert header(response, "access-control-allow-headers") == "x-token"
    assert header(response, "access-control-allow-credentials") is None


def test_a_secured_web_action_gets_its_secret_from_the_route(gw):
    gw.action("books", [*WEB, {"key": "require-whisk-auth", "value": "s3cret"}])
    body = api_doc("/books", "GET", "books")
    body["apidoc"]["action"]["secureKey"] = "s3cret"  # as wsk sends it for such an action
    assert gw("POST", f"{MGMT}/createApi", body, query="responsetype=http")[0] == 200
    status, seen = gw("GET", f"{ROUTES}/club/books", auth=None)
    assert status == 200 and seen["auth"] == "s3cret"


def test_get_lists_by_base_path_or_name_and_delete_removes_one_route_then_the_api(gw):
    gw.action("books")
    gw("POST", f"{MGMT}/createApi", {**api_doc("/books", "GET", "books")})
    body = api_doc("/books", "POST", "books")
    body["apidoc"]["apiName"] = "ignored: the API exists"
    gw("POST", f"{MGMT}/createApi", body)
    status, listed = gw("GET", f"{MGMT}/getApi.http")
    [item] = listed["apis"]
    assert item["key"] == "guest" and item["value"]["apidoc"]["info"]["title"] == "/club"
    assert gw("GET", f"{MGMT}/getApi", query="basepath=/club")[1] == listed
    assert gw("GET", f"{MGMT}/getApi", query="basepath=%2Fclub%2F")[1] == listed
    assert gw("GET", f"{MGMT}/getApi", query="basepath=/club")[1]["apis"][0]["id"] == item["id"]
    assert gw("GET", f"{MGMT}/getApi", query="basepath=/other")[1] == {"apis": []}
    assert gw(
        "DELETE", f"{MGMT}/deleteApi", query="basepath=/club&relpath=/books&operation=GET"
    ) == (
        200,
        {},
    )
    assert list(
        gw("GET", f"{MGMT}/getApi")[1]["apis"][0]["value"]["apidoc"]["paths"]["/books"]
    ) == ["post"]
    assert (
        gw("DELETE", f"{MGMT}/deleteApi", query="basepath=/club&relpath=/books&operation=POST")[0]
        == 200
    )
    assert gw("GET", f"{MGMT}/getApi")[1] == {"apis": []}
    assert gw("DELETE", f"{MGMT}/deleteApi", query="basepath=/club") == (
        502,
        {"error": "API deletion failure: API '/club' does not exist."},
    )


def test_an_exported_api_can_be_created_again_from_its_swagger(gw):
    gw.action("books")
    gw.create("/books/{isbn}", query="responsetype=http")
    exported = gw("GET", f"{MGMT}/getApi", query="basepath=/club")[1]["apis"][0]["value"]["apidoc"]
    assert gw("DELETE", f"{MGMT}/deleteApi", query="basepath=/club")[0] == 200
    body = {"apidoc": {"namespace": "_", "swagger": json.dumps(exported)}}  # wsk --config-file
    status, created = gw("POST", f"{MGMT}/createApi", body)
    assert status == 200 and created["apidoc"] == exported
    assert gw("GET", f"{ROUTES}/club/books/1", auth=None)[1]["path"] == "/club/books/1"


@pytest.mark.parametrize(
    ("body", "query", "message"),
    [
        ({}, "", "apidoc is required."),
        ({"apidoc": "{not json"}, "", "apidoc field cannot be parsed. Ensure it is valid JSON."),
        ({"apidoc": {"gatewayBasePath": "/a"}}, "", "apidoc is missing the namespace field"),
        (
            {"apidoc": {"namespace": "_", "gatewayBasePath": "/a"}},
            "",
            "apidoc is missing the gatewayPath field",
        ),
        (
            {"apidoc": {"namespace": "_", "swagger": {"basePath": "/a", "paths": {}}}},
            "",
            "swagger is missing the paths field.",
        ),
        (
            {"apidoc": {"namespace": "_", "gatewayBasePath": "/a", "swagger": {"x": 1}}},
            "",
            "swagger and gatewayBasePath are mutually exclusive and cannot be specified together.",
        ),
        (api_doc("/books", "FETCH", "books"), "", None),
        (api_doc("/books", "GET", "books"), "responsetype=xml", None),
    ],
)
def test_bad_create_bodies_get_the_actions_error_and_nothing_is_stored(gw, body, query, message):
    gw.action("books")
    status, error = gw("POST", f"{MGMT}/createApi", body, query=query)
    assert status == 502 and set(error) == {"error"}
    if message is not None:
        assert error["error"] == message
    assert gw("GET", f"{MGMT}/getApi")[1] == {"apis": []}


def test_a_body_that_is_not_json_is_a_400_like_any_web_action(gw):
    status, error = gw("POST", f"{MGMT}/createApi", b"{nope")
    assert status == 400 and error["error"].startswith("The request content was malformed")


def test_routes_need_a_web_action_and_say_how_to_make_one(gw):
    gw.action("plain", annotations=[])
    status, error = gw.create("/books", action="plain")
    assert (status, error) == (
        502,
        {
            "error": "API creation failure: Action '/guest/plain' is not a web action. Issue "
            "'wsk action update \"/guest/plain\" --web true' to convert the action to a web action."
        },
    )
    status, error = gw.create("/books", action="missing")
    assert status == 502 and "Action '/guest/missing' does not exist" in error["error"]


def test_path_parameters_need_an_http_route(gw):
    gw.action("books")
    status, error = gw.create("/books/{isbn}")
    assert status == 502
    assert error["error"] == (
        "API creation failure: The action must use a response type of '.http' in order to "
        "receive the path parameters."
    )


def test_management_needs_the_callers_key(gw):
    assert gw.create("/books", auth=None) == (502, {"error": "A valid auth key is required."})
    assert gw("GET", f"{MGMT}/getApi", auth=None) == (502, {"error": "Invalid authentication."})
    assert gw("DELETE", f"{MGMT}/deleteApi", query="basepath=/a", auth=None) == (
        502,
        {"error": "Invalid authentication."},
    )


def test_management_is_closed_to_other_web_pages_like_the_rest_api(gw):
    gw.action("books")
    status, error = gw.create("/books", headers={"origin": "https://evil.example"})
    assert status == 403 and "may not use the REST API" in error["error"]


def test_apis_survive_a_restart(tmp_path):
    first = Harness(tmp_path)
    first.action("books")
    first.create("/books")
    first.backend.store.close()
    second = Harness(tmp_path)
    assert second("GET", f"{ROUTES}/club/books", auth=None)[0] == 200
