"""Tenant isolation on a real localwhisk with two namespaces (issue #5).

For every operation of the vendored contract under ``/namespaces/{namespace}``, the
second namespace's key gets 403 on the first namespace's path and 404 through ``_``
for the first's entity names and activation ids, and nothing of the first changes.
Cross-namespace references (rules, sequences, bindings of a private package) are
refused. Web actions run as their owner whoever calls. The ``require-whisk-auth``
secret and the API key are compared with ``hmac.compare_digest`` (checked by spying
on it, not by timing).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

import pytest
from lw_helpers import (
    ECHO,
    GUEST_AUTH,
    NS,
    OTHER_AUTH,
    OTHER_SPEC,
    action_body,
    load_spec,
    put,
    session,
    start_server,
)

pytestmark = pytest.mark.integration

NAMES = {
    "actionName": "iso-echo",
    "packageName": "iso-pkg",
    "triggerName": "iso-trg",
    "ruleName": "iso-rule",
}


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[dict]:
    srv = start_server(tmp_path_factory.mktemp("isolation"), "--namespace", OTHER_SPEC)
    s = session(GUEST_AUTH)
    url = srv.url
    put(s, url, f"{NS}/actions/iso-echo", action_body(ECHO))
    put(s, url, f"{NS}/packages/iso-pkg", {"parameters": [{"key": "secret", "value": "guest"}]})
    put(s, url, f"{NS}/actions/iso-pkg/iso-echo", action_body(ECHO))
    put(
        s,
        url,
        f"{NS}/actions/iso-web",
        action_body(
            "import os\ndef main(args):\n    return {'ns': os.environ['__OW_NAMESPACE']}\n",
            annotations=[{"key": "web-export", "value": True}],
        ),
    )
    put(s, url, f"{NS}/triggers/iso-trg", {})
    put(s, url, f"{NS}/rules/iso-rule", {"trigger": "/_/iso-trg", "action": "/_/iso-echo"})
    r = s.post(f"{url}{NS}/actions/iso-echo?blocking=true", json={"n": 1}, timeout=60)
    assert r.status_code == 200
    activation = r.json()["activationId"]
    snapshot = guest_view(s, url, activation)
    try:
        yield {"url": url, "activation": activation, "snapshot": snapshot, "guest": s}
    finally:
        s.close()
        srv.stop()


def guest_view(s, url: str, activation: str) -> dict:
    """Everything of guest's that the other tenant must not be able to change."""
    view = {}
    for path in (
        "actions/iso-echo",
        "actions/iso-pkg/iso-echo",
        "packages/iso-pkg",
        "triggers/iso-trg",
        "rules/iso-rule",
        f"activations/{activation}",
    ):
        r = s.get(f"{url}{NS}/{path}", timeout=60)
        assert r.status_code == 200, path
        view[path] = r.json()
    return view


def operations() -> list[tuple[str, str]]:
    spec = load_spec()
    return sorted(
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if path.startswith("/namespaces/{namespace}") and method in {"get", "put", "post", "delete"}
    )


def fill(template: str, namespace: str, activation: str) -> str:
    path = "/api/v1" + template.replace("{namespace}", namespace)
    for key, value in {**NAMES, "activationid": activation}.items():
        path = path.replace("{" + key + "}", value)
    return path


def body_for(method: str, template: str) -> dict:
    if method == "POST" and "/rules/" in template:
        return {"status": "active"}
    if method != "PUT":
        return {}
    if "/actions/" in template:
        return action_body("def main(args):\n    return {'owned': 'other'}\n")
    if "/rules/" in template:
        return {"trigger": "/_/iso-trg", "action": "/_/iso-echo"}
    return {}


@pytest.mark.parametrize(("method", "template"), operations())
def test_other_key_on_the_first_namespace_is_403(env, method, template):
    other = session(OTHER_AUTH)
    path = fill(template, "guest", env["activation"])
    r = other.request(method, env["url"] + path, json=body_for(method, template), timeout=60)
    other.close()
    assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
    assert r.json()["error"] == (
        "The supplied authentication is not authorized to access this resource."
    )


@pytest.mark.parametrize(("method", "template"), operations())
def test_other_key_through_underscore_never_reaches_the_first(env, method, template):
    """``_`` is the caller's own namespace: guest's names and ids are simply not there."""
    other = session(OTHER_AUTH)
    path = fill(template, "_", env["activation"])
    query = {"overwrite": "true"} if method == "PUT" else {}
    r = other.request(
        method, env["url"] + path, json=body_for(method, template), params=query, timeout=60
    )
    try:
        if method == "PUT":
            # Creates in the caller's own namespace (a rule is refused: the caller has
            # no such trigger, a packaged action no such package) — never guest's: the snapshot check at the end proves it.
            assert r.status_code in (200, 400, 404), (path, r.status_code, r.text[:200])
            if r.status_code == 200:
                assert r.json()["namespace"].split("/")[0] == "other"
        elif template.endswith(("/actions", "/packages", "/triggers", "/rules", "/activations")):
            assert r.status_code == 200
            assert all(item["namespace"].split("/")[0] == "other" for item in r.json())
        elif template.endswith("/limits"):
            assert r.status_code == 200
        else:
            assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
    finally:
        # Clean up whatever was created in the other namespace, so the next case starts empty.
        if method == "PUT" and r.status_code == 200:
            other.delete(env["url"] + path, timeout=60)
        other.close()


def test_other_lists_hold_nothing_of_the_first(env):
    other = session(OTHER_AUTH)
    try:
        for collection in ("actions", "packages", "triggers", "rules", "activations"):
            r = other.get(f"{env['url']}{NS}/{collection}", timeout=60)
            assert r.status_code == 200
            assert all(item["namespace"].split("/")[0] == "other" for item in r.json())
        names = other.get(f"{env['url']}/api/v1/namespaces", timeout=60).json()
        assert names == ["other"]
    finally:
        other.close()


@pytest.mark.parametrize(
    ("collection", "name", "body"),
    [
        ("rules", "x-rule", {"trigger": "/guest/iso-trg", "action": "/_/mine"}),
        ("rules", "x-rule2", {"trigger": "/_/mytrg", "action": "/guest/iso-echo"}),
        ("actions", "x-seq", {"exec": {"kind": "sequence", "components": ["/guest/iso-echo"]}}),
        ("packages", "x-bind", {"binding": {"namespace": "guest", "name": "iso-pkg"}}),
    ],
)
def test_references_into_the_first_namespace_are_refused(env, collection, name, body):
    other = session(OTHER_AUTH)
    url = env["url"]
    try:
        put(other, url, f"{NS}/actions/mine", action_body(ECHO))
        put(other, url, f"{NS}/triggers/mytrg", {})
        r = other.put(f"{url}{NS}/{collection}/{name}", json=body, timeout=60)
        assert r.status_code in (403, 404), (r.status_code, r.text[:300])
        assert other.get(f"{url}{NS}/{collection}/{name}", timeout=60).status_code == 404
    finally:
        other.close()


def test_a_published_package_of_the_first_namespace_may_be_used(env):
    """The refusal above is entitlement, not a blanket ban: public packages stay usable."""
    url, guest = env["url"], env["guest"]
    put(guest, url, f"{NS}/packages/iso-pub", {"publish": True})
    put(guest, url, f"{NS}/actions/iso-pub/iso-echo", action_body(ECHO))
    other = session(OTHER_AUTH)
    try:
        body = {"exec": {"kind": "sequence", "components": ["/guest/iso-pub/iso-echo"]}}
        assert other.put(f"{url}{NS}/actions/x-pubseq", json=body, timeout=60).status_code == 200
        r = other.post(f"{url}{NS}/actions/x-pubseq?blocking=true&result=true", json={"n": 7})
        assert r.status_code == 200 and r.json() == {"n": 7}
        assert other.delete(f"{url}{NS}/actions/x-pubseq", timeout=60).status_code == 200
    finally:
        other.close()
        guest.delete(f"{url}{NS}/actions/iso-pub/iso-echo", timeout=60)
        guest.delete(f"{url}{NS}/packages/iso-pub", timeout=60)


def test_web_actions_run_as_their_owner(env):
    url = env["url"]
    for auth in (OTHER_AUTH, None, GUEST_AUTH):
        s = session(auth)
        r = s.get(f"{url}/api/v1/web/guest/default/iso-web.json", timeout=60)
        s.close()
        assert r.status_code == 200 and r.json() == {"ns": "guest"}
        record = env["guest"].get(
            f"{url}{NS}/activations/{r.headers['x-openwhisk-activation-id']}", timeout=60
        )
        assert record.status_code == 200
        assert record.json()["namespace"] == "guest" and record.json()["subject"] == "guest"
    other = session(OTHER_AUTH)
    assert other.get(f"{url}{NS}/activations", params={"name": "iso-web"}, timeout=60).json() == []
    other.close()


def test_nothing_of_the_first_namespace_changed(env):
    # Runs after every case above (pytest keeps file order): none of them changed guest.
    assert guest_view(env["guest"], env["url"], env["activation"]) == env["snapshot"]


def test_secrets_are_compared_in_constant_time(monkeypatch):
    """Both credential checks go through hmac.compare_digest (no ``==`` on secrets)."""
    from localwhisk.api import webactions
    from localwhisk.config import Namespace
    from localwhisk.platform import auth

    calls = []
    real = hmac.compare_digest  # the module object is shared: keep the original

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webactions.hmac, "compare_digest", spy)
    assert webactions.check_whisk_auth("s3cret", "s3cret", False) is True
    assert webactions.check_whisk_auth("s3cret", "s3creX", False) is False
    assert webactions.check_whisk_auth(42, "42", False) is True
    assert len(calls) == 3
    calls.clear()
    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    import base64

    authenticator = auth.Authenticator([Namespace("guest", *GUEST_AUTH)])
    token = base64.b64encode(":".join(GUEST_AUTH).encode()).decode()
    assert authenticator.identify("Basic " + token) is not None
    wrong = base64.b64encode(f"{GUEST_AUTH[0]}:{'x' * 64}".encode()).decode()
    assert authenticator.identify("Basic " + wrong) is None
    assert len(calls) == 2


def test_default_bind_is_loopback_and_remote_needs_a_flag_and_warns(monkeypatch, tmp_path, capsys):
    """127.0.0.1 unless told otherwise; another address needs --allow-remote and prints
    that there is no TLS. ``serve`` is stubbed: nothing is served on the wider address."""
    import localwhisk.service
    from localwhisk.__main__ import build_parser, main

    assert build_parser({}).parse_args([]).host == "127.0.0.1"
    served = []
    monkeypatch.setattr(
        localwhisk.service, "serve", lambda settings, sock, url: served.append(sock)
    )
    data = str(tmp_path / "data")
    assert main(["--host", "0.0.0.0", "--port", "0", "--data", data]) == 2
    assert "--allow-remote" in capsys.readouterr().err and not served
    monkeypatch.setenv("LOCALWHISK_HOST", "0.0.0.0")  # the environment is no way around it
    assert main(["--port", "0", "--data", data]) == 2
    assert not served
    assert main(["--allow-remote", "--port", "0", "--data", data]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "without TLS" in err
    assert served and served[0].getsockname()[0] == "0.0.0.0"
    served[0].close()
    monkeypatch.delenv("LOCALWHISK_HOST")
    assert main(["--port", "0", "--data", data]) == 0
    assert "without TLS" not in capsys.readouterr().err
    assert served[-1].getsockname()[0] == "127.0.0.1"
    served[-1].close()
