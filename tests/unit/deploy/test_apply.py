"""apply_plan: exact wire bodies (responses), level order, stop-on-failure, undeploy, read-back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from plan_builders import desired, manifest, on_server
from responses import matchers

from deploy.apply import ApplyFailed, apply_plan
from deploy.errors import ApplyError, NotFoundError, OpenWhiskError
from deploy.http.client import OpenWhiskClient, with_code
from deploy.http.sessions import requests_session
from deploy.models import ActionSpec, Kind, Limits, Op, PackageSpec
from deploy.plan import build_plan, undeploy_plan
from deploy.settings import Settings

KEY = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:" + "k" * 64
NS = "http://127.0.0.1:3233/api/v1/namespaces/guest"


class FakeClient:
    """Records writes in order; fails the names in ``fail``; answers GETs from what was PUT."""

    def __init__(
        self,
        fail: set[str] = frozenset(),
        gone: set[str] = frozenset(),
        stored: dict[str, Any] | None = None,
    ) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail, self.gone = fail, gone
        self.stored: dict[str, Any] = stored or {}
        self.lock = threading.Lock()

    def put(
        self,
        collection: str,
        name: str,
        body: dict[str, Any],
        overwrite: bool = True,
        artifact: Any = None,
    ) -> dict[str, Any]:
        assert overwrite is True
        with self.lock:
            self.calls.append(("PUT", collection, name))
        if name in self.fail:
            raise OpenWhiskError("PUT", f"/{collection}/{name}", 400, "bad thing")
        self.stored.setdefault(name, body)
        return body

    def delete(self, collection: str, name: str) -> bool:
        with self.lock:
            self.calls.append(("DELETE", collection, name))
        if name in self.fail:
            raise OpenWhiskError("DELETE", f"/{collection}/{name}", 500, "server broke")
        return name not in self.gone

    def get(self, collection: str, name: str, **params: Any) -> dict[str, Any] | None:
        return self.stored.get(name)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_deploy_sends_exact_bodies_in_level_order(rsps: responses.RequestsMock) -> None:
    want = desired()
    plan = build_plan(want, [], "openwhisk-async")
    registry = responses.registries.OrderedRegistry
    with responses.RequestsMock(assert_all_requests_are_fired=True, registry=registry) as ordered:
        overwrite = matchers.query_param_matcher({"overwrite": "true"})
        worker, web, trigger, rule = (
            next(e for e in want if e.name == n)
            for n in ("my-worker", "test", "my-worker-trigger", "async-rule")
        )
        assert worker.body["limits"]["timeout"] == 120000
        ordered.put(
            f"{NS}/actions/my-worker",
            json={},
            match=[
                overwrite,
                matchers.json_params_matcher(with_code(worker.body, worker.artifact)),
            ],
        )
        ordered.put(
            f"{NS}/actions/test",
            json={},
            match=[overwrite, matchers.json_params_matcher(with_code(web.body, web.artifact))],
        )
        ordered.put(
            f"{NS}/triggers/my-worker-trigger",
            json={},
            match=[overwrite, matchers.json_params_matcher(trigger.body)],
        )
        ordered.put(
            f"{NS}/rules/async-rule",
            json={},
            match=[
                overwrite,
                matchers.json_params_matcher(
                    {
                        **rule.body,
                        "trigger": "/guest/my-worker-trigger",
                        "action": "/guest/my-worker",
                    }
                ),
            ],
        )
        client = OpenWhiskClient(
            Settings("http://127.0.0.1:3233", KEY, "guest", "local default"),
            session=requests_session("http://127.0.0.1:3233"),  # under `responses`
        )
        report = apply_plan(plan, client, parallelism=1, read_back=False)
    assert [c.entity.name for c in report.applied] == [
        "my-worker",
        "test",
        "my-worker-trigger",
        "async-rule",
    ]


def test_levels_never_overlap_even_in_parallel() -> None:
    m = manifest(packages=(PackageSpec("p1"), PackageSpec("p2")))
    fake = FakeClient()
    apply_plan(build_plan(desired(m), [], "openwhisk-async"), fake, parallelism=8)
    kinds = [c[1] for c in fake.calls]
    assert kinds == sorted(kinds, key=["packages", "actions", "triggers", "rules"].index)


def test_unchanged_entities_are_not_sent() -> None:
    current = [on_server(e) for e in desired()]
    fake = FakeClient()
    report = apply_plan(build_plan(desired(), current, "openwhisk-async"), fake)
    assert fake.calls == [] and report.applied == []


def test_failure_stops_after_its_level_and_lists_what_was_not_attempted() -> None:
    fake = FakeClient(fail={"test"})
    with pytest.raises(ApplyError) as err:
        apply_plan(build_plan(desired(), [], "openwhisk-async"), fake)
    puts = {name for _, _, name in fake.calls}
    assert puts == {"my-worker", "test"}, "the level finishes, the next ones are not attempted"
    message = str(err.value)
    assert "1 applied, 1 failed, 2 not attempted" in message
    assert "failed: create action test" in message and "bad thing" in message
    assert "not attempted: create trigger my-worker-trigger" in message
    assert "not attempted: create rule async-rule" in message
    assert (
        isinstance(err.value, ApplyFailed)
        and err.value.report.applied[0].entity.name == "my-worker"
    )


def test_rerun_after_failure_converges() -> None:
    fake = FakeClient(fail={"test"})
    with pytest.raises(ApplyError):
        apply_plan(build_plan(desired(), [], "openwhisk-async"), fake)
    current = [on_server(e) for e in desired() if e.name == "my-worker"]
    fixed = FakeClient()
    apply_plan(build_plan(desired(), current, "openwhisk-async"), fixed)
    assert [name for _, _, name in fixed.calls] == ["test", "my-worker-trigger", "async-rule"]


def test_undeploy_goes_on_past_failures_and_accepts_already_gone() -> None:
    current = [on_server(e) for e in desired()]
    fake = FakeClient(fail={"my-worker-trigger"}, gone={"async-rule"})
    events: list[tuple[str, str]] = []
    with pytest.raises(ApplyError) as err:
        apply_plan(
            undeploy_plan(current, "openwhisk-async"),
            fake,
            keep_going=True,
            on_event=lambda c, status, detail: events.append((c.entity.name, status)),
        )
    assert [name for _, _, name in fake.calls][0] == "async-rule"
    assert {name for _, _, name in fake.calls} == {
        "async-rule",
        "my-worker-trigger",
        "my-worker",
        "test",
    }
    assert ("async-rule", "gone") in events
    assert "failed: delete trigger my-worker-trigger" in str(err.value)
    assert "undeploy did not finish: 3 applied, 1 failed, 0 not attempted" in str(err.value)


def test_read_back_catches_a_server_that_dropped_the_timeout() -> None:
    stored = {"my-worker": {"limits": {"timeout": 60000}, "annotations": []}}
    fake = FakeClient(stored=stored)
    with pytest.raises(ApplyError) as err:
        apply_plan(build_plan(desired(), [], "openwhisk-async"), fake)
    assert "my-worker: timeout is 60000, expected 120000" in str(err.value)


def test_read_back_returns_the_written_actions() -> None:
    report = apply_plan(build_plan(desired(), [], "openwhisk-async"), FakeClient())
    assert sorted(doc["limits"]["timeout"] for doc in report.readback) == [60000, 120000]


def test_update_sends_delannotations_and_empty_parameters(rsps: responses.RequestsMock) -> None:
    old = manifest(
        actions=(
            ActionSpec(
                None,
                "my-worker",
                "python:3.11",
                limits=Limits(timeout=120000),
                annotations={"description": "x"},
                inputs={"gone": 1},
            ),
            manifest().actions[1],
        )
    )
    current = [on_server(e) for e in desired(old)]
    plan = build_plan(desired(), current, "openwhisk-async")
    [change] = [c for c in plan.changes if c.op is Op.UPDATE]
    rsps.put(
        f"{NS}/actions/my-worker",
        json={},
        match=[
            matchers.query_param_matcher({"overwrite": "true"}),
            matchers.json_params_matcher(with_code(change.entity.body, change.entity.artifact)),
        ],
    )
    body = change.entity.body
    assert body["delAnnotations"] == ["description"] and body["parameters"] == []
    client = OpenWhiskClient(
        Settings("http://127.0.0.1:3233", KEY, "guest", "local default"),
        session=requests_session("http://127.0.0.1:3233"),  # under `responses`
    )
    apply_plan(plan, client, read_back=False)
    assert change.entity.kind is Kind.ACTION


def test_not_found_on_put_is_a_failure_not_a_skip() -> None:
    class Missing(FakeClient):
        def put(
            self,
            collection: str,
            name: str,
            body: dict[str, Any],
            overwrite: bool = True,
            artifact: Any = None,
        ) -> dict[str, Any]:
            raise NotFoundError("PUT", name, 404, "The requested resource does not exist.")

    with pytest.raises(ApplyError):
        apply_plan(build_plan(desired(), [], "openwhisk-async"), Missing())
