"""The HTTP adapter: request ids, the Host/Origin gate and CORS, OPTIONS, body limits, errors."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace

import pytest
from fakes import call, header, make_app, make_backend

from localwhisk import routes, server
from localwhisk.errors import RouteNotFound


@pytest.fixture
def app(tmp_path):
    return make_app(make_backend(tmp_path))


PAGE = "http://localhost:5173"


def allowing(tmp_path, **changes):
    ctx = make_backend(tmp_path)
    ctx.settings = replace(ctx.settings, **changes)
    return make_app(ctx)


def test_every_api_response_has_a_request_id_and_no_cors_grant(app):
    response = asyncio.run(call(app, "GET", "/api/v1"))
    assert response.status == 200
    assert len(header(response, "x-request-id")) == 32
    assert header(response, "access-control-allow-origin") is None
    assert header(response, "access-control-allow-headers") is None


def test_a_page_from_another_origin_is_refused_with_the_flag_to_allow_it(app):
    response = asyncio.run(
        call(app, "POST", "/api/v1/namespaces/_/actions/x", {}, headers={"origin": PAGE})
    )
    assert response.status == 403
    body = json.loads(response.body)
    assert f"--allow-origin {PAGE}" in body["error"]
    assert body["code"] == header(response, "x-request-id")
    assert header(response, "access-control-allow-origin") is None


def test_an_allowed_origin_gets_the_platforms_grant(tmp_path):
    app = allowing(tmp_path, allowed_origins=(PAGE + "/",))
    preflight = asyncio.run(
        call(
            app,
            "OPTIONS",
            "/api/v1/namespaces/_/actions",
            auth=None,
            headers={"origin": PAGE, "access-control-request-method": "PUT"},
        )
    )
    assert preflight.status == 200
    assert header(preflight, "access-control-allow-origin") == PAGE
    assert header(preflight, "access-control-allow-methods") == "GET, DELETE, POST, PUT, HEAD"
    assert "Authorization" in header(preflight, "access-control-allow-headers")
    assert header(preflight, "vary") == "Origin"
    other = asyncio.run(call(app, "GET", "/api/v1", headers={"origin": "http://localhost:5174"}))
    assert other.status == 403


def test_private_network_preflights_are_refused_even_for_allowed_origins(tmp_path):
    app = allowing(tmp_path, allowed_origins=(PAGE,))
    response = asyncio.run(
        call(
            app,
            "OPTIONS",
            "/api/v1/namespaces/_/actions",
            auth=None,
            headers={"origin": PAGE, "access-control-request-private-network": "true"},
        )
    )
    assert response.status == 403
    assert "Private network access is refused" in json.loads(response.body)["error"]
    assert header(response, "access-control-allow-private-network") is None
    assert header(response, "access-control-allow-origin") is None


def test_the_servers_own_pages_need_no_grant(app):
    response = asyncio.run(
        call(app, "GET", "/api/v1", headers={"host": "127.0.0.1:1", "origin": "http://127.0.0.1:1"})
    )
    assert response.status == 200
    assert header(response, "access-control-allow-origin") is None


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:3233", "localhost:1", "LOCALHOST", "[::1]", "[::1]:3233"]
)
def test_loopback_host_names_are_served(app, host):
    response = asyncio.run(call(app, "GET", "/api/v1", headers={"host": host}))
    assert response.status == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:3233", "127.0.0.1.nip.io", "::1", "[::1", "localhost:x"]
)
def test_any_other_host_is_421_with_the_url_to_use(app, host):
    for path in ("/api/v1", "/api/v1/web/guest/default/x.json", "/"):
        response = asyncio.run(call(app, "GET", path, headers={"host": host}))
        assert response.status == 421, (path, host)
        body = json.loads(response.body)
        assert "http://127.0.0.1:1" in body["error"] and "--allow-host" in body["error"]
        assert body["code"] == header(response, "x-request-id")


def test_allow_host_adds_a_name_and_the_bound_address_counts(tmp_path):
    app = allowing(tmp_path, host="0.0.0.0", allowed_hosts=("My-Laptop.lan", "fe80::1"))
    for host in ("my-laptop.lan:3233", "0.0.0.0:3233", "[fe80::1]:3233", "localhost"):
        response = asyncio.run(call(app, "GET", "/api/v1", headers={"host": host}))
        assert response.status == 200, host
    refused = asyncio.run(call(app, "GET", "/api/v1", headers={"host": "other.lan"}))
    assert refused.status == 421


def test_web_actions_keep_the_platforms_open_cors(app):
    response = asyncio.run(
        call(
            app,
            "OPTIONS",
            "/api/v1/web/guest/default/anything",
            auth=None,
            headers={"origin": "https://evil.example"},
        )
    )
    # Not the origin gate's 403: the web route answers (no such action) with its CORS.
    assert response.status == 404
    assert header(response, "access-control-allow-origin") == "*"


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


ROUTE_PATHS = [
    "/",
    "/api/v1",
    "/api/v1/",
    "/api/v1/api-docs",
    "/api/v1/namespaces",
    "/api/v1/namespaces/",
    "/api/v1/namespaces/_/limits",
    "/api/v1/namespaces//limits",
    "/api/v1/namespaces/_",
    "/api/v1/namespaces/_/actions",
    "/api/v1/namespaces/_/actions/",
    "/api/v1/namespaces/_/actions/p/",
    "/api/v1/namespaces/_/actions/p/a",
    "/api/v1/namespaces/_/actions/p/a/b",
    "/api/v1/namespaces/guest/activations/0123456789abcdef0123456789abcdef",
    "/api/v1/namespaces/_/activations/x/result",
    "/api/v1/namespaces/_/activations/x/logs",
    "/api/v1/namespaces/_/activations/x/other",
    "/api/v1/namespaces/_/actionsx/a",
    "/api/v1/namespaces/_/rules/r",
    "/api/v1/namespaces/_/triggers/t",
    "/api/v1/namespaces/_/packages/p",
    "/api/v1/namespaces/a%2Fb/actions/c",
    "/runtime/namespaces/_/logForwarding",
    "/runtime/namespaces/_/logForwarding/errors",
    "/api/v1/web/whisk.system/apimgmt/createApi",
    "/api/v1/web/whisk.system/apimgmt/getApi.http",
    "/api/v1/web/whisk.system/apimgmt/other",
    "/api/v1/web/guest/default/test.json",
    "/api/v1/web/guest/",
    "/api/v1/web//default/a",
    "/api/v1/web/guest/pkg/a/extra/path",
    "/api/abc/club/books",
    "/api/v1/other",
    "/api/",
    "/elsewhere",
]


@pytest.mark.parametrize("method", routes.METHODS)
def test_route_prefixes_only_skip_patterns_that_cannot_match(method):
    # The prefix checks are a shortcut: the answer is the first pattern that matches.
    for path in ROUTE_PATHS:
        expected = next(
            (r for r in routes.ROUTES if r.method == method and r.pattern.match(path)), None
        )
        for _ in range(2):  # the second time from the memo
            found = routes.match(method, path)
            assert (found[0] if found else None) is expected, (method, path)
            if found:
                assert found[1] == {
                    k: v
                    for k, v in expected.pattern.match(path).groupdict().items()
                    if v is not None
                }


def test_head_answers_like_get(app):
    head = asyncio.run(call(app, "HEAD", "/api/v1/namespaces/_/actions"))
    assert head.status == 200
    assert header(head, "content-length") == "2"  # the GET body "[]"


class StalledClient:
    """A connection whose client stopped reading: body writes never complete until it is
    dropped, and then the server hears that it left."""

    def __init__(self) -> None:
        self.left = asyncio.Event()
        self.dropped = False
        self.started: list[int] = []

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.started.append(message["status"])
        else:
            await self.left.wait()

    async def receive(self):
        await self.left.wait()
        return {"type": "http.disconnect"}

    def drop(self) -> None:
        self.dropped = True
        self.left.set()


def test_a_stream_whose_client_stops_reading_is_dropped_and_its_chunks_closed(caplog):
    closed = []

    async def chunks():
        try:
            while True:
                yield b": keep-alive\n\n"
        finally:
            closed.append(True)

    client = StalledClient()

    async def go():
        await asyncio.wait_for(
            server._stream(client.send, client.receive, chunks(), [], 200, client, stall_s=0.05),
            5,
        )

    with caplog.at_level(logging.WARNING, logger="localwhisk.server"):
        asyncio.run(go())
    assert client.started == [200] and client.dropped and closed == [True]
    assert "read nothing for 0.05 s" in caplog.text
