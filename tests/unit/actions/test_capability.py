"""Status URLs: the signed id verifies only where it was issued; the URL is the caller's own."""

from __future__ import annotations

import pytest

KEY = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret-half"
ID = "0123456789abcdef0123456789abcdef"
START = 1764300000000
# The same vector is asserted by tests/unit/actions/nodejs/web_action.test.js: the two
# bundles sign alike, so a rule change in one language fails in both.
VECTOR = (
    (KEY, "guest", "async-nodejs/my-worker", ID.upper(), START),
    f"{ID}.{START}.oCFb_S5KFbD7nEadaqA-vg",
)
API = {"__OW_API_HOST": "http://127.0.0.1:3233", "__OW_ACTION_NAME": "/guest/test"}


def test_the_token_is_the_id_the_start_and_a_pinned_signature(capability):
    args, token = VECTOR
    assert capability.issue(*args) == token
    assert capability.verify(token, KEY, "guest", "async-nodejs/my-worker") == (ID, START)


def test_the_key_is_nowhere_in_the_token(capability):
    token = capability.issue(KEY, "guest", "my-worker", ID, START)
    assert KEY.split(":")[1] not in token and KEY.split(":")[0] not in token


@pytest.mark.parametrize(
    "changed",
    [
        {"api_key": KEY + "x"},  # another namespace key, or the key rotated
        {"namespace": "other"},
        {"worker": "async-nodejs/my-worker"},  # the other bundle's status action
    ],
)
def test_a_token_verifies_only_where_it_was_issued(capability, changed):
    token = capability.issue(KEY, "guest", "my-worker", ID, START)
    where = {"api_key": KEY, "namespace": "guest", "worker": "my-worker", **changed}
    assert capability.verify(token, **where) is None


@pytest.mark.parametrize(
    "token",
    [
        ID,  # a bare activation id: no signature
        f"{ID}.{START + 1}.oCFb_S5KFbD7nEadaqA-vg",  # start moved, signature kept
        f"{ID}.{START}.oCFb_S5KFbD7nEadaqA-vh",  # one character of the signature
        f"{ID[:-1]}0.{START}.oCFb_S5KFbD7nEadaqA-vg",  # another activation
        f"{ID}.0{START}.oCFb_S5KFbD7nEadaqA-vg",  # a second spelling of the same start
        f"{ID.upper()}.{START}.oCFb_S5KFbD7nEadaqA-vg",
        "",
        None,
        42,
    ],
)
def test_anything_but_an_issued_token_is_refused(capability, token):
    assert capability.verify(token, KEY, "guest", "async-nodejs/my-worker") is None


@pytest.mark.parametrize(
    ("value", "well_formed"),
    [(f"{ID}.{START}.oCFb_S5KFbD7nEadaqA-vg", True), (ID, True), ("x y", False), ("", False)]
    + [("a" * 201, False), (None, False), (["x"], False), ("<script>", False)],
)
def test_well_formed_is_what_a_status_url_could_carry(capability, value, well_formed):
    assert capability.is_well_formed(value) is well_formed


@pytest.mark.parametrize(
    ("headers", "environ", "base"),
    [
        ({"host": "127.0.0.1:3233"}, API, "http://127.0.0.1:3233"),
        ({"host": "localhost:3233"}, API, "http://localhost:3233"),
        # Adobe's edge: the public host in X-Forwarded-Host, https from the API host
        (
            {"host": "10.0.0.7:8080", "x-forwarded-host": "ns.adobeioruntime.net, edge"},
            {"__OW_API_HOST": "https://adobeioruntime.net"},
            "https://ns.adobeioruntime.net",
        ),
        ({"host": "example.com", "x-forwarded-proto": "https"}, API, "https://example.com"),
        # nginx in front of the controller sends its upstream's name: not reachable
        ({"host": "controllers"}, {"__OW_API_HOST": "https://ow.example"}, "https://ow.example"),
        ({"host": "a b/c"}, API, "http://127.0.0.1:3233"),  # not a host: never in a URL
        ({"host": "[::1]:3233"}, API, "http://[::1]:3233"),
        ({}, {"__OW_API_HOST": "ow.example:443"}, "https://localhost"),
        ({"host": "example.com", "x-forwarded-proto": "gopher"}, API, "http://example.com"),
    ],
)
def test_the_base_is_where_the_caller_reached_the_platform(capability, headers, environ, base):
    assert capability.public_base(headers, environ) == base


def test_a_hostile_host_header_is_answered_at_once(capability):
    for hostile in ("a." * 125 + "!", "a" * 63 + "." + "a" * 63 + "!", "x" * 5000):
        assert capability.public_base({"host": hostile}, API) == "http://127.0.0.1:3233"


@pytest.mark.parametrize(
    ("action_name", "host", "status_action", "url"),
    [
        (
            "/guest/test",
            "127.0.0.1:3233",
            "status",
            "http://127.0.0.1:3233/api/v1/web/guest/default/status",
        ),
        (
            "/guest/async-nodejs/test",
            "127.0.0.1:3233",
            "status",
            "http://127.0.0.1:3233/api/v1/web/guest/async-nodejs/status",
        ),
        (
            "/guest/test",
            "127.0.0.1:3233",
            "jobs/status",
            "http://127.0.0.1:3233/api/v1/web/guest/jobs/status",
        ),
        # Adobe's per-namespace host carries the namespace itself (aio-lib-runtime getActionUrls)
        (
            "/ns-1/pkg/test",
            "ns-1.adobeioruntime.net",
            "status",
            "http://ns-1.adobeioruntime.net/api/v1/web/pkg/status",
        ),
        (
            "/ns/test",
            "adobeioruntime.net",
            "status",
            "http://adobeioruntime.net/api/v1/web/ns/default/status",
        ),
        ("/127/test", "127.0.0.1", "status", "http://127.0.0.1/api/v1/web/127/default/status"),
        (
            "/a@b.c_dev/test",
            "ow.example",
            "status",
            "http://ow.example/api/v1/web/a%40b.c_dev/default/status",
        ),
    ],
)
def test_the_status_url_is_the_starting_actions_sibling(
    capability, action_name, host, status_action, url
):
    environ = {**API, "__OW_ACTION_NAME": action_name}
    got = capability.status_url({"host": host}, environ, status_action, "TOKEN")
    assert got == f"{url}?id=TOKEN"


def test_without_an_action_name_it_uses_the_namespace_and_no_package(capability):
    environ = {"__OW_API_HOST": "http://127.0.0.1:3233", "__OW_NAMESPACE": "guest"}
    got = capability.status_url(None, environ, "status", "T")
    assert got == "http://127.0.0.1:3233/api/v1/web/guest/default/status?id=T"
