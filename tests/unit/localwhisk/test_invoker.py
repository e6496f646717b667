"""Invoking: arguments, the /run context, blocking windows, shutdown, sequences, fires."""

from __future__ import annotations

import asyncio
import json

import pytest
from fakes import FakeRunner, make_backend, now_ms, outcome

from localwhisk.config import Limits
from localwhisk.errors import RateThrottled, ReservedParameters
from localwhisk.models import APPLICATION_ERROR, SUCCESS, Action, Package, Trigger
from localwhisk.platform.auth import Identity
from localwhisk.platform.firing import fire
from localwhisk.platform.invoker import STOPPED
from localwhisk.platform.resolver import resolve_action
from localwhisk.runtime.contract import RunOutcome
from whiskfacts.guest import GUEST_KEY, GUEST_UUID

GUEST = Identity("guest", GUEST_UUID, GUEST_KEY)


def code_action(name: str, namespace: str = "guest", **fields) -> Action:
    fields.setdefault(
        "exec", {"kind": "python:3.11", "code": "def main(a): return a", "binary": False}
    )
    fields.setdefault("limits", {"timeout": 1000, "memory": 256, "logs": 10, "concurrency": 1})
    return Action(namespace, name, updated=1, **fields)


def test_arguments_merge_package_under_action_under_payload(tmp_path):
    runner = FakeRunner()
    backend = make_backend(tmp_path, runner)
    backend.store.put(
        Package(
            "guest", "pkg", parameters=[{"key": "a", "value": "pkg"}, {"key": "b", "value": "pkg"}]
        )
    )
    backend.store.put(
        code_action(
            "act",
            "guest/pkg",
            parameters=[
                {"key": "b", "value": "act"},
                {"key": "c", "value": "act"},
                {"key": "SECRET", "value": 7, "init": True},
            ],
        )
    )

    async def go():
        resolved = resolve_action(backend.store, "guest", "pkg", "act", caller="guest")
        return await backend.invoker.invoke(
            GUEST, resolved, {"c": "body"}, blocking=True, wait_ms=5000, request_id="tid"
        )

    done = asyncio.run(go())
    assert done.activation is not None and done.activation.status == SUCCESS
    job = runner.jobs[0]
    assert job.params == {"a": "pkg", "b": "act", "c": "body"}
    assert job.code.init_env == {"SECRET": "7"}
    assert job.code.action == "/guest/pkg/act"
    assert done.activation.entity_key == "pkg/act"
    assert {"key": "path", "value": "guest/pkg/act"} in done.activation.annotations


def test_the_api_key_is_sent_only_when_the_action_asks_for_it(tmp_path):
    runner = FakeRunner()
    backend = make_backend(tmp_path, runner)
    backend.store.put(
        code_action("plain", annotations=[{"key": "provide-api-key", "value": False}])
    )
    backend.store.put(code_action("keyed", annotations=[{"key": "provide-api-key", "value": True}]))

    async def go():
        for name in ("plain", "keyed"):
            resolved = resolve_action(backend.store, "guest", None, name, caller="guest")
            await backend.invoker.invoke(
                GUEST, resolved, {}, blocking=True, wait_ms=5000, request_id="tid"
            )

    asyncio.run(go())
    plain, keyed = runner.jobs
    assert "api_key" not in plain.context
    assert keyed.context["api_key"] == f"{GUEST_UUID}:{GUEST_KEY}"
    assert keyed.context["transaction_id"] == "tid"
    assert keyed.context["action_name"] == "/guest/keyed"
    # Deadline = send time + timeout, as a string of epoch ms; it lies ahead of "now".
    assert 0 < int(keyed.context["deadline"]) - now_ms() <= 1000
    assert keyed.timeout_ms == 1000


def test_final_parameters_cannot_be_overridden(tmp_path):
    backend = make_backend(tmp_path)
    backend.store.put(
        code_action(
            "fixed",
            parameters=[{"key": "p", "value": 1}],
            annotations=[{"key": "final", "value": True}],
        )
    )
    resolved = resolve_action(backend.store, "guest", None, "fixed", caller="guest")

    async def go():
        await backend.invoker.invoke(
            GUEST, resolved, {"p": 2}, blocking=True, wait_ms=100, request_id="t"
        )

    with pytest.raises(ReservedParameters):
        asyncio.run(go())


def test_a_blocking_wait_that_expires_leaves_the_activation_running(tmp_path):
    runner = FakeRunner()
    backend = make_backend(tmp_path, runner)
    backend.store.put(code_action("slow"))

    async def go():
        runner.gate = asyncio.Event()
        resolved = resolve_action(backend.store, "guest", None, "slow", caller="guest")
        first = await backend.invoker.invoke(
            GUEST, resolved, {}, blocking=True, wait_ms=20, request_id="t"
        )
        assert first.activation is None
        stored = backend.store.get_activation(first.activation_id)
        assert stored is not None and stored.running
        runner.gate.set()
        for _ in range(100):
            stored = backend.store.get_activation(first.activation_id)
            if stored is not None and not stored.running:
                return stored
            await asyncio.sleep(0.01)  # yield to the background task, bounded
        raise AssertionError("activation never finished")

    finished = asyncio.run(go())
    assert finished.status == SUCCESS


def test_shutdown_records_running_activations_as_failed(tmp_path):
    runner = FakeRunner()
    backend = make_backend(tmp_path, runner)
    backend.store.put(code_action("stuck"))

    async def go():
        runner.gate = asyncio.Event()  # never released
        resolved = resolve_action(backend.store, "guest", None, "stuck", caller="guest")
        started = await backend.invoker.invoke(
            GUEST, resolved, {}, blocking=False, wait_ms=0, request_id="t"
        )
        await asyncio.sleep(0)
        await backend.invoker.shutdown(grace_s=1)
        return started.activation_id

    activation_id = asyncio.run(go())
    act = backend.store.get_activation(activation_id)
    assert act is not None and not act.running
    assert act.status == "whisk internal error" and act.result == {"error": STOPPED}


def test_sequences_chain_results_and_link_components(tmp_path):
    backend = make_backend(tmp_path, FakeRunner())
    backend.store.put(code_action("one"))
    backend.store.put(code_action("two", parameters=[{"key": "added", "value": True}]))
    backend.store.put(
        Action(
            "guest",
            "seq",
            exec={"kind": "sequence", "components": ["/guest/one", "/guest/two"]},
            limits={},
            updated=1,
        )
    )

    async def go():
        resolved = resolve_action(backend.store, "guest", None, "seq", caller="guest")
        return await backend.invoker.invoke(
            GUEST, resolved, {"x": 1}, blocking=True, wait_ms=5000, request_id="t"
        )

    done = asyncio.run(go())
    act = done.activation
    assert act is not None and act.result == {"x": 1, "added": True}
    assert len(act.logs) == 2
    component = backend.store.get_activation(act.logs[1])
    assert component is not None and component.cause == act.activation_id
    assert {"key": "causedBy", "value": "sequence"} in component.annotations
    assert {"key": "topmost", "value": True} in act.annotations


def test_an_array_result_goes_on_as_the_array_itself(tmp_path):
    """As the controller passes it on (SequenceActions.invokeNextAction): not wrapped,
    and without the next component's parameters, which only merge into objects."""

    def respond(job):
        now = now_ms()
        result = job.params if isinstance(job.params, list) else ["b", "a"]
        return RunOutcome(SUCCESS, result, [], now, now + 1)

    runner = FakeRunner(respond)
    backend = make_backend(tmp_path, runner)
    backend.store.put(code_action("split"))
    backend.store.put(code_action("sort", parameters=[{"key": "added", "value": True}]))
    backend.store.put(
        Action(
            "guest",
            "seq",
            exec={"kind": "sequence", "components": ["/guest/split", "/guest/sort"]},
            limits={},
            updated=1,
        )
    )

    async def go():
        resolved = resolve_action(backend.store, "guest", None, "seq", caller="guest")
        return await backend.invoker.invoke(
            GUEST, resolved, {"payload": "b a"}, blocking=True, wait_ms=5000, request_id="t"
        )

    act = asyncio.run(go()).activation
    assert [job.params for job in runner.jobs] == [{"payload": "b a"}, ["b", "a"]]
    assert act is not None and act.status == SUCCESS and act.result == ["b", "a"]


def test_a_failing_component_stops_the_sequence(tmp_path):
    runner = FakeRunner(outcome(APPLICATION_ERROR, {"error": "bad"}))
    backend = make_backend(tmp_path, runner)
    backend.store.put(code_action("one"))
    backend.store.put(code_action("two"))
    backend.store.put(
        Action(
            "guest",
            "seq",
            exec={"kind": "sequence", "components": ["/guest/one", "/guest/two"]},
            limits={},
            updated=1,
        )
    )

    async def go():
        resolved = resolve_action(backend.store, "guest", None, "seq", caller="guest")
        return await backend.invoker.invoke(
            GUEST, resolved, {}, blocking=True, wait_ms=5000, request_id="t"
        )

    act = asyncio.run(go()).activation
    assert act is not None and act.status == APPLICATION_ERROR and act.result == {"error": "bad"}
    assert len(runner.jobs) == 1


def test_fire_starts_active_rules_and_logs_one_json_string_each(tmp_path):
    runner = FakeRunner()
    backend = make_backend(tmp_path, runner)
    backend.store.put(code_action("hello"))
    trigger = Trigger(
        "guest",
        "events",
        parameters=[{"key": "t", "value": 1}],
        rules={
            "guest/on": {"action": {"path": "guest", "name": "hello"}, "status": "active"},
            "guest/off": {"action": {"path": "guest", "name": "hello"}, "status": "inactive"},
            "guest/dangling": {"action": {"path": "guest", "name": "gone"}, "status": "active"},
        },
    )

    async def go():
        activation_id = await fire(backend.invoker, GUEST, trigger, {"p": 2}, "tid")
        await asyncio.gather(*list(backend.invoker._tasks))
        return activation_id

    activation_id = asyncio.run(go())
    act = backend.store.get_activation(activation_id)
    assert act is not None and act.end == 0 and act.result == {"p": 2}
    ok, off, missing = (json.loads(line) for line in act.logs)
    assert list(ok) == ["statusCode", "success", "activationId", "rule", "action"]
    assert off == {
        "statusCode": 1,
        "success": False,
        "error": "Rule 'guest/off' is inactive, action 'guest/hello' was not activated.",
        "rule": "guest/off",
        "action": "guest/hello",
    }
    assert ok["statusCode"] == 0 and ok["rule"] == "guest/on" and ok["action"] == "guest/hello"
    assert missing == {
        "statusCode": 1,
        "success": False,
        "error": "The requested resource does not exist.",
        "rule": "guest/dangling",
        "action": "guest/gone",
    }
    assert runner.jobs[0].params == {"t": 1, "p": 2}


def test_fire_without_active_rules_records_nothing(tmp_path):
    backend = make_backend(tmp_path)
    assert asyncio.run(fire(backend.invoker, GUEST, Trigger("guest", "quiet"), {}, "t")) is None
    assert backend.store.list_activations("guest") == []


def test_invocations_are_throttled_when_switched_on(tmp_path):
    backend = make_backend(tmp_path, limits=Limits(invocations_per_minute=1))
    backend.store.put(code_action("hello"))
    resolved = resolve_action(backend.store, "guest", None, "hello", caller="guest")

    async def go():
        await backend.invoker.invoke(
            GUEST, resolved, {}, blocking=True, wait_ms=1000, request_id="t"
        )
        await backend.invoker.invoke(
            GUEST, resolved, {}, blocking=True, wait_ms=1000, request_id="t"
        )

    with pytest.raises(RateThrottled):
        asyncio.run(go())


def _on_disk(tmp_path, activation_id: str):
    from localwhisk.storage.store import Store

    other = Store(tmp_path / "db.sqlite")  # a second connection sees only what is committed
    try:
        return other.get_activation(activation_id)
    finally:
        other.close()


def test_a_blocking_result_is_on_disk_when_the_caller_gets_it(tmp_path):
    backend = make_backend(tmp_path, FakeRunner())
    backend.store.put(code_action("quick"))

    async def go():
        resolved = resolve_action(backend.store, "guest", None, "quick", caller="guest")
        return await backend.invoker.invoke(
            GUEST, resolved, {"x": 1}, blocking=True, wait_ms=5000, request_id="t"
        )

    done = asyncio.run(go())
    assert done.activation is not None
    stored = _on_disk(tmp_path, done.activation_id)
    assert stored is not None and not stored.running and stored.result == done.activation.result


def test_a_blocking_caller_cancelled_after_the_result_still_leaves_the_record(tmp_path):
    runner = FakeRunner()
    backend = make_backend(tmp_path, runner)
    backend.store.put(code_action("quick"))

    async def go():
        runner.gate = asyncio.Event()
        resolved = resolve_action(backend.store, "guest", None, "quick", caller="guest")
        call = asyncio.ensure_future(
            backend.invoker.invoke(GUEST, resolved, {}, blocking=True, wait_ms=5000, request_id="t")
        )
        for _ in range(100):  # until the activation is running (bounded)
            if backend.invoker._running:
                break
            await asyncio.sleep(0.01)
        (activation_id,) = backend.invoker._running
        runner.gate.set()
        for _ in range(100):  # until it finished, while its caller has not resumed yet
            if not backend.invoker._running:
                break
            await asyncio.sleep(0)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # Nobody calls durable() for it now: it must still be written behind, unprompted.
        for _ in range(200):
            stored = _on_disk(tmp_path, activation_id)
            if stored is not None and not stored.running:
                return stored
            await asyncio.sleep(0.01)
        return None

    stored = asyncio.run(go())
    assert stored is not None and not stored.running
