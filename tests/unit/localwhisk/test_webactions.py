"""Web-action translation tables: one row per rule of docs/webactions.md as WebActions.scala
implements it (URL, require-whisk-auth, arguments, results, CORS), exact outputs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from localwhisk.api import webactions as w
from localwhisk.errors import MalformedRequest
from localwhisk.models import APPLICATION_ERROR, DEVELOPER_ERROR, SUCCESS, WHISK_ERROR

TID = "tid-1"
JSON = [("Content-Type", "application/json")]
HTML = [("Content-Type", "text/html; charset=UTF-8")]
TEXT = [("Content-Type", "text/plain; charset=UTF-8")]


def err(message: str) -> bytes:
    return json.dumps({"error": message, "code": TID}).encode()


# --- URL -----------------------------------------------------------------------------------------

PATHS = [
    ("default/hello", w.WebTarget(None, "hello", "http", "")),
    ("default/hello.json", w.WebTarget(None, "hello", "json", "")),
    ("demo/hello.html", w.WebTarget("demo", "hello", "html", "")),
    ("demo/hello.svg", w.WebTarget("demo", "hello", "svg", "")),
    ("demo/hello.text", w.WebTarget("demo", "hello", "text", "")),
    ("demo/hello.http", w.WebTarget("demo", "hello", "http", "")),
    ("demo/hello.json/a/b", w.WebTarget("demo", "hello", "json", "/a/b")),
    ("demo/hello/", w.WebTarget("demo", "hello", "http", "/")),
    ("demo/hello.xml", w.WebTarget("demo", "hello.xml", "http", "")),  # unknown ext: part of name
    ("demo/my action.json", w.WebTarget("demo", "my action", "json", "")),
    ("hello", None),  # package segment is mandatory
    ("demo/.json", None),  # nothing left for the name
    ("de$mo/hello", None),
    ("demo/-hello", None),
]


@pytest.mark.parametrize(("rest", "expected"), PATHS, ids=[p[0] for p in PATHS])
def test_split_web_path(rest: str, expected: w.WebTarget | None) -> None:
    assert w.split_web_path(rest) == expected


# --- require-whisk-auth --------------------------------------------------------------------

AUTH = [
    ("absent", w.MISSING, None, False, True),
    ("true with credentials", True, None, True, True),
    ("true without credentials", True, "anything", False, False),
    ("string matches header", "s3cret", "s3cret", False, True),
    ("string differs", "s3cret", "s3creT", False, False),
    ("string, header missing", "s3cret", None, True, False),
    ("number compared as its string", 4242, "4242", False, True),
    ("number differs", 4242, "4243", False, False),
    ("float keeps its decimal", 1.5, "1.5", False, True),
    ("false is no check", False, None, False, True),
    ("object rejects", {"a": 1}, "{'a': 1}", True, False),
    ("null rejects", None, None, True, False),
]


@pytest.mark.parametrize(
    ("annotation", "header", "valid", "allowed"), [a[1:] for a in AUTH], ids=[a[0] for a in AUTH]
)
def test_check_whisk_auth(annotation: Any, header: str | None, valid: bool, allowed: bool) -> None:
    assert w.check_whisk_auth(annotation, header, valid) is allowed


# --- arguments ------------------------------------------------------------------------------

B64 = base64.b64encode


def args(
    *,
    method: str = "GET",
    query: str = "",
    body: bytes = b"",
    content_type: str | None = None,
    raw: bool = False,
    user: str | None = None,
    headers: dict[str, str] | None = None,
) -> w.WebArguments:
    return w.build_arguments(
        method=method,
        headers=headers or {},
        query_string=query,
        body=body,
        content_type=content_type,
        ow_path="/p",
        user=user,
        raw=raw,
    )


def ow(method: str = "get", headers: dict[str, str] | None = None, **more: Any) -> dict[str, Any]:
    return {"__ow_method": method, "__ow_headers": headers or {}, "__ow_path": "/p", **more}


ARGUMENTS = [
    ("no body, no query", {}, ow()),
    (
        "method lower-cased, header names lower-cased, length dropped",
        {"method": "PATCH", "headers": {"X-Custom": "V", "Content-Length": "0"}},
        ow("patch", {"x-custom": "V"}),
    ),
    ("user when credentials were valid", {"user": "guest"}, ow(__ow_user="guest")),
    ("query params as strings", {"query": "a=1&b=&c=x+y"}, ow(a="1", b="", c="x y")),
    ("repeated query param: last wins", {"query": "a=1&a=2"}, ow(a="2")),
    (
        "JSON object merged, body wins over query",
        {"query": "a=q&b=q", "body": b'{"a": 1, "n": null}', "content_type": "application/json"},
        ow(headers={"content-type": "application/json"}, a=1, b="q", n=None),
    ),
    (
        "JSON array -> __ow_body as JSON",
        {"body": b"[1, 2]", "content_type": "application/json"},
        ow(headers={"content-type": "application/json"}, __ow_body=[1, 2]),
    ),
    (
        "JSON scalar -> __ow_body",
        {"body": b'"hi"', "content_type": "application/json"},
        ow(headers={"content-type": "application/json"}, __ow_body="hi"),
    ),
    (
        "+json family parsed too",
        {"body": b'{"k": true}', "content_type": "application/vnd.api+json"},
        ow(headers={"content-type": "application/vnd.api+json"}, k=True),
    ),
    (
        "empty JSON body: nothing",
        {"body": b"", "content_type": "application/json"},
        ow(headers={"content-type": "application/json"}),
    ),
    (
        "form fields merged as strings",
        {"body": b"x=1&y=a+b", "content_type": "application/x-www-form-urlencoded"},
        ow(headers={"content-type": "application/x-www-form-urlencoded"}, x="1", y="a b"),
    ),
    (
        "text -> __ow_body string",
        {"body": "héllo".encode(), "content_type": "text/plain; charset=utf-8"},
        ow(headers={"content-type": "text/plain; charset=utf-8"}, __ow_body="héllo"),
    ),
    (
        "xml is text",
        {"body": b"<a/>", "content_type": "application/xml"},
        ow(headers={"content-type": "application/xml"}, __ow_body="<a/>"),
    ),
    (
        "binary -> base64",
        {"body": b"\x00\xff", "content_type": "image/png"},
        ow(headers={"content-type": "image/png"}, __ow_body="AP8="),
    ),
    (
        "untyped body is octet-stream -> base64",
        {"body": b"abc"},
        ow(headers={"content-type": "application/octet-stream"}, __ow_body="YWJj"),
    ),
    (
        "raw: query string verbatim, no body -> empty string",
        {"raw": True, "query": "a=1&a=2&b=%20"},
        ow(__ow_query="a=1&a=2&b=%20", __ow_body=""),
    ),
    (
        "raw: JSON body stays base64 (legacy)",
        {"raw": True, "body": b'{"a":1}', "content_type": "application/json"},
        ow(
            headers={"content-type": "application/json"},
            __ow_query="",
            __ow_body=B64(b'{"a":1}').decode(),
        ),
    ),
    (
        "raw: text body as text",
        {"raw": True, "body": b"x=1", "content_type": "application/x-www-form-urlencoded"},
        ow(
            headers={"content-type": "application/x-www-form-urlencoded"},
            __ow_query="",
            __ow_body="x=1",
        ),
    ),
    (
        "raw: binary body base64",
        {"raw": True, "body": b"\x01", "content_type": "application/pdf"},
        ow(headers={"content-type": "application/pdf"}, __ow_query="", __ow_body="AQ=="),
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "expected"), [a[1:] for a in ARGUMENTS], ids=[a[0] for a in ARGUMENTS]
)
def test_build_arguments(kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    assert args(**kwargs).params == expected


def test_malformed_json_body_is_a_400() -> None:
    with pytest.raises(MalformedRequest) as caught:
        args(body=b"{nope", content_type="application/json")
    assert caught.value.status == 400
    assert caught.value.message.startswith("The request content was malformed:\n")


COLLISIONS = [
    ("query sets __ow_method", {"query": "__ow_method=post"}, (), {"__ow_method"}),
    (
        "body sets __ow_user",
        {"body": b'{"__ow_user": "x"}', "content_type": "application/json"},
        (),
        {"__ow_user"},
    ),
    ("query sets a final parameter", {"query": "name=x&other=y"}, ("name",), {"name"}),
    (
        "form sets a final parameter",
        {"body": b"name=x", "content_type": "application/x-www-form-urlencoded"},
        ("name",),
        {"name"},
    ),
    ("unrelated keys pass", {"query": "a=1"}, ("name",), set()),
    ("raw actions are never checked", {"raw": True, "query": "__ow_body=x"}, ("name",), set()),
    (
        "a non-object body has no keys",
        {"body": b'["__ow_user"]', "content_type": "application/json"},
        (),
        set(),
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "final", "expected"), [c[1:] for c in COLLISIONS], ids=[c[0] for c in COLLISIONS]
)
def test_reserved_collisions(kwargs: dict[str, Any], final: tuple[str, ...], expected: set[str]):
    assert w.reserved_collisions(args(**kwargs), final) == expected


# --- results -> responses -------------------------------------------------------------------

NOT_HTTP = err("Response is not valid 'message/http'.")

RESULTS = [
    # status handling
    (
        "developer error hides the result",
        "json",
        DEVELOPER_ERROR,
        {"error": "boom"},
        400,
        JSON,
        err(w.ERROR_PROCESSING),
    ),
    (
        "whisk error (timeout) likewise",
        "http",
        WHISK_ERROR,
        {"error": "timed out"},
        400,
        JSON,
        err(w.ERROR_PROCESSING),
    ),
    (
        "application error transcodes result.error",
        "http",
        APPLICATION_ERROR,
        {"error": {"statusCode": 400, "body": "bad"}},
        400,
        HTML,
        b"bad",
    ),
    (
        "application error with .json",
        "json",
        APPLICATION_ERROR,
        {"error": {"why": "x"}},
        200,
        JSON,
        b'{"why":"x"}',
    ),
    (
        "application error without an error field",
        "json",
        APPLICATION_ERROR,
        {"nope": 1},
        404,
        JSON,
        err(w.PROPERTY_NOT_FOUND),
    ),
    # .json
    (
        ".json returns the object verbatim",
        "json",
        SUCCESS,
        {"statusCode": 404, "body": "x"},
        200,
        JSON,
        b'{"statusCode":404,"body":"x"}',
    ),
    (".json array", "json", SUCCESS, [1, "a"], 200, JSON, b'[1,"a"]'),
    (
        ".json scalar is not JSON media",
        "json",
        SUCCESS,
        "text",
        400,
        JSON,
        err("Response is not valid 'application/json'."),
    ),
    # .html / .svg
    (".html from body", "html", SUCCESS, {"body": "<p>hi</p>"}, 200, HTML, b"<p>hi</p>"),
    (".html from html", "html", SUCCESS, {"html": "<b>é</b>"}, 200, HTML, "<b>é</b>".encode()),
    (
        ".html without a string",
        "html",
        SUCCESS,
        {"body": 1},
        400,
        JSON,
        err("Response is not valid 'text/html'."),
    ),
    (
        ".svg from svg",
        "svg",
        SUCCESS,
        {"svg": "<svg/>"},
        200,
        [("Content-Type", "image/svg+xml")],
        b"<svg/>",
    ),
    (".svg missing", "svg", SUCCESS, {}, 400, JSON, err("Response is not valid 'image/svg+xml'.")),
    # .text
    (".text from body", "text", SUCCESS, {"body": "plain"}, 200, TEXT, b"plain"),
    (".text from text", "text", SUCCESS, {"text": 42}, 200, TEXT, b"42"),
    (
        ".text pretty-prints objects, arrays inline",
        "text",
        SUCCESS,
        {"body": {"a": [1, 2], "b": {"c": None}}},
        200,
        TEXT,
        b'{\n  "a": [1, 2],\n  "b": {\n    "c": null\n  }\n}',
    ),
    (".text of a top-level string", "text", SUCCESS, "s", 200, TEXT, b"s"),
    (".text missing property", "text", SUCCESS, {"x": 1}, 404, JSON, err(w.PROPERTY_NOT_FOUND)),
    # .http: shape, status, headers
    (".http needs an object", "http", SUCCESS, [1], 400, JSON, NOT_HTTP),
    (".http without body is 204 empty", "http", SUCCESS, {"msg": "hi"}, 204, [], b""),
    (".http empty string body is 204", "http", SUCCESS, {"body": ""}, 204, [], b""),
    (".http null body is 204", "http", SUCCESS, {"body": None}, 204, [], b""),
    (
        ".http explicit status, no body, Content-Type dropped",
        "http",
        SUCCESS,
        {"statusCode": 200, "headers": {"Content-Type": "text/plain", "X-A": "1"}},
        200,
        [("X-A", "1")],
        b"",
    ),
    (".http string body defaults to text/html", "http", SUCCESS, {"body": "hi"}, 200, HTML, b"hi"),
    (
        ".http numeric-string status",
        "http",
        SUCCESS,
        {"statusCode": "201", "body": "made"},
        201,
        HTML,
        b"made",
    ),
    (
        ".http redirect",
        "http",
        SUCCESS,
        {"statusCode": 302, "headers": {"location": "/x"}},
        302,
        [("location", "/x")],
        b"",
    ),
    (".http non-numeric status", "http", SUCCESS, {"statusCode": "2xx"}, 400, JSON, NOT_HTTP),
    (".http fractional status", "http", SUCCESS, {"statusCode": 200.5}, 400, JSON, NOT_HTTP),
    (".http unknown status code", "http", SUCCESS, {"statusCode": 299}, 400, JSON, NOT_HTTP),
    (".http boolean status", "http", SUCCESS, {"statusCode": True}, 400, JSON, NOT_HTTP),
    (
        ".http header values: number, bool, array repeated",
        "http",
        SUCCESS,
        {"headers": {"X-N": 3, "X-B": False, "Set-Cookie": ["a=1", "b=2"]}, "body": "ok"},
        200,
        [("X-N", "3"), ("X-B", "false"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), *HTML],
        b"ok",
    ),
    (".http object header value", "http", SUCCESS, {"headers": {"X": {}}}, 400, JSON, NOT_HTTP),
    (".http null header value", "http", SUCCESS, {"headers": {"X": None}}, 400, JSON, NOT_HTTP),
    (".http headers not an object", "http", SUCCESS, {"headers": ["X"]}, 400, JSON, NOT_HTTP),
    # .http: body and content types
    (
        ".http binary type: body base64-decoded",
        "http",
        SUCCESS,
        {"headers": {"Content-Type": "image/png"}, "body": B64(b"\x89PNG").decode()},
        200,
        [("Content-Type", "image/png")],
        b"\x89PNG",
    ),
    (
        ".http binary type, body not base64",
        "http",
        SUCCESS,
        {"headers": {"Content-Type": "image/png"}, "body": "not base64!"},
        400,
        JSON,
        err(w.CONTENT_TYPE_MISMATCH),
    ),
    (
        ".http text type keeps the string",
        "http",
        SUCCESS,
        {"headers": {"content-type": "text/plain"}, "body": "aGk="},
        200,
        TEXT,
        b"aGk=",
    ),
    (
        ".http JSON type: base64-looking string decoded (legacy)",
        "http",
        SUCCESS,
        {"headers": {"Content-Type": "application/json"}, "body": B64(b'{"a":1}').decode()},
        200,
        JSON,
        b'{"a":1}',
    ),
    (
        ".http JSON type: plain JSON string kept",
        "http",
        SUCCESS,
        {"headers": {"Content-Type": "application/json"}, "body": '{"a": 1}'},
        200,
        JSON,
        b'{"a": 1}',
    ),
    (
        ".http object body -> application/json",
        "http",
        SUCCESS,
        {"statusCode": 201, "body": {"id": 7}},
        201,
        JSON,
        b'{"id":7}',
    ),
    (".http number body", "http", SUCCESS, {"body": 5}, 200, JSON, b"5"),
    (".http false body", "http", SUCCESS, {"body": False}, 200, JSON, b"false"),
    (
        ".http object body with a +json type is pretty",
        "http",
        SUCCESS,
        {"headers": {"Content-Type": "application/problem+json"}, "body": {"t": 1}},
        200,
        [("Content-Type", "application/problem+json; charset=UTF-8")],
        b'{\n  "t": 1\n}',
    ),
    (
        ".http object body with a non-JSON type",
        "http",
        SUCCESS,
        {"headers": {"Content-Type": "text/html"}, "body": {"t": 1}},
        400,
        JSON,
        err(w.CONTENT_TYPE_MISMATCH),
    ),
    (
        ".http unparseable content type",
        "http",
        SUCCESS,
        {"headers": {"Content-Type": "nonsense"}, "body": "x"},
        400,
        JSON,
        err(w.UNKNOWN_CONTENT_TYPE),
    ),
    (
        ".http body with 204 is dropped",
        "http",
        SUCCESS,
        {"statusCode": 204, "body": "x", "headers": {"X": "y"}},
        204,
        [("X", "y")],
        b"",
    ),
]


@pytest.mark.parametrize(
    ("extension", "status", "result", "code", "headers", "body"),
    [r[1:] for r in RESULTS],
    ids=[r[0] for r in RESULTS],
)
def test_render_result(
    extension: str,
    status: str,
    result: Any,
    code: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    assert w.render_result(extension, status, result, transaction_id=TID) == w.WebResponse(
        code, headers, body
    )


def test_activation_id_header_is_added_to_every_rendered_response() -> None:
    ok = w.render_result("json", SUCCESS, {}, transaction_id=TID, activation_id="a1")
    failed = w.render_result("json", DEVELOPER_ERROR, {}, transaction_id=TID, activation_id="a2")
    assert (ok.status, ok.header("x-openwhisk-activation-id")) == (200, "a1")
    assert (failed.status, failed.header("X-OpenWhisk-Activation-Id")) == (400, "a2")


def test_not_ready_is_202_with_the_activation_id() -> None:
    assert w.not_ready_response(TID, "a1") == w.WebResponse(
        202, [("x-openwhisk-activation-id", "a1"), *JSON], err("Response not yet ready.")
    )


# --- CORS -----------------------------------------------------------------------------------

ORIGIN = ("Access-Control-Allow-Origin", "*")
METHODS = ("Access-Control-Allow-Methods", "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH")

CORS = [
    (
        "defaults",
        {},
        [
            ORIGIN,
            METHODS,
            (
                "Access-Control-Allow-Headers",
                "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent",
            ),
        ],
    ),
    (
        "echoes the preflight's requested headers",
        {"access-control-request-headers": "x-foo, content-type"},
        [ORIGIN, METHODS, ("Access-Control-Allow-Headers", "x-foo, content-type")],
    ),
]


@pytest.mark.parametrize(
    ("request_headers", "expected"), [c[1:] for c in CORS], ids=[c[0] for c in CORS]
)
def test_cors_headers(request_headers: dict[str, str], expected: list[tuple[str, str]]) -> None:
    assert w.cors_headers(request_headers) == expected


def test_options_is_200_empty_with_cors() -> None:
    assert w.options_response({}) == w.WebResponse(200, w.cors_headers({}), b"")
