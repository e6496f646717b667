"""Follow activation ids: wait for one to end; follow a trigger activation to its rules' actions.

Reads only, through the client's read verbs. Time and sleeping are injected so
tests never wait. Never prints: progress goes to a callback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from deploy.errors import DeployError

Progress = Callable[[str], None]


class WaitTimeout(DeployError):
    """The activation did not appear or end in time (exit 1: the server did not answer)."""


def is_done(record: dict[str, Any]) -> bool:
    """Finished action records carry ``end``; trigger activations never do but are final."""
    if record.get("end"):
        return True
    status = (record.get("response") or {}).get("status")
    return bool(status) and status != "running"


def wait_for(
    client: Any,
    activation_id: str,
    timeout: float,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Poll with backoff (0.2 s doubling to 2 s) until the activation exists and has ended."""
    deadline = clock() + timeout
    delay = 0.2
    while True:
        record = client.activation(activation_id)
        if record is not None and is_done(record):
            return record
        remaining = deadline - clock()
        if remaining <= 0:
            state = "has not ended" if record is not None else "does not exist yet"
            raise WaitTimeout(
                f"activation {activation_id} {state} after {timeout:g} s; "
                f"try again later: activation wait {activation_id} --timeout <seconds>"
            )
        if progress:
            progress(f"waiting for activation {activation_id} ({remaining:.0f} s left)")
        sleep(min(delay, remaining))
        delay = min(delay * 2, 2.0)


def rule_outcomes(trigger_record: dict[str, Any]) -> list[dict[str, Any]]:
    """The trigger activation's logs: one JSON string per rule, as the controller writes them
    (apache/openwhisk ``core/controller/.../controller/Triggers.scala``)."""
    out = []
    for line in trigger_record.get("logs") or []:
        try:
            entry = json.loads(line)
        except (TypeError, ValueError):
            continue
        if isinstance(entry, dict) and "rule" in entry:
            out.append(entry)
    return out


def follow_fire(
    client: Any,
    trigger_activation: str,
    timeout: float,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """For each rule the trigger fired: its action activation, waited for, with its result."""
    start = clock()
    record = wait_for(
        client, trigger_activation, timeout, sleep=sleep, clock=clock, progress=progress
    )
    results = []
    for entry in rule_outcomes(record):
        item: dict[str, Any] = {
            "rule": entry.get("rule"),
            "action": entry.get("action"),
            "activationId": entry.get("activationId"),
        }
        if not entry.get("activationId"):
            item["error"] = entry.get("error", "the rule did not start its action")
            results.append(item)
            continue
        left = max(0.0, timeout - (clock() - start))
        activation = wait_for(
            client, entry["activationId"], left, sleep=sleep, clock=clock, progress=progress
        )
        response = activation.get("response") or {}
        item.update(
            status=response.get("status"),
            success=response.get("success"),
            result=response.get("result"),
        )
        results.append(item)
    return results
