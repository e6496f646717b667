"""The platform's side of the runtime contract: an action becomes a ``RunJob``, and a
``RunOutcome`` fills the activation record.

Pure functions plus a small cache of ``CodeSpec`` values (one per action
revision, so a warm process is reused until the action changes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from localwhisk.config import Settings
from localwhisk.models import Action, Activation, truthy
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import Resolved
from localwhisk.runtime.contract import CodeSpec, RunJob, RunOutcome


def _env_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class CodeSpecs:
    """Specs without the code itself: ``load_code(action)`` reads it when a process needs it."""

    def __init__(self, load_code: Callable[[Action], str] | None = None) -> None:
        self._specs: dict[str, CodeSpec] = {}
        self._load_code = load_code

    def get(self, action: Action) -> CodeSpec:
        revision = f"{action.updated}-{action.version}"
        spec = self._specs.get(action.fqn)
        if spec is None or spec.revision != revision:
            spec = CodeSpec(
                action=action.fqn,
                revision=revision,
                kind=action.kind,
                code="" if self._load_code else str(action.exec.get("code", "")),
                binary=bool(action.exec.get("binary", False)),
                main=str(action.exec.get("main") or "main"),
                init_env={
                    p["key"]: _env_value(p.get("value"))
                    for p in action.parameters
                    if p.get("init") and "key" in p
                },
                fetch=partial(self._load_code, action) if self._load_code else None,
            )
            self._specs[action.fqn] = spec
        return spec


def build_job(
    settings: Settings,
    code: CodeSpec,
    who: Identity,
    resolved: Resolved,
    args: dict[str, Any] | list[Any],
    act: Activation,
    transaction_id: str,
    now_ms: int,
) -> RunJob:
    action = resolved.action
    limits = settings.limits
    timeout = int(action.limits.get("timeout", limits.timeout_default))
    context = {
        "namespace": who.namespace,
        "action_name": action.fqn,
        "action_version": action.version,
        "activation_id": act.activation_id,
        "transaction_id": transaction_id,
        "deadline": str(now_ms + timeout),
    }
    # The key goes only to actions that asked for it (new actions get provide-api-key: false).
    if truthy(action.annotation("provide-api-key")):
        context["api_key"] = who.api_key
    return RunJob(
        code=code,
        params=args,
        context=context,
        timeout_ms=timeout,
        memory_mb=int(action.limits.get("memory", limits.memory_default)),
        logs_mb=int(action.limits.get("logs", limits.logs_default)),
        api_host=settings.api_host,
    )


def record_outcome(
    resolved: Resolved, act: Activation, outcome: RunOutcome, in_sequence: bool
) -> None:
    """Fill a running record from the runner's outcome, annotations in the platform's order."""
    action = resolved.action
    received = act.start
    act.start, act.end = outcome.start_ms, max(outcome.end_ms, outcome.start_ms)
    act.status, act.result, act.size = outcome.status, outcome.result, outcome.size
    act.logs = list(outcome.logs)
    annotations: list[dict[str, Any]] = [
        {"key": "limits", "value": action.limits},
        {"key": "path", "value": resolved.path},
        {"key": "kind", "value": action.kind},
        {"key": "timeout", "value": outcome.timed_out},
    ]
    if in_sequence:
        annotations.append({"key": "causedBy", "value": "sequence"})
    if outcome.init_ms is not None:
        annotations.append({"key": "initTime", "value": outcome.init_ms})
    wait = max(outcome.wait_ms, outcome.start_ms - received)
    annotations.append({"key": "waitTime", "value": max(wait, 0)})
    if resolved.binding is not None:
        annotations.append({"key": "binding", "value": resolved.binding})
    act.annotations = annotations
