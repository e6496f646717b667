"""The web route: export check, require-whisk-auth, arguments in, rendered answer out."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import replace

import pytest
from fakes import FakeRunner, call, header, make_app, make_backend

from localwhisk.config import Namespace
from localwhisk.platform.auth import Authenticator

NS = "/api/v1/namespaces/_"
WEB = "/api/v1/web/guest"


def put_action(app, name: str, annotations: list, parameters: list | None = None) -> None:
    body = {
        "exec": {"kind": "python:3.11", "code": "x"},
        "annotations": annotations,
        "parameters": parameters or [],
    }
    assert asyncio.run(call(app, "PUT", f"{NS}/actions/{name}", body)).status == 200


@pytest.fixture
def setup(tmp_path):
    runner = FakeRunner()
    app = make_app(make_backend(tmp_path, runner))
    return app, runner


def test_exported_action_gets_ow_arguments_and_json_comes_back_verbatim(setup):
    app, runner = setup
    put_action(app, "w", [{"key": "web-export", "value": True}], [{"key": "bound", "value": 1}])
    response = asyncio.run(
        call(app, "POST", f"{WEB}/default/w.json/extra/path", {"k": "v"}, query="q=1", auth=None)
    )
    assert response.status == 200
    params = runner.jobs[0].params
    assert params["__ow_method"] == "post" and params["__ow_path"] == "/extra/path"
    assert params["q"] == "1" and params["k"] == "v" and params["bound"] == 1
    assert "__ow_user" not in params
    assert json.loads(response.body) == params
    assert header(response, "x-openwhisk-activation-id")
    assert header(response, "access-control-allow-origin") == "*"


def test_unexported_or_missing_actions_are_404(setup):
    app, _ = setup
    put_action(app, "hidden", [{"key": "web-export", "value": "true"}])
    for path in (
        f"{WEB}/default/hidden.json",
        f"{WEB}/default/none.json",
        "/api/v1/web/nobody/default/hidden.json",
    ):
        response = asyncio.run(call(app, "GET", path, auth=None))
        assert response.status == 404
        assert json.loads(response.body)["error"] == "The requested resource does not exist."


def test_require_whisk_auth_secret_is_enforced(setup):
    app, runner = setup
    put_action(
        app,
        "s",
        [{"key": "web-export", "value": True}, {"key": "require-whisk-auth", "value": "sesame"}],
    )
    refused = asyncio.run(call(app, "GET", f"{WEB}/default/s.json", auth=None))
    assert refused.status == 401
    assert (
        json.loads(refused.body)["error"]
        == "Authentication is possible but has failed or not yet been provided."
    )
    allowed = asyncio.run(
        call(
            app,
            "GET",
            f"{WEB}/default/s.json",
            auth=None,
            headers={"x-require-whisk-auth": "sesame"},
        )
    )
    assert allowed.status == 200 and len(runner.jobs) == 1


def test_an_update_of_the_web_annotations_applies_to_the_next_request(setup):
    # The route reads an action's annotations once per revision: a new revision is read anew.
    app, runner = setup

    def update(annotations: list) -> None:
        body = {"annotations": annotations}
        put = call(app, "PUT", f"{NS}/actions/u", body, query="overwrite=true")
        assert asyncio.run(put).status == 200

    put_action(app, "u", [{"key": "web-export", "value": True}])
    assert asyncio.run(call(app, "GET", f"{WEB}/default/u.json", auth=None)).status == 200
    update([{"key": "require-whisk-auth", "value": "k"}])  # merged into the annotations
    assert asyncio.run(call(app, "GET", f"{WEB}/default/u.json", auth=None)).status == 401
    update([{"key": "require-whisk-auth", "value": False}, {"key": "raw-http", "value": True}])
    raw = asyncio.run(call(app, "GET", f"{WEB}/default/u.json", auth=None, query="a=1"))
    assert raw.status == 200 and runner.jobs[-1].params["__ow_query"] == "a=1"
    update([{"key": "web-export", "value": False}])
    assert asyncio.run(call(app, "GET", f"{WEB}/default/u.json", auth=None)).status == 404


def test_require_whisk_auth_true_needs_credentials_and_sets_ow_user(setup):
    app, runner = setup
    put_action(
        app,
        "c",
        [{"key": "web-export", "value": True}, {"key": "require-whisk-auth", "value": True}],
    )
    assert asyncio.run(call(app, "GET", f"{WEB}/default/c.json", auth=None)).status == 401
    ok = asyncio.run(call(app, "GET", f"{WEB}/default/c.json"))
    assert ok.status == 200 and runner.jobs[0].params["__ow_user"] == "guest"


def test_options_is_answered_without_running_the_action(setup):
    app, runner = setup
    put_action(app, "o", [{"key": "web-export", "value": True}])
    response = asyncio.run(call(app, "OPTIONS", f"{WEB}/default/o", auth=None))
    assert response.status == 200 and runner.jobs == []
    assert (
        header(response, "access-control-allow-methods")
        == "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH"
    )


def test_http_result_without_body_is_204(setup):
    app, _ = setup
    put_action(app, "e", [{"key": "web-export", "value": True}])
    response = asyncio.run(call(app, "GET", f"{WEB}/default/e", auth=None))
    assert response.status == 204 and response.body == b""


def test_reserved_arguments_are_refused(setup):
    app, runner = setup
    put_action(app, "r", [{"key": "web-export", "value": True}])
    response = asyncio.run(
        call(app, "GET", f"{WEB}/default/r.json", auth=None, query="__ow_method=put")
    )
    assert response.status == 400 and runner.jobs == []


OTHER = Namespace("other", "11111111-2222-4333-8444-555555555555", "K" * 64)
OTHER_HEADER = "Basic " + base64.b64encode(OTHER.auth.encode()).decode()


@pytest.fixture
def two_tenants(tmp_path):
    runner = FakeRunner()
    ctx = make_backend(tmp_path, runner)
    ctx.settings = replace(ctx.settings, namespaces=(*ctx.settings.namespaces, OTHER))
    ctx.auth = Authenticator(ctx.settings.namespaces)
    app = make_app(ctx)
    put_action(app, "w", [{"key": "web-export", "value": True}])
    return app, runner


def test_a_callers_key_never_reaches_another_namespaces_web_action(two_tenants):
    app, runner = two_tenants
    response = asyncio.run(call(app, "GET", f"{WEB}/default/w.json", auth=OTHER_HEADER))
    assert response.status == 200
    params = runner.jobs[0].params
    assert "authorization" not in params["__ow_headers"]
    assert params["__ow_user"] == "other"  # who called is still told, as upstream
    assert OTHER.key not in json.dumps(params)


def test_the_owners_key_and_unknown_tokens_are_forwarded_as_upstream(two_tenants):
    app, runner = two_tenants
    asyncio.run(call(app, "GET", f"{WEB}/default/w.json"))  # the guest's own key
    asyncio.run(call(app, "GET", f"{WEB}/default/w.json", auth="Bearer app-token"))
    owner, token = (job.params["__ow_headers"].get("authorization") for job in runner.jobs)
    assert owner is not None and owner.startswith("Basic ")
    assert token == "Bearer app-token"
