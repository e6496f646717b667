"""Triggers and rules over the real server, and persistence across a restart."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lw_client import ECHO, NS, Client, code, finished, unique, wait_for

pytestmark = pytest.mark.integration


# -- triggers and rules ------------------------------------------------------------


def test_fire_without_rules_is_204(api: Client) -> None:
    trigger = unique("trg")
    assert api.put(f"{NS}/triggers/{trigger}", {}).status_code == 200
    fired = api.post(f"{NS}/triggers/{trigger}", {"x": 1})
    assert fired.status_code == 204 and fired.content == b""


def test_fire_with_a_rule_runs_the_action_and_logs_it(api: Client) -> None:
    trigger, rule, action = unique("trg"), unique("rule"), unique()
    api.put(f"{NS}/actions/{action}", code(ECHO))
    api.put(f"{NS}/triggers/{trigger}", {"parameters": [{"key": "t", "value": 1}]})
    created = api.put(f"{NS}/rules/{rule}", {"trigger": f"/_/{trigger}", "action": f"/_/{action}"})
    assert created.status_code == 200
    assert created.json()["status"] == "active"
    assert created.json()["trigger"] == {"path": "guest", "name": trigger}
    fired = api.post(f"{NS}/triggers/{trigger}", {"p": 2})
    assert fired.status_code == 202
    trigger_act = wait_for(
        lambda: finished(api, fired.json()["activationId"]), what="trigger activation"
    )
    assert "end" not in trigger_act
    entry = json.loads(trigger_act["logs"][0])
    assert entry["statusCode"] == 0 and entry["success"] is True
    assert entry["rule"] == f"guest/{rule}" and entry["action"] == f"guest/{action}"
    action_act = wait_for(
        lambda: finished(api, entry["activationId"]), what="rule's action activation"
    )
    assert action_act["response"]["result"] == {"t": 1, "p": 2}


def test_rules_enable_and_disable(api: Client) -> None:
    trigger, rule, action = unique("trg"), unique("rule"), unique()
    api.put(f"{NS}/actions/{action}", code(ECHO))
    api.put(f"{NS}/triggers/{trigger}", {})
    api.put(f"{NS}/rules/{rule}", {"trigger": f"/_/{trigger}", "action": f"/_/{action}"})
    assert api.post(f"{NS}/rules/{rule}", {"status": "inactive"}).status_code == 200
    assert api.get(f"{NS}/rules/{rule}").json()["status"] == "inactive"
    assert api.post(f"{NS}/triggers/{trigger}").status_code == 204
    assert api.post(f"{NS}/rules/{rule}", {"status": "active"}).status_code == 200
    assert api.get(f"{NS}/rules/{rule}").json()["status"] == "active"
    assert api.post(f"{NS}/rules/{rule}", {"status": "sleepy"}).status_code == 400
    missing = api.put(
        f"{NS}/rules/{unique()}", {"trigger": f"/_/{unique()}", "action": f"/_/{action}"}
    )
    assert missing.status_code == 400 and "does not exist" in missing.json()["error"]
    deleted = api.delete(f"{NS}/rules/{rule}").json()
    assert deleted["status"] == "inactive"
    assert "rules" not in api.get(f"{NS}/triggers/{trigger}").json()


# -- restart -----------------------------------------------------------------------


def test_entities_and_activations_survive_a_restart(
    tmp_path: Any, guest_auth: tuple[str, str], start_localwhisk: Any
) -> None:
    first = start_localwhisk(tmp_path)
    try:
        api = Client(first.url, guest_auth)
        api.put(f"{NS}/actions/kept", code(ECHO))
        activation_id = api.post(f"{NS}/actions/kept", params={"blocking": "true"}).json()[
            "activationId"
        ]
    finally:
        assert first.stop() == 0
    second = start_localwhisk(tmp_path)
    try:
        api = Client(second.url, guest_auth)
        assert api.get(f"{NS}/actions/kept").json()["exec"]["code"] == ECHO
        assert api.get(f"{NS}/activations/{activation_id}").status_code == 200
        assert api.post(
            f"{NS}/actions/kept", {"again": 1}, params={"blocking": "true", "result": "true"}
        ).json() == {"again": 1}
    finally:
        assert second.stop() == 0
