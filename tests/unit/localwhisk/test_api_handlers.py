"""Handlers through the in-process ASGI app with a FakeRunner: shapes, statuses, messages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fakes import FakeRunner, call, header, make_app, make_backend, outcome

from localwhisk.models import APPLICATION_ERROR, DEVELOPER_ERROR, WHISK_ERROR

NS = "/api/v1/namespaces/_"
CODE = {"kind": "python:3.11", "code": "def main(a): return a"}


class Harness:
    def __init__(self, tmp_path, runner: FakeRunner | None = None) -> None:
        self.runner = runner or FakeRunner()
        self.backend = make_backend(tmp_path, self.runner)
        self.app = make_app(self.backend)

    def __call__(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        response = asyncio.run(call(self.app, method, path, body, **kw))
        try:
            return response.status, json.loads(response.body) if response.body else None
        except ValueError:
            return response.status, response.body.decode()


@pytest.fixture
def api(tmp_path):
    return Harness(tmp_path)


def test_put_get_delete_action_shapes(api):
    status, created = api(
        "PUT", f"{NS}/actions/hello", {"exec": CODE, "parameters": [{"key": "a", "value": 1}]}
    )
    assert status == 200
    assert list(created) == [
        "namespace",
        "name",
        "version",
        "publish",
        "exec",
        "parameters",
        "limits",
        "annotations",
        "updated",
    ]
    assert created["annotations"] == [
        {"key": "provide-api-key", "value": False},
        {"key": "exec", "value": "python:3.11"},
    ]
    status, listed = api("GET", f"{NS}/actions")
    assert listed == [
        {
            "namespace": "guest",
            "name": "hello",
            "version": "0.0.1",
            "publish": False,
            "annotations": created["annotations"],
            "limits": created["limits"],
            "exec": {"binary": False},
            "updated": created["updated"],
        }
    ]
    assert api("DELETE", f"{NS}/actions/hello") == (200, created)
    assert api("GET", f"{NS}/actions/hello")[0] == 404


def test_explicit_provide_api_key_is_kept_on_create(api):
    _, created = api(
        "PUT",
        f"{NS}/actions/k",
        {"exec": CODE, "annotations": [{"key": "provide-api-key", "value": True}]},
    )
    assert created["annotations"] == [
        {"key": "provide-api-key", "value": True},
        {"key": "exec", "value": "python:3.11"},
    ]


def test_binary_is_recomputed_and_default_kind_resolved(api):
    _, created = api(
        "PUT",
        f"{NS}/actions/zip",
        {"exec": {"kind": "python:default", "code": "UEsDBBQAAAAIAA==", "binary": False}},
    )
    assert created["exec"]["binary"] is True
    assert created["exec"]["kind"] == "python:3.10"


def test_same_name_in_another_collection_conflicts(api):
    api("PUT", f"{NS}/triggers/shared", {})
    status, body = api("PUT", f"{NS}/actions/shared", {"exec": CODE}, query="overwrite=true")
    assert (
        status == 409
        and body["error"] == "Resource by this name exists but is not in this collection."
    )


def test_limit_messages_name_the_field(api):
    status, body = api("PUT", f"{NS}/actions/m", {"exec": CODE, "limits": {"memory": 4096}})
    assert (
        status == 400
        and "memory size 4096 MB exceeds allowed threshold of 2048 MB" in body["error"]
    )
    status, body = api("PUT", f"{NS}/actions/m", {"exec": CODE, "limits": {"logs": 11}})
    assert "log size 11 MB exceeds allowed threshold of 10 MB" in body["error"]


def test_sequences_are_checked_on_put(api):
    api("PUT", f"{NS}/actions/one", {"exec": CODE})
    assert (
        api("PUT", f"{NS}/actions/s", {"exec": {"kind": "sequence", "components": []}})[1]["error"]
        == "No component specified for the sequence."
    )
    assert (
        api("PUT", f"{NS}/actions/s", {"exec": {"kind": "sequence", "components": ["/_/missing"]}})[
            1
        ]["error"]
        == "Sequence component does not exist."
    )
    assert (
        api("PUT", f"{NS}/actions/s", {"exec": {"kind": "sequence", "components": ["/_/s"]}})[1][
            "error"
        ]
        == "Sequence may not refer to itself."
    )
    status, seq = api(
        "PUT", f"{NS}/actions/s", {"exec": {"kind": "sequence", "components": ["/_/one"]}}
    )
    assert status == 200 and seq["parameters"] == [{"key": "_actions", "value": ["/guest/one"]}]


@pytest.mark.parametrize(
    ("status_name", "http_status"),
    [(APPLICATION_ERROR, 502), (DEVELOPER_ERROR, 502), (WHISK_ERROR, 500)],
)
def test_blocking_invoke_status_follows_the_outcome(tmp_path, status_name, http_status):
    api = Harness(tmp_path, FakeRunner(outcome(status_name, {"error": "x"})))
    api("PUT", f"{NS}/actions/f", {"exec": CODE})
    status, body = api("POST", f"{NS}/actions/f", {}, query="blocking=true")
    assert status == http_status
    assert body["response"] == {"status": status_name, "success": False, "result": {"error": "x"}}
    assert api("POST", f"{NS}/actions/f", {}, query="blocking=true&result=true") == (
        http_status,
        {"error": "x"},
    )


def test_invoke_carries_the_activation_id_header(api):
    api("PUT", f"{NS}/actions/h", {"exec": CODE})
    response = asyncio.run(call(api.app, "POST", f"{NS}/actions/h", {"a": 1}))
    assert response.status == 202
    assert (
        header(response, "x-openwhisk-activation-id") == json.loads(response.body)["activationId"]
    )


def test_invoke_body_must_be_an_object(api):
    api("PUT", f"{NS}/actions/h", {"exec": CODE})
    status, body = api("POST", f"{NS}/actions/h", [1, 2])
    assert status == 400 and body["error"].startswith("The request content was malformed:")


def test_actions_inside_a_binding_see_binding_parameters(api):
    api(
        "PUT",
        f"{NS}/packages/lib",
        {"parameters": [{"key": "a", "value": "lib"}, {"key": "b", "value": "lib"}]},
    )
    api("PUT", f"{NS}/actions/lib/act", {"exec": CODE})
    status, binding = api(
        "PUT",
        f"{NS}/packages/mine",
        {
            "binding": {"namespace": "_", "name": "lib"},
            "parameters": [{"key": "b", "value": "mine"}],
        },
    )
    assert status == 200
    assert binding["binding"] == {"namespace": "guest", "name": "lib"}
    assert {"key": "binding", "value": {"namespace": "guest", "name": "lib"}} in binding[
        "annotations"
    ]
    status, result = api("POST", f"{NS}/actions/mine/act", {}, query="blocking=true&result=true")
    assert (status, result) == (200, {"a": "lib", "b": "mine"})
    assert (
        api("PUT", f"{NS}/actions/mine/x", {"exec": CODE})[1]["error"]
        == "Operation not permitted on package binding."
    )
    assert (
        api("PUT", f"{NS}/packages/b2", {"binding": {"name": "mine"}})[1]["error"]
        == "Cannot bind to another package binding."
    )
    assert (
        api("PUT", f"{NS}/packages/b3", {"binding": {"name": "nope"}})[1]["error"]
        == "Binding references a package that does not exist."
    )
    _, listed = api("GET", f"{NS}/packages")
    assert {p["name"]: p["binding"] for p in listed} == {
        "mine": {"namespace": "guest", "name": "lib"},
        "lib": False,
    }


def test_trigger_update_replaces_lists_and_keeps_rules(api):
    api("PUT", f"{NS}/actions/a", {"exec": CODE})
    api(
        "PUT",
        f"{NS}/triggers/t",
        {"parameters": [{"key": "x", "value": 1}], "annotations": [{"key": "y", "value": 2}]},
    )
    api("PUT", f"{NS}/rules/r", {"trigger": "/_/t", "action": "/_/a"})
    status, updated = api("PUT", f"{NS}/triggers/t", {"parameters": []}, query="overwrite=true")
    assert status == 200 and updated["version"] == "0.0.2"
    assert updated["parameters"] == [] and updated["annotations"] == [{"key": "y", "value": 2}]
    assert updated["rules"] == {
        "guest/r": {"action": {"path": "guest", "name": "a"}, "status": "active"}
    }


def test_rule_shapes_and_state_changes(api):
    api("PUT", f"{NS}/actions/a", {"exec": CODE})
    api("PUT", f"{NS}/triggers/t", {})
    status, rule = api(
        "PUT", f"{NS}/rules/r", {"trigger": {"path": "_", "name": "t"}, "action": "a"}
    )
    assert status == 200
    assert list(rule) == [
        "namespace",
        "name",
        "version",
        "publish",
        "annotations",
        "updated",
        "status",
        "trigger",
        "action",
    ]
    assert (
        api("PUT", f"{NS}/rules/r2", {"trigger": "/_/t"})[1]["error"]
        == "rule requires a valid trigger and a valid action"
    )
    _, listed = api("GET", f"{NS}/rules")
    assert "status" not in listed[0]
    assert api("POST", f"{NS}/rules/r", {"status": "inactive"}) == (200, "OK")
    assert api("GET", f"{NS}/rules/r")[1]["status"] == "inactive"
    api("DELETE", f"{NS}/triggers/t")
    status, body = api("POST", f"{NS}/rules/r", {"status": "active"})
    assert status == 404 and body["error"] == "Only rules with existing triggers can be activated"
    assert api("GET", f"{NS}/rules/r")[1]["status"] == "inactive"


def test_activation_get_of_a_running_activation_is_404(tmp_path):
    runner = FakeRunner()
    api = Harness(tmp_path, runner)
    api("PUT", f"{NS}/actions/h", {"exec": CODE})

    async def go():
        runner.gate = asyncio.Event()
        started = await call(api.app, "POST", f"{NS}/actions/h", {})
        activation_id = json.loads(started.body)["activationId"]
        running = await call(api.app, "GET", f"{NS}/activations/{activation_id}")
        runner.gate.set()
        await asyncio.gather(*list(api.backend.invoker._tasks))
        done = await call(api.app, "GET", f"{NS}/activations/{activation_id}")
        return running.status, done.status

    assert asyncio.run(go()) == (404, 200)


def test_namespace_limits_and_root_info(api):
    status, limits = api("GET", f"{NS}/limits")
    assert status == 200
    assert limits["maxActionTimeout"] == 10_800_000 and limits["maxParameterSize"] == "1 MB"
    status, info = api("GET", "/", auth=None)
    assert status == 200
    assert info["limits"]["max_action_memory"] == 2048 * 1024 * 1024
    assert info["limits"]["max_action_code_size"] == 48 * 1024 * 1024
    assert set(info["limits"]) == {
        "actions_per_minute",
        "triggers_per_minute",
        "concurrent_actions",
        "sequence_length",
        "max_action_code_size",
        "default_min_action_duration",
        "default_max_action_duration",
        "default_min_action_memory",
        "default_max_action_memory",
        "default_min_action_logs",
        "default_max_action_logs",
        "min_action_duration",
        "max_action_duration",
        "min_action_memory",
        "max_action_memory",
        "min_action_logs",
        "max_action_logs",
    }
    assert all(
        set(r) == {"kind", "image", "deprecated", "default", "attached", "requireMain"}
        for r in info["runtimes"]["python"]
    )
    assert api("GET", "/api/v1/api-docs", auth=None)[1]["swagger"] == "2.0"


# One put skeleton serves all four resources: each gets the same revision rules.
PUT_BODIES = {
    "actions": {"exec": CODE},
    "packages": {},
    "triggers": {},
    "rules": {"trigger": "/_/t", "action": "/_/a"},
}


def _prepare_rule_targets(api):
    assert api("PUT", f"{NS}/actions/a", {"exec": CODE})[0] == 200
    assert api("PUT", f"{NS}/triggers/t", {})[0] == 200


@pytest.mark.parametrize("collection", list(PUT_BODIES))
def test_every_resource_put_versions_and_publishes_alike(api, collection):
    _prepare_rule_targets(api)
    path, body = f"{NS}/{collection}/e", PUT_BODIES[collection]
    status, created = api("PUT", path, body)
    assert status == 200 and (created["version"], created["publish"]) == ("0.0.1", False)
    status, published = api("PUT", path, {**body, "publish": True}, query="overwrite=true")
    assert status == 200 and (published["version"], published["publish"]) == ("0.0.2", True)
    status, kept = api("PUT", path, {}, query="overwrite=true")  # absent fields keep their value
    assert status == 200 and (kept["version"], kept["publish"]) == ("0.0.3", True)
    status, pinned = api("PUT", path, {"version": "2.0.0"}, query="overwrite=true")
    assert status == 200 and pinned["version"] == "2.0.0"
    status, again = api("PUT", path, body)
    assert status == 409 and again["error"] == "resource already exists"


@pytest.mark.parametrize("collection", list(PUT_BODIES))
def test_every_resource_put_refuses_a_malformed_overwrite_flag(api, collection):
    # The controller parses ?overwrite before it looks for the entity, so a new name is
    # refused too (Pekko's parameter directive rejects the request).
    _prepare_rule_targets(api)
    path = f"{NS}/{collection}/fresh"
    status, body = api("PUT", path, PUT_BODIES[collection], query="overwrite=maybe")
    assert status == 400
    assert body["error"] == (
        "The query parameter 'overwrite' was malformed:\n'maybe' is not a valid Boolean value"
    )
    assert api("GET", path)[0] == 404


@pytest.mark.parametrize("collection", list(PUT_BODIES))
def test_every_resource_refuses_a_name_held_by_another_collection(api, collection):
    _prepare_rule_targets(api)
    other = "triggers" if collection != "triggers" else "packages"
    assert api("PUT", f"{NS}/{other}/taken", PUT_BODIES[other])[0] == 200
    path = f"{NS}/{collection}/taken"
    conflict = "Resource by this name exists but is not in this collection."
    status, body = api("PUT", path, PUT_BODIES[collection], query="overwrite=true")
    assert status == 409 and body["error"] == conflict
    for method in ("GET", "DELETE"):
        status, body = api(method, path)
        assert status == 409 and body["error"] == conflict
