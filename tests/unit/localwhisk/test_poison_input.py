"""Bodies and query values the store could never hold get a plain 400, never a 500.

Each poison goes through the in-process app (FakeRunner) on every route that takes
JSON from a caller: entity PUT, invoke, fire, and a web action's body.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fakes import FakeRunner, call, make_app, make_backend

from localwhisk import codec

NS = "/api/v1/namespaces/_"
CODE = {"kind": "python:3.11", "code": "def main(a): return a"}
PYTHON_INTERNALS = ("codec can't decode", "Exceeds the limit", "sys.set_int_max_str_digits")

DEEP = b'{"d":' + b"[" * 1000 + b"1" + b"]" * 1000 + b"}"
POISONS = {
    "depth 1,000": DEEP,
    "depth 100,000": b'{"d":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "lone surrogate escape": b'{"s":"\\ud800"}',
    "lone surrogate as bytes": b'{"s":"\xed\xa0\x80"}',
    "lone surrogate in a key": b'{"\\udfff":1}',
    "5,000-digit integer": b'{"n":' + b"7" * 5000 + b"}",
    "not UTF-8": b'{"s":"\xff"}',
}


class Api:
    def __init__(self, tmp_path) -> None:
        self.app = make_app(make_backend(tmp_path, FakeRunner()))

    def __call__(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = asyncio.run(call(self.app, method, path, body, **kw))
        return response.status, json.loads(response.body) if response.body else None


@pytest.fixture
def api(tmp_path):
    api = Api(tmp_path)
    assert api("PUT", f"{NS}/actions/echo", {"exec": CODE})[0] == 200
    web = {"exec": CODE, "annotations": [{"key": "web-export", "value": True}]}
    assert api("PUT", f"{NS}/actions/page", web)[0] == 200
    assert api("PUT", f"{NS}/triggers/t", {})[0] == 200
    rule = {"trigger": "/_/t", "action": "/_/echo"}
    assert api("PUT", f"{NS}/rules/r", rule)[0] == 200
    return api


ROUTES = {
    "PUT action": ("PUT", f"{NS}/actions/new", {}),
    "PUT trigger": ("PUT", f"{NS}/triggers/new", {}),
    "invoke": ("POST", f"{NS}/actions/echo", {"query": "blocking=true"}),
    "fire": ("POST", f"{NS}/triggers/t", {}),
    "web action": ("POST", "/api/v1/web/guest/default/page.json", {"auth": None}),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("poison", POISONS)
def test_a_poisoned_body_is_a_plain_400(api, route, poison):
    method, path, kw = ROUTES[route]
    status, body = api(method, path, POISONS[poison], **kw)
    assert status == 400, body
    message = body["error"]
    assert message.startswith("The request content was malformed:\n"), message
    assert not any(internal in message for internal in PYTHON_INTERNALS), message
    # The server goes on: an ordinary invoke still works afterwards.
    status, result = api("POST", f"{NS}/actions/echo", {"ok": 1}, query="blocking=true&result=true")
    assert (status, result) == (200, {"ok": 1})


def test_the_messages_say_what_is_wrong_and_how_to_fix_it(api):
    _, deep = api("POST", f"{NS}/triggers/t", DEEP)
    assert f"more than {codec.MAX_DEPTH} levels deep" in deep["error"]
    _, lone = api("POST", f"{NS}/triggers/t", POISONS["lone surrogate escape"])
    assert "lone UTF-16 surrogate" in lone["error"]
    _, digits = api("POST", f"{NS}/triggers/t", POISONS["5,000-digit integer"])
    assert "5000 digits" in digits["error"] and "send it as a string" in digits["error"]
    _, utf8 = api("POST", f"{NS}/triggers/t", POISONS["not UTF-8"])
    assert "not UTF-8 text (byte 0xff at offset 6)" in utf8["error"]


def test_what_is_storable_is_still_accepted(api):
    at_limit = {"d": json.loads("[" * (codec.MAX_DEPTH - 1) + "]" * (codec.MAX_DEPTH - 1))}
    big = 2**64 * 3
    payload = {"d": at_limit["d"], "big": big, "pair": "\U0001f600"}
    status, result = api("POST", f"{NS}/actions/echo", payload, query="blocking=true&result=true")
    assert status == 200 and result == payload
    status, _ = api("POST", f"{NS}/triggers/t", payload)
    assert status == 202


@pytest.mark.parametrize(
    ("path", "name", "message"),
    [
        (f"{NS}/activations", "skip", "is not a valid 32-bit signed integer value"),
        (f"{NS}/activations", "limit", "is not a valid 32-bit signed integer value"),
        (f"{NS}/actions", "skip", "is not a valid 32-bit signed integer value"),
        (f"{NS}/activations", "since", "Parameter is not a valid value for epoch milliseconds"),
        (f"{NS}/activations", "upto", "Parameter is not a valid value for epoch milliseconds"),
    ],
)
@pytest.mark.parametrize(
    "value", ["18446744073709551616", "9" * 5000, "1_000", "-99999999999999999999"]
)
def test_integers_beyond_their_type_in_the_query_are_a_400(api, path, name, value, message):
    status, body = api("GET", path, query=f"{name}={value}")
    assert status == 400, body
    assert body["error"].startswith(f"The query parameter '{name}' was malformed:\n")
    assert message in body["error"]


def test_in_range_query_integers_still_work(api):
    assert api("GET", f"{NS}/activations", query=f"since={2**63 - 1}")[0] == 200
    assert api("GET", f"{NS}/activations", query=f"skip={2**31 - 1}") == (200, [])
    status, _ = api("POST", f"{NS}/actions/echo", {}, query=f"blocking=true&timeout={2**40}")
    assert status == 400


def test_code_read_on_demand_still_answers_get_put_and_delete_whole(api):
    code = {"kind": "python:3.11", "code": "def main(a):\n    return {'v': 2}\n"}
    assert api("PUT", f"{NS}/actions/c", {"exec": code})[0] == 200
    status, updated = api("PUT", f"{NS}/actions/c", {"parameters": []}, query="overwrite=true")
    assert status == 200 and updated["exec"]["code"] == code["code"]
    assert api("GET", f"{NS}/actions/c")[1]["exec"]["code"] == code["code"]
    assert "code" not in api("GET", f"{NS}/actions/c", query="code=false")[1]["exec"]
    assert api("DELETE", f"{NS}/actions/c")[1]["exec"]["code"] == code["code"]
