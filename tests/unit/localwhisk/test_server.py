"""The HTTP adapter: request ids, CORS, OPTIONS, body limits, error bodies, unknown routes."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from fakes import call, header, make_app, make_backend

from localwhisk import routes
from localwhisk.errors import RouteNotFound


@pytest.fixture
def app(tmp_path):
    return make_app(make_backend(tmp_path))


def test_every_api_response_has_a_request_id_and_cors(app):
    response = asyncio.run(call(app, "GET", "/api/v1"))
    assert response.status == 200
    assert len(header(response, "x-request-id")) == 32
    assert header(response, "access-control-allow-origin") == "*"
    assert header(response, "access-control-allow-methods") == "GET, DELETE, POST, PUT, HEAD"


def test_error_code_is_the_request_id(app):
    response = asyncio.run(call(app, "GET", "/api/v1/namespaces/_/actions", auth=None))
    body = json.loads(response.body)
    assert response.status == 401
    assert body["code"] == header(response, "x-request-id")
    assert header(response, "www-authenticate") == 'Basic realm="OpenWhisk secure realm"'


def test_options_anywhere_under_the_api_is_200_without_auth(app):
    response = asyncio.run(call(app, "OPTIONS", "/api/v1/namespaces/guest/actions/x", auth=None))
    assert response.status == 200 and response.body == b""


def test_unknown_route_is_404_and_wrong_method_405(app):
    missing = asyncio.run(call(app, "GET", "/api/v1/nothing"))
    assert missing.status == 404
    assert json.loads(missing.body)["error"] == RouteNotFound.message
    wrong = asyncio.run(call(app, "PATCH", "/api/v1/namespaces/_/actions/x"))
    assert wrong.status == 405


def test_declared_oversize_body_is_refused_before_reading_it(app):
    response = asyncio.run(
        call(
            app,
            "POST",
            "/api/v1/namespaces/_/actions/x",
            headers={"content-length": str(2_000_000)},
            chunks=[b"{}"],
        )
    )
    assert response.status == 413
    assert (
        json.loads(response.body)["error"]
        == "Request larger than allowed: 2000000 > 1048576 bytes."
    )
    assert header(response, "x-test-receive-calls") == "0"


def test_chunked_oversize_body_stops_at_the_limit(app):
    chunk = b"x" * 600_000
    response = asyncio.run(
        call(app, "POST", "/api/v1/namespaces/_/triggers/t", chunks=[chunk, chunk, chunk, chunk])
    )
    assert response.status == 413
    assert (
        json.loads(response.body)["error"]
        == "Request larger than allowed: 1200000 > 1048576 bytes."
    )
    assert header(response, "x-test-receive-calls") == "2"


class BrokenStore:
    """A store whose disk has gone away: every read raises."""

    def entities(self, *_args, **_kwargs):
        raise RuntimeError("boom: disk gone")


def test_unexpected_exceptions_become_a_logged_500(tmp_path, caplog):
    backend = make_backend(tmp_path)
    backend.store = BrokenStore()
    app = make_app(backend)
    with caplog.at_level(logging.ERROR, logger="localwhisk.server"):
        response = asyncio.run(call(app, "GET", "/api/v1/namespaces/_/actions"))
    assert response.status == 500
    assert json.loads(response.body)["error"] == "There was an internal server error."
    assert "boom: disk gone" in caplog.text


def test_route_groups_stay_percent_encoded_until_the_handler_decodes():
    found = routes.match("GET", "/api/v1/namespaces/_/actions/a%2Fb")
    assert found is not None
    route, args = found
    assert args == {"ns": "_", "name": "a%2Fb"}
    assert routes.match("GET", "/api/v1/namespaces/_/actions/p/") is not None


def test_head_answers_like_get(app):
    head = asyncio.run(call(app, "HEAD", "/api/v1/namespaces/_/actions"))
    assert head.status == 200
    assert header(head, "content-length") == "2"  # the GET body "[]"
