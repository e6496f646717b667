"""Unpublishing revokes: references into another namespace's package are checked at use.

A real localwhisk with two namespaces. ``guest`` publishes a package holding a
parameter and two actions; ``other`` binds it, puts its action into sequences, and
wires rules to it, directly and through the binding. While the package is published
all of that runs; once ``guest`` unpublishes it every use is refused with the
controller's 403 naming the package checked (apache/openwhisk
``core/controller/.../entitlement/PackageCollection.scala``: a binding's target must
be public or the caller's own at each read; ``Entitlement.scala`` builds the message),
and nothing of ``guest``'s runs or leaks. Republishing makes it all work again, so the
refusal is a check at each call, not something done to the references.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from lw_helpers import (
    GUEST_AUTH,
    NS,
    OTHER_AUTH,
    OTHER_SPEC,
    action_body,
    put,
    session,
    wait_settled,
)
from lw_helpers import start_server as start_localwhisk

pytestmark = pytest.mark.integration

ARGS = "def main(args):\n    return {'args': args}\n"
SECRET = "guest-only-value"


def refused(target: str) -> str:
    return f"The supplied authentication is not authorized to access '{target}'."


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[dict[str, Any]]:
    srv = start_localwhisk(tmp_path_factory.mktemp("revocation"), "--namespace", OTHER_SPEC)
    url = srv.url
    guest, other = session(GUEST_AUTH), session(OTHER_AUTH)
    put(guest, url, f"{NS}/packages/pub", package_body(publish=True))
    put(guest, url, f"{NS}/actions/pub/args", action_body(ARGS))
    put(
        guest,
        url,
        f"{NS}/actions/pub/web",
        action_body(ARGS, annotations=[{"key": "web-export", "value": True}]),
    )
    # Everything below is other's, made while guest's package is public.
    put(other, url, f"{NS}/packages/ob", {"binding": {"namespace": "guest", "name": "pub"}})
    put(other, url, f"{NS}/actions/seq", sequence("/guest/pub/args"))
    put(other, url, f"{NS}/actions/seqb", sequence("/other/ob/args"))
    put(other, url, f"{NS}/actions/outer", sequence("/other/seq"))  # nested: own, then guest's
    put(other, url, f"{NS}/triggers/t", {})
    put(other, url, f"{NS}/rules/direct", {"trigger": "/_/t", "action": "/guest/pub/args"})
    put(other, url, f"{NS}/rules/bound", {"trigger": "/_/t", "action": "/_/ob/args"})
    try:
        yield {"url": url, "guest": guest, "other": other}
    finally:
        guest.close()
        other.close()
        srv.stop()


def package_body(*, publish: bool) -> dict[str, Any]:
    # A package update replaces its parameters wholesale: always send them.
    return {"publish": publish, "parameters": [{"key": "secret", "value": SECRET}]}


def sequence(*components: str) -> dict[str, Any]:
    return {"exec": {"kind": "sequence", "components": list(components)}}


def publish(env: dict[str, Any], value: bool) -> None:
    put(env["guest"], env["url"], f"{NS}/packages/pub", package_body(publish=value))


def invoke(env: dict[str, Any], name: str) -> Any:
    return env["other"].post(
        f"{env['url']}{NS}/actions/{name}?blocking=true&result=true", json={"n": 1}, timeout=60
    )


def fire_logs(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Fire other's trigger: each rule's log entry, by rule name."""
    other, url = env["other"], env["url"]
    r = other.post(f"{url}{NS}/triggers/t", json={"n": 2}, timeout=60)
    assert r.status_code == 202, r.text
    record = other.get(f"{url}{NS}/activations/{r.json()['activationId']}", timeout=60)
    assert record.status_code == 200, record.text  # durable before the id was returned
    entries = [json.loads(line) for line in record.json()["logs"]]
    # The actions the rules started run on after the trigger's record: wait for their
    # records, so no later test counts an activation of this one.
    started = {e["activationId"]: e["rule"] for e in entries if "activationId" in e}
    wait_settled(url, started, timeout=60, auth=OTHER_AUTH)
    return {entry["rule"]: entry for entry in entries}


def assert_refused(response: Any, target: str) -> None:
    assert response.status_code == 403, (response.status_code, response.text[:300])
    assert response.json()["error"] == refused(target)
    assert SECRET not in response.text


def test_while_published_every_reference_works(env):
    publish(env, True)
    for name in ("ob/args", "seq", "seqb", "outer"):
        r = invoke(env, name)
        assert r.status_code == 200, (name, r.status_code, r.text[:300])
        assert r.json()["args"]["secret"] == SECRET  # the package's parameter reaches it
    r = env["other"].get(f"{env['url']}{NS}/actions/ob/args", timeout=60)
    assert r.status_code == 200 and r.json()["name"] == "args"
    r = env["other"].get(f"{env['url']}/api/v1/web/other/ob/web.json", timeout=60)
    assert r.status_code == 200 and r.json()["args"]["secret"] == SECRET
    logs = fire_logs(env)
    assert logs["other/direct"]["success"] is True and logs["other/bound"]["success"] is True


def test_unpublished_invoke_through_a_binding_is_refused(env):
    publish(env, False)
    assert_refused(invoke(env, "ob/args"), "other/ob")


def test_unpublished_reads_through_a_binding_are_refused(env):
    publish(env, False)
    base = f"{env['url']}{NS}"
    assert_refused(env["other"].get(f"{base}/actions/ob/args", timeout=60), "other/ob")
    assert_refused(env["other"].get(f"{base}/packages/ob", timeout=60), "other/ob")
    assert_refused(env["other"].get(f"{base}/actions/ob/", timeout=60), "other/ob")


def test_unpublished_sequence_components_are_refused(env):
    publish(env, False)
    assert_refused(invoke(env, "seq"), "guest/pub")
    assert_refused(invoke(env, "seqb"), "other/ob")


def test_unpublished_component_of_a_nested_sequence_stops_it(env):
    """The outer sequence is other's own; the inner one's component is checked when it runs."""
    publish(env, False)
    r = invoke(env, "outer")
    assert r.status_code == 502, (r.status_code, r.text[:300])
    assert r.json() == {"error": refused("guest/pub")}


def test_unpublished_rules_do_not_run_their_action(env):
    publish(env, False)
    before = activation_count(env)
    logs = fire_logs(env)
    for rule, target in (("other/direct", "guest/pub"), ("other/bound", "other/ob")):
        entry = logs[rule]
        assert entry["success"] is False and entry["statusCode"] == 1, entry
        assert entry["error"] == refused(target) and "activationId" not in entry
    # Only the trigger's own activation was recorded: no action ran in other's name.
    assert activation_count(env) == before + 1


def activation_count(env: dict[str, Any]) -> int:
    r = env["other"].get(f"{env['url']}{NS}/activations?count=true", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["activations"]


def test_unpublished_web_action_through_a_binding_is_refused(env):
    publish(env, False)
    r = env["other"].get(f"{env['url']}/api/v1/web/other/ob/web.json", timeout=60)
    assert_refused(r, "guest/pub")


def test_the_owner_still_uses_its_unpublished_package(env):
    publish(env, False)
    r = env["guest"].post(
        f"{env['url']}{NS}/actions/pub/args?blocking=true&result=true", json={}, timeout=60
    )
    assert r.status_code == 200 and r.json()["args"]["secret"] == SECRET


def test_republishing_restores_every_reference(env):
    publish(env, True)
    for name in ("ob/args", "seq", "seqb", "outer"):
        assert invoke(env, name).status_code == 200, name
    logs = fire_logs(env)
    assert logs["other/direct"]["success"] is True and logs["other/bound"]["success"] is True
