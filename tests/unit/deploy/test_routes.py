"""API routes in the deploy tool: manifest ``apis:``, plan entities, exact route management requests.

The book-club fixture is shaped after apache/openwhisk-wskdeploy's
``tests/dat/manifest_data_compose_api_records.yaml`` and checked against what its
``TestComposeApiRecords`` (``parsers/manifest_parser_test.go``) expects of it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from responses import matchers

from deploy.apply import apply_plan
from deploy.bundle import build_artifact
from deploy.errors import ManifestError, OpenWhiskError, PreflightError
from deploy.http.client import OpenWhiskClient
from deploy.http.sessions import requests_session
from deploy.manifest.loader import load_manifest
from deploy.models import Kind, Op
from deploy.plan import build_plan, desired_entities, undeploy_plan
from deploy.routes import current_routes
from deploy.settings import Settings
from deploy.state import fetch_state

KEY = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:" + "k" * 64
HOST = "https://ow.example"
MGMT = f"{HOST}/api/v1/web/whisk.system/apimgmt"
GATEWAY = {"accesstoken": "DUMMY TOKEN", "spaceguid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}

BOOK_CLUB = """
project:
  name: books
packages:
  apiTest:
    actions:
      putBooks: {function: hello.js, annotations: {web-export: true}}
      deleteBooks: {function: hello.js}
      listMembers: {function: hello.js}
      getBooks2: {function: hello.js}
      postBooks2: {function: hello.js}
      listMembers2: {function: hello.js}
      getBooks3: {function: hello.js}
      putBooks3: {function: hello.js}
      deleteBooks3: {function: hello.js}
    sequences:
      listAllMembers: {actions: "listMembers, listMembers2", web: true}
    apis:
      book-club:
        club:
          books:
            putBooks: {method: put}
            deleteBooks: {method: delete}
          members:
            listMembers: {method: get}
      book-club2:
        club2:
          books2:
            getBooks2: {method: get}
            postBooks2: {method: post}
          members2:
            listMembers2: {method: get}
            listAllMembers: {method: get}
      book-club3:
        club3:
          booksByISBN/{isbn}:
            getBooks3: {method: get, response: http}
          booksWithParams/path/{params}/more/{params1}/:
            putBooks3: {method: put, response: json}
          booksWithDuplicateParams/path/{params}/more/{params}/:
            deleteBooks3: {method: delete}
"""


def load(tmp_path: Path, text: str):
    (tmp_path / "hello.js").write_text("function main(a) { return a }\n")
    (tmp_path / "manifest.yaml").write_text(text)
    return load_manifest(tmp_path / "manifest.yaml", {})


def test_the_book_club_routes_are_read_as_wskdeploy_composes_them(tmp_path):
    m = load(tmp_path, BOOK_CLUB)
    routes = {(a.action, a.method): a for a in m.apis}
    assert len(m.apis) == 10  # wskdeploy's 10 records; two share GET /club2/members2
    put = routes[("apiTest/putBooks", "PUT")]
    assert (put.api_name, put.base_path, put.rel_path, put.response) == (
        "book-club",
        "/club",
        "/books",
        "json",
    )
    assert routes[("apiTest/listAllMembers", "GET")].rel_path == "/members2"
    assert routes[("apiTest/getBooks3", "GET")].rel_path == "/booksByISBN/{isbn}"
    for name in ("getBooks3", "putBooks3", "deleteBooks3"):
        assert next(a for a in m.apis if a.action == f"apiTest/{name}").response == "http"
    # Actions without a web flag become web actions (wskdeploy's TryUpdateAPIsActionToWebAction).
    webs = {a.path: a.annotations.get("web-export") for a in m.actions}
    assert set(webs.values()) == {True}
    assert any("'apiTest/deleteBooks' is not a web action" in w for w in m.warnings)
    assert any("json changed to http" in w for w in m.warnings)
    assert any("route GET /club2/members2 is declared again" in w for w in m.warnings)


def test_the_routes_become_wskdeploys_create_bodies(tmp_path):
    m = load(tmp_path, BOOK_CLUB)
    artifacts = {a.path: build_artifact(a) for a in m.actions}
    entities = [e for e in desired_entities(m, artifacts, "guest") if e.kind is Kind.API]
    assert [e.name for e in entities] == [
        "PUT /club/books",
        "DELETE /club/books",
        "GET /club/members",
        "GET /club2/books2",
        "POST /club2/books2",
        "GET /club2/members2",
        "GET /club3/booksByISBN/{isbn}",
        "PUT /club3/booksWithParams/path/{params}/more/{params1}/",
        "DELETE /club3/booksWithDuplicateParams/path/{params}/more/{params}/",
    ]
    members = next(e for e in entities if e.name == "GET /club2/members2")
    assert members.body["apidoc"]["action"]["name"] == "apiTest/listAllMembers"  # the later one
    params = next(e for e in entities if e.name.startswith("PUT /club3"))
    assert params.body["responsetype"] == "http"
    assert [p["name"] for p in params.body["apidoc"]["pathParameters"]] == ["params", "params1"]
    dup = next(e for e in entities if e.name.startswith("DELETE /club3"))
    assert [p["name"] for p in dup.body["apidoc"]["pathParameters"]] == ["params"]


SMALL = """
project:
  name: shop
packages:
  default:
    actions:
      hello:
        function: hello.js
        web: true
        annotations: {require-whisk-auth: s3cret}
    apis:
      hello-api:
        hello:
          world:
            hello: {method: GET, response: json}
"""


@pytest.mark.parametrize(
    ("route", "problem"),
    [
        (
            "hello/more:\n          world:\n            hello: {method: GET}",
            "expected a base path of one segment",
        ),
        ("hello:\n          world:\n            hello: {method: FETCH}", "expected an HTTP method"),
        ("hello:\n          world:\n            hello: {}", "found none"),
        (
            "hello:\n          world:\n            hello: {method: GET, response: xml}",
            "expected a web action extension: json, http",
        ),
        (
            "hello:\n          world:\n            nope: {method: GET}",
            "expected an action or sequence declared in this package",
        ),
        (
            "hello:\n          world:\n            hello: {method: GET, verb: x}",
            "unknown key 'verb'",
        ),
    ],
)
def test_bad_routes_are_refused_saying_where_and_why(tmp_path, route, problem):
    text = SMALL.replace(
        "hello:\n          world:\n            hello: {method: GET, response: json}", route
    )
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, text)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_a_route_to_an_action_with_web_false_is_refused(tmp_path):
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, SMALL.replace("web: true", "web: false"))
    [problem] = caught.value.problems
    assert "packages.default.apis.hello-api.hello.world.hello" in problem
    assert "expected a web action or sequence" in problem and "set web: true on it" in problem


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def client() -> OpenWhiskClient:
    return OpenWhiskClient(
        Settings(HOST, KEY, "guest", "flags"),
        retries=2,
        sleep=lambda s: None,
        session=requests_session(HOST),
    )


def small_route(tmp_path: Path):
    m = load(tmp_path, SMALL)
    return m, next(e for e in desired_entities(m, {"hello": _art()}, "guest") if e.kind is Kind.API)


def _art():
    from deploy.models import Artifact

    return Artifact(b"code", "sha", False)


def test_create_sends_the_body_wsk_and_wskdeploy_send(rsps, tmp_path):
    _, route = small_route(tmp_path)
    expected = {
        "apidoc": {
            "namespace": "guest",
            "apiName": "hello-api",
            "gatewayBasePath": "/hello",
            "gatewayPath": "/world",
            "gatewayMethod": "GET",
            "id": "API:guest:/world",
            "action": {
                "name": "hello",
                "namespace": "guest",
                "backendMethod": "GET",
                "secureKey": "s3cret",
                "backendUrl": f"{HOST}/api/v1/web/guest/default/hello.http",
                "authkey": KEY,
            },
        }
    }
    rsps.post(
        f"{MGMT}/createApi.http",
        json={"gwApiUrl": f"{HOST}/api/x/hello"},
        match=[
            matchers.json_params_matcher(expected),
            matchers.query_param_matcher({**GATEWAY, "responsetype": "json"}),
        ],
    )
    assert client().create_route(route.body) == {"gwApiUrl": f"{HOST}/api/x/hello"}


def test_delete_names_base_path_path_and_method_and_a_gone_route_is_not_an_error(rsps, tmp_path):
    _, route = small_route(tmp_path)
    query = {**GATEWAY, "basepath": "/hello", "relpath": "/world", "operation": "GET"}
    rsps.delete(f"{MGMT}/deleteApi.http", json={}, match=[matchers.query_param_matcher(query)])
    rsps.delete(
        f"{MGMT}/deleteApi.http",
        status=502,
        json={"error": "API deletion failure: API '/hello' does not exist."},
    )
    c = client()
    assert c.delete_route(route.body) is True
    assert c.delete_route(route.body) is False


def test_a_refused_route_is_not_asked_again(rsps, tmp_path):
    _, route = small_route(tmp_path)
    refused = {"error": "API creation failure: Action '/guest/hello' is not a web action."}
    rsps.post(f"{MGMT}/createApi.http", status=502, json=refused)
    c = client()
    with pytest.raises(OpenWhiskError, match="is not a web action"):
        c.create_route(route.body)
    assert c.request_count == 1


def served(namespace: str = "guest", action: str = "hello", ext: str = "json", secret=None):
    """A ``getApi`` item as the route management actions answer it."""
    case = {
        "operations": ["getWorld"],
        "execute": [
            {"invoke": {"target-url": f"{HOST}/api/v1/web/{namespace}/default/{action}.{ext}"}}
        ],
    }
    if secret is not None:
        case["execute"].append(
            {
                "set-variable": {
                    "actions": [{"set": "message.headers.X-Require-Whisk-Auth", "value": secret}]
                }
            }
        )
    return {
        "value": {
            "gwApiUrl": f"{HOST}/api/aaaa/hello",
            "apidoc": {
                "basePath": "/hello",
                "paths": {
                    "/world": {
                        "get": {
                            "operationId": "getWorld",
                            "x-openwhisk": {
                                "namespace": namespace,
                                "package": "",
                                "action": action,
                            },
                        }
                    }
                },
                "x-ibm-configuration": {
                    "assembly": {"execute": [{"operation-switch": {"case": [case]}}]}
                },
            },
        }
    }


def test_an_unchanged_route_is_a_no_op_and_a_changed_one_says_what(tmp_path):
    m, route = small_route(tmp_path)
    same = current_routes([served(secret="s3cret")], {"hello": "shop"}, "guest")
    assert build_plan([route], same, "shop").is_empty
    moved = current_routes([served(ext="http", secret="s3cret")], {"hello": "shop"}, "guest")
    [change] = build_plan([route], moved, "shop").changes
    assert change.op is Op.UPDATE and change.reasons == ("response http → json",)


def test_routes_belong_to_the_project_of_their_action(tmp_path):
    _, route = small_route(tmp_path)
    foreign = current_routes([served()], {"hello": None}, "guest")
    plan = build_plan([route], foreign, "shop")
    assert (
        plan.conflicts
        and "api GET /hello/world already exists and belongs to no project" in (plan.conflicts[0])
    )
    ours = current_routes([served(action="old")], {"old": "shop"}, "guest")
    removed = build_plan([], ours, "shop")
    assert [(c.op, c.entity.name) for c in removed.changes] == [(Op.DELETE, "GET /hello/world")]
    assert [c.op for c in undeploy_plan(ours, "shop").changes] == [Op.DELETE]
    assert undeploy_plan(foreign, "shop").changes == ()
    elsewhere = current_routes([served(namespace="bob")], {"hello": "shop"}, "guest")
    assert undeploy_plan(elsewhere, "shop").changes == ()


def test_routes_are_read_only_where_there_can_be_some(rsps, tmp_path):
    page = [matchers.query_param_matcher({"limit": "200", "skip": "0"})]
    ns = f"{HOST}/api/v1/namespaces/guest"
    for collection in ("packages", "actions", "triggers", "rules"):
        rsps.get(f"{ns}/{collection}", json=[], match=page)
    assert fetch_state(client(), []) == []  # no web action, no route wanted: no getApi


def test_a_server_without_the_api_gateway_is_said_before_anything_is_written(rsps, tmp_path):
    _, route = small_route(tmp_path)
    ns = f"{HOST}/api/v1/namespaces/guest"
    for collection in ("packages", "actions", "triggers", "rules"):
        rsps.get(f"{ns}/{collection}", json=[])
    rsps.get(f"{MGMT}/getApi.http", status=404, json={"error": "not found", "code": "x"})
    with pytest.raises(PreflightError, match="has no API gateway"):
        fetch_state(client(), [route])


def test_routes_are_applied_one_at_a_time_after_the_actions(rsps, tmp_path):
    m = load(tmp_path, BOOK_CLUB)
    desired = desired_entities(m, {a.path: build_artifact(a) for a in m.actions}, "guest")
    plan = build_plan(desired, [], "books")
    calls: list[tuple[str, threading.Thread]] = []

    class Recorder:
        """Records which call ran on which thread; answers like a server that took it."""

        def put(self, collection, name, body, overwrite, artifact):
            calls.append((f"put {collection}", threading.current_thread()))

        def create_route(self, body):
            path = json.dumps(body["apidoc"]["gatewayPath"])
            calls.append((f"route {path}", threading.current_thread()))

    apply_plan(plan, Recorder(), read_back=False)
    kinds = [name.split()[0] for name, _ in calls]
    first = kinds.index("route")
    assert set(kinds[:first]) == {"put"} and set(kinds[first:]) == {"route"}
    assert len(kinds) - first == 9
    # In turn, on the applying thread, not in the pool: no two rewrite one API at once.
    assert {thread for name, thread in calls[first:]} == {threading.current_thread()}
