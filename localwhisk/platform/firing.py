"""Firing a trigger: start each active rule's action and record the trigger activation.

The trigger activation's logs hold one JSON string per rule, naming the action's
activation id or the error that stopped it, exactly as OpenWhisk writes them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from localwhisk.errors import ApiError
from localwhisk.models import (
    ACTIVE,
    APPLICATION_ERROR,
    STATUS_CODES,
    SUCCESS,
    WHISK_ERROR,
    Activation,
    Trigger,
    as_dict,
)
from localwhisk.platform.auth import Identity
from localwhisk.platform.invoker import Invoker
from localwhisk.platform.resolver import resolve_fqn


def active_rules(trigger: Trigger) -> list[tuple[str, dict[str, Any]]]:
    return [(name, spec) for name, spec in trigger.rules.items() if spec.get("status") == ACTIVE]


async def fire(
    invoker: Invoker,
    who: Identity,
    trigger: Trigger,
    payload: dict[str, Any],
    request_id: str,
    trace: dict[str, str] | None = None,
) -> str | None:
    """The trigger activation's id, or None when no rule is active (nothing recorded).

    Each rule's activation is traced to the trigger's (for the dashboard; the platform's
    records carry no such link), the trigger's own to ``trace`` (what fired it).
    """
    if not active_rules(trigger):
        return None
    invoker.throttle.check_fire(who.namespace)
    start = invoker.now_ms()
    trigger_id = uuid.uuid4().hex
    args = {**as_dict([p for p in trigger.parameters if "key" in p]), **payload}
    logs = []
    # Every rule of the trigger gets a log entry; inactive ones say why nothing ran
    # (Triggers.scala passes all rules to activateRules once one is active).
    for rule_name, spec in trigger.rules.items():
        target = spec.get("action", {})
        action_path = f"{target.get('path', '')}/{target.get('name', '')}"
        entry: dict[str, Any]
        if spec.get("status") != ACTIVE:
            entry = {
                "statusCode": STATUS_CODES[APPLICATION_ERROR],
                "success": False,
                "error": f"Rule '{rule_name}' is inactive, action '{action_path}' was not activated.",
            }
        else:
            by = {"by": trigger_id, "via": "rule", "rule": rule_name}
            entry = await _start(invoker, who, action_path, args, request_id, by)
        entry.update(rule=rule_name, action=action_path)
        logs.append(json.dumps(entry, separators=(",", ":")))
    act = Activation(
        activation_id=trigger_id,
        namespace=who.namespace,
        name=trigger.name,
        version=trigger.version,
        subject=who.subject,
        start=start,
        end=0,
        result=payload,
        logs=logs,
        entity_key=trigger.name,
        trace={"kind": "trigger", **(trace or {})},
    )
    invoker.store.put_activation(act, defer=True)
    invoker.feed.publish(act)
    await invoker.store.durable()
    return act.activation_id


async def _start(
    invoker: Invoker,
    who: Identity,
    action_path: str,
    args: dict[str, Any],
    request_id: str,
    trace: dict[str, str],
) -> dict[str, Any]:
    """Start one rule's action non-blocking: its log entry without rule/action names."""
    try:
        resolved = resolve_fqn(invoker.store, "/" + action_path, who.namespace)
        started = await invoker.invoke(
            who, resolved, args, blocking=False, wait_ms=0, request_id=request_id, trace=trace
        )
    except ApiError as err:
        # A refusal of the caller's (4xx) counts as the application's error, the server's own as whisk's.
        status = APPLICATION_ERROR if err.status < 500 else WHISK_ERROR
        return {"statusCode": STATUS_CODES[status], "success": False, "error": err.message}
    return {
        "statusCode": STATUS_CODES[SUCCESS],
        "success": True,
        "activationId": started.activation_id,
    }
