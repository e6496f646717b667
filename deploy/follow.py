"""Follow activation ids: wait for one to end; follow a trigger activation to its rules' actions.

Reads only, through the client's read verbs. Time and sleeping are injected so
tests never wait. Never prints: progress goes to a callback.

How long to wait, unless told: as long as the action may run. A running activation has no
record (the API answers 404 until it ends), so which action it is cannot be read while it
runs: ``activation wait`` waits the longest time limit among the namespace's actions, and
``fire --wait`` each rule's action's own limit, both plus ``GRACE_S`` for queueing, init
and the record's write. Adobe I/O Runtime lets non-blocking calls run 3 hours
(its system-settings page), so a fixed bound would give up on jobs that are fine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.errors import DeployError, OpenWhiskError

Progress = Callable[[str], None]
GRACE_S = 60.0
FALLBACK_S = 180.0  # no limit could be read: the bound this tool used to have


class WaitTimeout(DeployError):
    """The activation did not appear or end in time (exit 1: the server did not answer)."""


@dataclass(frozen=True)
class Bound:
    """How long to wait, and why that long (said when the wait gives up)."""

    seconds: float
    why: str


def given(seconds: float) -> Bound:
    return Bound(seconds, "--timeout")


def is_done(record: dict[str, Any]) -> bool:
    """Finished action records carry ``end``; trigger activations never do but are final."""
    if record.get("end"):
        return True
    status = (record.get("response") or {}).get("status")
    return bool(status) and status != "running"


def _limit_s(document: dict[str, Any] | None) -> float | None:
    timeout = ((document or {}).get("limits") or {}).get("timeout")
    return timeout / 1000 if isinstance(timeout, int) and timeout > 0 else None


def namespace_bound(client: Any) -> Bound:
    """The longest time limit among the namespace's actions, plus the grace."""
    try:
        actions = client.list("actions")
    except OpenWhiskError:
        actions = []
    limits = [(s, a.get("name", "?")) for a in actions if (s := _limit_s(a)) is not None]
    if not limits:
        return Bound(FALLBACK_S, "no action's time limit could be read")
    seconds, name = max(limits)
    return Bound(
        seconds + GRACE_S,
        f"the longest time limit in the namespace, {name}'s {duration(seconds)}, "
        f"+ {duration(GRACE_S)}",
    )


def action_bound(client: Any, fully_qualified: str) -> Bound:
    """An action's own time limit (``ns/[pkg/]name`` as trigger logs name it), plus the grace."""
    namespace, _, name = fully_qualified.strip("/").partition("/")
    document = None
    if name and namespace == client.settings.namespace:
        try:
            document = client.get("actions", name, code=False)
        except OpenWhiskError:
            document = None
    seconds = _limit_s(document)
    if seconds is None:
        return namespace_bound(client)
    return Bound(
        seconds + GRACE_S, f"{name}'s time limit of {duration(seconds)} + {duration(GRACE_S)}"
    )


def wait_for(
    client: Any,
    activation_id: str,
    bound: Bound | Callable[[], Bound],
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Progress | None = None,
    since: float | None = None,
) -> dict[str, Any]:
    """Poll with backoff until the activation exists and has ended.

    ``bound`` counts from ``since`` (default: now); a callable is asked only if the first
    look finds the activation still running, so a finished one costs one request. The
    delay starts at 0.2 s and doubles, up to a tenth of the time waited so far (2 to 15 s):
    an hours-long job is not asked after every two seconds.
    """
    start = clock() if since is None else since
    delay = 0.2
    while True:
        record = client.activation(activation_id)
        if record is not None and is_done(record):
            return record
        if callable(bound):
            bound = bound()
        waited = clock() - start
        remaining = bound.seconds - waited
        if remaining <= 0:
            state = "has not ended" if record is not None else "does not exist yet"
            raise WaitTimeout(
                f"activation {activation_id} {state} after {duration(bound.seconds)} "
                f"({bound.why}); try again later: activation wait {activation_id} "
                "--timeout <seconds>"
            )
        if progress:
            progress(
                f"waiting for activation {activation_id}: {duration(waited)} so far, "
                f"up to {duration(remaining)} more"
            )
        sleep(min(delay, remaining))
        delay = min(delay * 2, max(2.0, min(15.0, waited / 10)))


def duration(seconds: float) -> str:
    """``12 s``, ``3 min 20 s``, ``2 h 5 min``: whole units, the way a person says them."""
    whole = max(0, int(seconds + 0.5))
    if whole < 120:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 120:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


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
    timeout: float | None,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """For each rule the trigger fired: its action activation, waited for, with its result.

    ``timeout`` (s) bounds the whole; None: the trigger's record within the grace (it is
    written as the trigger fires), then each action within its own limit, from the fire.
    """
    start = clock()
    bound = given(timeout) if timeout is not None else Bound(GRACE_S, "trigger records")
    record = wait_for(
        client, trigger_activation, bound, sleep=sleep, clock=clock, progress=progress
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
        action = str(entry.get("action") or "")

        def own_limit(action: str = action) -> Bound:
            return action_bound(client, action)

        activation = wait_for(
            client,
            entry["activationId"],
            bound if timeout is not None else own_limit,
            sleep=sleep,
            clock=clock,
            progress=progress,
            since=start,
        )
        response = activation.get("response") or {}
        item.update(
            status=response.get("status"),
            success=response.get("success"),
            result=response.get("result"),
        )
        results.append(item)
    return results
