"""Hostile HTTP against a real localwhisk (issue #5).

Property-based (hypothesis, derandomized): requests built from the vendored OpenAPI
contract's paths, with hostile path segments, query values, bodies, content types
and credentials, never get a 500 and never take the server down; error answers keep
the platform's ``{"error", "code"}`` shape. Then the fixed cases: a declared 50 MB
body is refused with 413 before it is sent, malformed JSON is 400, illegal names
(``..``, an encoded ``/``, control characters) are 400, and slow clients trickling
headers or a body do not hold up anyone else.

These hand-written strategies aim at what a schema-driven generator does not try
(illegal names, wrong content types, broken credentials, slow clients); the
schema-driven contract fuzz (schemathesis) is ``test_lw_contract_fuzz.py``.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lw_helpers import (
    ECHO,
    GUEST_AUTH,
    NS,
    ContractError,
    action_body,
    load_spec,
    put,
    session,
    start_server,
    template_for,
    validate_response,
)

pytestmark = pytest.mark.integration

AUTH = "Basic " + base64.b64encode(":".join(GUEST_AUTH).encode()).decode()
COLLECTIONS = ("actions", "packages", "triggers", "rules")
ILLEGAL = ("..", "a%2Fb", "%2F", "a%00b", "%0A", "a%0Db", "a%09b", "%7F", "%20lead", "x" * 300)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[object]:
    srv = start_server(tmp_path_factory.mktemp("hostile"))
    s = session()
    put(s, srv.url, f"{NS}/actions/hx-echo", action_body(ECHO))
    put(
        s,
        srv.url,
        f"{NS}/actions/hx-web",
        action_body(ECHO, annotations=[{"key": "web-export", "value": True}]),
    )
    put(s, srv.url, f"{NS}/packages/hx-pkg", {})
    put(s, srv.url, f"{NS}/triggers/hx-trg", {})
    s.close()
    try:
        yield srv
    finally:
        srv.stop()


def hostport(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1"
    return parts.hostname, int(parts.port or 80)


def send(url: str, method: str, path: str, body: bytes | None, headers: dict[str, str]):
    host, port = hostport(url)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# -- strategies from the contract ------------------------------------------------------

TEMPLATES = sorted(
    (method.upper(), path)
    for path, ops in load_spec()["paths"].items()
    for method in ops
    if method in {"get", "put", "post", "delete"}
)
QUERY_NAMES = (
    "limit", "skip", "count", "code", "overwrite", "blocking", "result", "timeout",
    "public", "name", "since", "upto", "docs", "force",
)  # fmt: skip
KNOWN = ("hx-echo", "hx-web", "hx-pkg", "hx-trg", "_", "guest", "default", "json")

segment = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(ILLEGAL),
    st.text(min_size=0, max_size=40).map(lambda t: quote(t, safe="")),
    st.text(alphabet="abc.-_@& ", min_size=1, max_size=12).map(lambda t: quote(t, safe="")),
)
query_value = st.one_of(
    st.sampled_from(["true", "false", "0", "-1", "201", "60001", "2147483648", "", "yes", "NaN"]),
    st.integers().map(str),
    st.text(max_size=20),
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
entity_body = st.fixed_dictionaries(
    {},
    optional={
        "exec": st.one_of(
            json_value,
            st.fixed_dictionaries(
                {"kind": st.sampled_from(["python:3.11", "python:3", "nodejs:20", "blackbox", "sequence", ""])},
                optional={
                    "code": st.one_of(st.just(ECHO), st.text(max_size=30)),
                    "main": json_value,
                    "components": json_value,
                    "image": json_value,
                },
            ),
        ),
        "parameters": st.one_of(json_value, st.lists(st.fixed_dictionaries({"key": st.text(max_size=5), "value": json_value}), max_size=3)),
        "annotations": st.one_of(json_value, st.lists(st.fixed_dictionaries({"key": st.sampled_from(["web-export", "final", "raw-http", "x"]), "value": json_value}), max_size=3)),
        "limits": st.one_of(json_value, st.fixed_dictionaries({}, optional={"timeout": st.integers(-1, 400000), "memory": st.integers(-1, 5000), "logs": st.integers(-1, 20), "concurrency": st.integers(-1, 3)})),
        "trigger": st.one_of(json_value, st.sampled_from(["/_/hx-trg", "hx-trg", "/other/x", ""])),
        "action": st.one_of(json_value, st.sampled_from(["/_/hx-echo", "hx-echo", "/_/hx-pkg/nope"])),
        "status": st.one_of(json_value, st.sampled_from(["active", "inactive"])),
        "binding": json_value,
        "publish": json_value,
        "version": json_value,
    },
)  # fmt: skip
body = st.one_of(
    st.none(),
    entity_body.map(lambda b: json.dumps(b).encode()),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"{", b'{"a":', b"\xff\xfe", b"[1,2", b"nul", b'{"a":1}garbage']),
)
content_type = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)  # fmt: skip
credentials = st.sampled_from(
    [AUTH, AUTH, AUTH, "", "Basic !!!", "Basic " + base64.b64encode(b"x:y").decode(), "Bearer x"]
)


@st.composite
def hostile_request(draw):
    method, template = draw(st.sampled_from(TEMPLATES))
    path = "/api/v1" + template
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        path = path[:start] + draw(segment) + path[end + 1 :]
    pairs = draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES), query_value), max_size=4))
    if pairs:
        path += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)
    headers = {}
    auth = draw(credentials)
    if auth:
        headers["Authorization"] = auth
    payload = draw(body) if method in ("PUT", "POST") else None
    kind = draw(content_type)
    if kind:
        headers["Content-Type"] = kind
    return method, template, path, payload, headers


# -- bodies over the limit ----------------------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{NS}/actions/hx-echo?blocking=true"),  # invoke: 1 MB payload limit
        ("POST", f"{NS}/triggers/hx-trg"),
        ("PUT", f"{NS}/actions/hx-big?overwrite=true"),  # entities: the 48 MB code limit
        ("POST", "/api/v1/web/guest/default/hx-web.json"),
    ],
)
def test_declared_oversized_body_is_413_before_it_is_sent(server, method, path):
    host, port = hostport(server.url)
    with socket.create_connection((host, port), timeout=30) as sock:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {FIFTY_MB}\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"a": "' + b"x" * 4096)  # a little of the body only
        sock.settimeout(30)  # bounded: the answer must come without the other 50 MB
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]


def test_chunked_oversized_invoke_is_413(server):
    def chunks():
        for _ in range(3):
            yield b" " * (600 * 1024)  # 1.8 MB in all, no Content-Length

    s = session()
    r = s.post(
        f"{server.url}{NS}/actions/hx-echo",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    s.close()
    assert r.status_code == 413
    assert r.json()["error"].startswith("Request larger than allowed:")


# -- malformed JSON and illegal names ------------------------------------------------------

MALFORMED = [b"{", b'{"exec": ', b"[1,", b"\xff", b'{"a": 1} trailing']


@pytest.mark.parametrize("payload", MALFORMED)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"{NS}/actions/hx-new?overwrite=true"),
        ("POST", f"{NS}/actions/hx-echo?blocking=true"),
        ("PUT", f"{NS}/packages/hx-newpkg"),
        ("PUT", f"{NS}/triggers/hx-newtrg"),
        ("POST", f"{NS}/triggers/hx-trg"),
        ("PUT", f"{NS}/rules/hx-newrule"),
        ("POST", f"{NS}/rules/hx-newrule"),
    ],
)
def test_malformed_json_is_400(server, method, path, payload):
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    status, _, data = send(server.url, method, path, payload, headers)
    assert status == 400, (status, data[:200])
    assert set(json.loads(data)) == {"error", "code"}


# Packages have no POST route (405 whatever the name), so that pair is left out.
ENTITY_ROUTES = [
    (method, collection)
    for collection in COLLECTIONS
    for method in ("GET", "PUT", "DELETE", "POST")
    if (collection, method) != ("packages", "POST")
]


@pytest.mark.parametrize("name", ILLEGAL)
@pytest.mark.parametrize(("method", "collection"), ENTITY_ROUTES)
def test_illegal_names_are_400(server, collection, method, name):
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    payload = b"{}" if method in ("PUT", "POST") else None
    status, _, data = send(server.url, method, f"{NS}/{collection}/{name}", payload, headers)
    assert status == 400, (status, data[:200])
    assert json.loads(data)["error"] == "The name of the entity contains illegal characters."


@pytest.mark.parametrize("name", ILLEGAL)
def test_illegal_package_segment_is_400(server, name):
    headers = {"Authorization": AUTH}
    status, _, _ = send(server.url, "GET", f"{NS}/actions/{name}/hx-echo", None, headers)
    assert status == 400


# -- slow clients ---------------------------------------------------------------------------


def test_slow_clients_do_not_block_others(server):
    """Twenty connections trickle headers or a body; a normal client is served meanwhile."""
    host, port = hostport(server.url)
    stop = threading.Event()
    slow: list[socket.socket] = []
    for i in range(20):
        sock = socket.create_connection((host, port), timeout=30)
        if i % 2:
            sock.sendall(b"GET /api/v1 HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        else:
            sock.sendall(
                f"POST {NS}/actions/hx-echo?blocking=true HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: {AUTH}\r\nContent-Type: application/json\r\n"
                f"Content-Length: 1000\r\n\r\n{{".encode()
            )  # a body that arrives a byte at a time
        slow.append(sock)

    def trickle() -> None:
        while not stop.is_set():
            for sock in slow:
                try:
                    sock.sendall(b"X-A: b\r\n" if slow.index(sock) % 2 else b" ")
                except OSError:
                    pass
            stop.wait(0.05)  # the trickle's pace, not a wait for a condition

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        s = session()
        for n in range(20):
            assert s.get(server.url + "/api/v1", timeout=30).status_code == 200
            r = s.post(
                f"{server.url}{NS}/actions/hx-echo?blocking=true&result=true",
                json={"n": n},
                timeout=30,
            )
            assert r.status_code == 200 and r.json() == {"n": n}
        s.close()
    finally:
        stop.set()
        trickler.join(timeout=30)
        for sock in slow:
            sock.close()
    assert server.process.poll() is None


# -- the fuzzing last: it may delete or overwrite the fixed entities the cases above use


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,  # the same examples every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=hostile_request())
def test_contract_fuzz_never_gets_a_500(server, request):
    method, template, path, payload, headers = request
    status, answer_headers, data = send(server.url, method, path, payload, headers)
    invoking = method == "POST" and "/actions/" in path or "/web/" in path
    assert status < 500 or (status == 502 and invoking), (method, path, payload, status, data[:300])
    assert "x-request-id" in {k.lower() for k in answer_headers}
    if 400 <= status < 500 and "/web/" not in path and data:
        error = json.loads(data)
        assert set(error) == {"error", "code"}, error
    if 200 <= status < 300 and "/web/" not in path and data:
        # A success must also have the documented shape (the contract, not just "no 500").
        answered = answered_template(path)
        if answered is not None:
            validate_response(method, "/api/v1" + answered, status, json.loads(data))


def answered_template(path: str) -> str | None:
    """The spec path the server actually served (a drawn segment may be empty or ``_``)."""
    concrete = path.split("?", 1)[0]
    try:
        template = template_for(concrete.rstrip("/"))
    except ContractError:
        return None
    if concrete.endswith("/") and template.endswith("/{actionName}"):
        return "/namespaces/{namespace}/actions"  # ``actions/{pkg}/``: the package's list
    return template


def test_server_survived_the_fuzzing(server):
    s = session()
    assert s.get(server.url + "/api/v1", timeout=30).status_code == 200
    put(s, server.url, f"{NS}/actions/hx-echo", action_body(ECHO))  # the fuzz may delete it
    r = s.post(
        f"{server.url}{NS}/actions/hx-echo?blocking=true&result=true", json={"n": 1}, timeout=60
    )
    assert r.status_code == 200 and r.json() == {"n": 1}
    assert server.process.poll() is None
    s.close()
