"""fetch_state: a no-op redeploy costs a handful of list requests; changed entities one GET each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from plan_builders import ART_W, manifest, on_server
from responses import matchers

from deploy.http.client import OpenWhiskClient
from deploy.http.sessions import requests_session
from deploy.models import ActionSpec, Limits, Op
from deploy.plan import build_plan, desired_entities
from deploy.settings import Settings
from deploy.state import fetch_state

KEY = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:" + "k" * 64
NS = "https://ow.example/api/v1/namespaces/guest"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def summary(doc: dict) -> dict:
    """What a list returns: no parameters, exec reduced to binary (the controller's
    ``WhiskActionsApi.list`` in apache/openwhisk ``core/controller/.../controller/Actions.scala``)."""
    out = {k: v for k, v in doc.items() if k != "parameters"}
    if "exec" in out:
        out["exec"] = {"binary": out["exec"].get("binary", False)}
    return out


def two_hundred_actions() -> tuple[list, list]:
    actions = tuple(ActionSpec(None, f"a{i:03}", "python:3.11") for i in range(200))
    m = manifest(actions=actions, triggers=(), rules=(), file=Path("manifest.yaml"))
    desired = desired_entities(m, {a.path: ART_W for a in actions}, "guest")
    return desired, [summary(on_server(e).body) for e in desired]


def test_noop_redeploy_of_200_actions_takes_at_most_10_requests(
    rsps: responses.RequestsMock,
) -> None:
    desired, docs = two_hundred_actions()
    page = [matchers.query_param_matcher({"limit": "200", "skip": "0"})]
    rsps.get(f"{NS}/packages", json=[], match=page)
    rsps.get(f"{NS}/actions", json=docs, match=page)
    rsps.get(
        f"{NS}/actions",
        json=[],
        match=[matchers.query_param_matcher({"limit": "200", "skip": "200"})],
    )
    rsps.get(f"{NS}/triggers", json=[], match=page)
    rsps.get(f"{NS}/rules", json=[], match=page)
    client = OpenWhiskClient(
        Settings("https://ow.example", KEY, "guest", "flags"),
        session=requests_session("https://ow.example"),  # under `responses`
    )
    plan = build_plan(desired, fetch_state(client, desired), "openwhisk-async")
    assert plan.is_empty and len(plan.changes) == 200
    assert client.request_count <= 10


def test_only_changed_entities_are_fetched_in_full(rsps: responses.RequestsMock) -> None:
    desired, docs = two_hundred_actions()
    slower = manifest(
        actions=(ActionSpec(None, "a007", "python:3.11", limits=Limits(timeout=9000)),),
        triggers=(),
        rules=(),
    )
    [changed] = desired_entities(slower, {"a007": ART_W}, "guest")
    full = on_server(changed).body
    docs[7] = summary(full)
    rsps.get(f"{NS}/packages", json=[])
    rsps.get(f"{NS}/actions", json=docs)
    rsps.get(f"{NS}/actions", json=[])
    rsps.get(
        f"{NS}/actions/a007", json=full, match=[matchers.query_param_matcher({"code": "false"})]
    )
    rsps.get(f"{NS}/triggers", json=[])
    rsps.get(f"{NS}/rules", json=[])
    client = OpenWhiskClient(
        Settings("https://ow.example", KEY, "guest", "flags"),
        session=requests_session("https://ow.example"),  # under `responses`
    )
    plan = build_plan(desired, fetch_state(client, desired), "openwhisk-async")
    [update] = [c for c in plan.changes if c.op is not Op.NOOP]
    assert update.entity.name == "a007" and "timeout 9000 → 60000" in update.reasons


def test_binding_targets_asks_once_per_target_and_reads_a_refusal_as_unreadable(
    rsps: responses.RequestsMock,
) -> None:
    from deploy.models import Entity, Kind
    from deploy.state import binding_targets

    def binding(name: str, ns: str, pkg: str) -> Entity:
        return Entity(Kind.PACKAGE, name, {"binding": {"namespace": ns, "name": pkg}}, "d")

    base = "https://ow.example/api/v1/namespaces"
    rsps.get(f"{base}/whisk.system/packages/utils", json={"name": "utils"})
    rsps.get(f"{base}/other/packages/secret", status=403, json={"error": "no", "code": 1})
    desired = [
        binding("a", "whisk.system", "utils"),
        binding("b", "whisk.system", "utils"),
        binding("c", "other", "secret"),
        binding("d", "_", "mine"),
        Entity(Kind.PACKAGE, "mine", {}, "d"),
    ]
    client = OpenWhiskClient(
        Settings("https://ow.example", KEY, "guest", "test"),
        session=requests_session("https://ow.example"),
    )
    assert binding_targets(client, desired, "guest") == frozenset({"whisk.system/utils", "_/mine"})
    assert len(rsps.calls) == 2
