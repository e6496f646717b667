"""Validating an action's ``exec`` and ``limits`` from a PUT body, with the platform's texts."""

from __future__ import annotations

import re
from typing import Any

from localwhisk.api.common import check_entitled
from localwhisk.config import Limits
from localwhisk.errors import (
    ApiError,
    BadRequest,
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedRuntime,
)
from localwhisk.models import Action
from localwhisk.platform.resolver import resolve_fqn
from localwhisk.runtime.kinds import resolve_kind, valid_kinds
from localwhisk.storage.store import Store

BASE64_RE = re.compile(r"\A[A-Za-z0-9+/]*={0,2}\Z")


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def is_binary(code: str) -> bool:
    """The platform's rule: trimmed, non-empty, a multiple of 4 long, base64 alphabet."""
    trimmed = code.strip()
    return bool(trimmed) and len(trimmed) % 4 == 0 and bool(BASE64_RE.match(trimmed))


def parse_exec(
    value: Any, store: Store, namespace: str, self_fqn: str, limits: Limits
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedRequest("exec undefined" if value is None else "exec must be an object")
    kind = str(value.get("kind", "")).strip().lower()
    if kind == "sequence":
        return _parse_sequence(value, store, namespace, self_fqn, limits)
    concrete = resolve_kind(kind)
    if concrete is None:
        raise UnsupportedRuntime(kind, valid_kinds())
    code = value.get("code")
    if not isinstance(code, str):
        raise MalformedRequest(
            f"'code' must be a string defined in 'exec' for '{concrete}' actions"
        )
    main = value.get("main")
    if main is not None and not isinstance(main, str):
        raise MalformedRequest("'main' must be a string")
    # The platform sizes an exec as its code plus its entry point (Exec.scala ``size``)
    # and refuses it past exec-size-limit with 413 (WhiskEntity.scala isWithinSizeLimits).
    size = utf8_size(code) + utf8_size(main or "")
    if size > limits.code_bytes:
        raise PayloadTooLarge(size, limits.code_bytes, "exec")
    parsed: dict[str, Any] = {"kind": concrete, "code": code, "binary": is_binary(code)}
    if main:
        parsed["main"] = main
    return parsed


def _parse_sequence(
    value: dict[str, Any], store: Store, namespace: str, self_fqn: str, limits: Limits
) -> dict[str, Any]:
    components = value.get("components")
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        raise MalformedRequest("'components' must be an array of fully qualified action names")
    if not components:
        raise BadRequest("No component specified for the sequence.")
    resolved_names = []
    for component in components:
        parts = component.strip("/").split("/")
        if parts and parts[0] == "_":
            parts[0] = namespace
        if len(parts) not in (2, 3):
            raise MalformedRequest(f"'{component}' is not a fully qualified action name")
        # A component in another namespace must be in a published package (403 otherwise).
        check_entitled(store, namespace, "/".join(parts[:-1]))
        resolved_names.append("/" + "/".join(parts))
    if self_fqn in resolved_names:
        raise BadRequest("Sequence may not refer to itself.")
    atomic = sum(_atomic_count(store, fqn, namespace, self_fqn, 0) for fqn in resolved_names)
    if atomic > limits.sequence_max:
        raise BadRequest("Too many actions in the sequence.")
    return {"kind": "sequence", "components": resolved_names}


def _atomic_count(store: Store, fqn: str, namespace: str, self_fqn: str, depth: int) -> int:
    try:
        action = resolve_fqn(store, fqn, namespace).action
    except ApiError:
        raise BadRequest("Sequence component does not exist.") from None
    if action.kind != "sequence":
        return 1
    if action.fqn == self_fqn or depth > 50:
        raise BadRequest("Sequence may not refer to itself.")
    return sum(
        _atomic_count(store, c, namespace, self_fqn, depth + 1)
        for c in action.exec.get("components", [])
    )


def _bounded(value: Any, field: str, low: int, high: int, word: str, unit: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedRequest(f"limits.{field} must be an integer")
    if value > high:
        raise MalformedRequest(f"{word} {value}{unit} exceeds allowed threshold of {high}{unit}")
    if value < low:
        raise MalformedRequest(f"{word} {value}{unit} below allowed threshold of {low}{unit}")
    return value


def parse_limits(value: Any, current: dict[str, int], limits: Limits) -> dict[str, int]:
    """Given fields validated; missing ones keep ``current`` (the defaults on create)."""
    if value is None:
        return dict(current)
    if not isinstance(value, dict):
        raise MalformedRequest("limits must be an object")
    merged = dict(current)
    checks = {
        "timeout": ("duration", " milliseconds", limits.timeout_min, limits.timeout_max),
        "memory": ("memory size", " MB", limits.memory_min, limits.memory_max),
        "logs": ("log size", " MB", limits.logs_min, limits.logs_max),
        "concurrency": ("concurrency", "", limits.concurrency_min, limits.concurrency_max),
    }
    for field, (word, unit, low, high) in checks.items():
        if value.get(field) is not None:
            merged[field] = _bounded(value[field], field, low, high, word, unit)
    return merged


def default_limits(limits: Limits) -> dict[str, int]:
    return {
        "timeout": limits.timeout_default,
        "memory": limits.memory_default,
        "logs": limits.logs_default,
        "concurrency": limits.concurrency_default,
    }


def exec_json(action: Action, with_code: bool = True) -> dict[str, Any]:
    spec = action.exec
    if spec.get("kind") == "sequence":
        return {"kind": "sequence", "components": list(spec.get("components", []))}
    shaped: dict[str, Any] = {"kind": spec.get("kind")}
    if with_code:
        shaped["code"] = spec.get("code", "")
    shaped["binary"] = bool(spec.get("binary", False))
    if spec.get("main"):
        shaped["main"] = spec["main"]
    return shaped
