"""Checks before any write: will this plan work on this server?

Takes the desired entities, the current ones and the server's ``GET /`` document;
returns warnings and raises ``PreflightError`` with every problem at once. Pure: what
the code contains was noted by ``bundle`` (``Artifact.uses_api``); never calls the client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deploy.errors import PreflightError
from deploy.models import Entity, Kind
from deploy.plan import annotation_map

MB = 1024 * 1024
SYNC_CUT_MS = 60000  # web actions and blocking invokes are answered within 60 s at most
# (body field, GET / key stem, unit divisor, unit label): the body uses ms/MB, GET / uses ms/bytes.
LIMITS = (
    ("timeout", "action_duration", 1, "ms"),
    ("memory", "action_memory", MB, "MB"),
    ("logs", "action_logs", MB, "MB"),
)


def check(
    desired: Iterable[Entity],
    current: Iterable[Entity],
    info: dict[str, Any],
    namespace: str,
    apihost: str = "the server",
) -> list[str]:
    """Return warnings; raise ``PreflightError`` listing every blocking problem."""
    desired = list(desired)
    problems: list[str] = []
    warnings: list[str] = []
    runtimes = info.get("runtimes")
    kinds = {r.get("kind") for family in (runtimes or {}).values() for r in family}
    if not runtimes:
        warnings.append(f"{apihost} lists no runtimes in GET /; runtime kinds were not checked")
    limits = info.get("limits") or {}
    known = {(e.kind.collection, e.name) for e in [*desired, *current]}

    for entity in desired:
        body = entity.body
        label = f"{entity.kind.value} {entity.name}"
        if entity.kind is Kind.ACTION:
            kind = body["exec"]["kind"]
            family = kind.split(":")[0]
            if (
                runtimes
                and kind not in kinds
                and not (kind.endswith(":default") and family in runtimes)
            ):
                offered = ", ".join(sorted(k for k in kinds if k)) or "none"
                problems.append(
                    f"{label}: runtime {kind!r} is not offered by {apihost} "
                    f"(it offers: {offered}); change `runtime` in the manifest"
                )
            problems += _limit_problems(label, body.get("limits") or {}, limits, apihost)
            annotations = annotation_map(body)
            web = annotations.get("web-export") is True
            timeout = (body.get("limits") or {}).get("timeout") or 0
            if web and timeout > SYNC_CUT_MS:
                warnings.append(
                    f"{label}: web action with timeout {timeout} ms; callers are cut "
                    f"at {SYNC_CUT_MS} ms anyway (start long work non-blocking)"
                )
            if annotations.get("provide-api-key") is not True and _uses_api(entity):
                warnings.append(
                    f"{label}: its code uses the OpenWhisk API (__OW_API_KEY) but the "
                    "action lacks the annotation provide-api-key: true, so the key "
                    "will be absent; add it under `annotations`"
                )
        elif entity.kind is Kind.SEQUENCE:
            for component in body["exec"]["components"]:
                ref = _local(component, namespace)
                if ref is not None and ("actions", ref) not in known:
                    problems.append(
                        f"{label}: component {component} is neither in the manifest "
                        "nor on the server; declare it or fix the name"
                    )
        elif entity.kind is Kind.TRIGGER and "feed" in annotation_map(body):
            warnings.append(
                f"{label}: has feed {annotation_map(body)['feed']}; the trigger is "
                "created with its feed annotation, but the feed action itself is not "
                "called (as `wsk trigger create --feed` would); set the feed up once by hand"
            )
        elif entity.kind is Kind.RULE:
            for end, collection in (("trigger", "triggers"), ("action", "actions")):
                ref = _local(body[end], namespace)
                if ref is not None and (collection, ref) not in known:
                    problems.append(
                        f"{label}: {end} {body[end]} is neither in the manifest nor "
                        f"on the server; declare it or fix the rule's `{end}`"
                    )
    if problems:
        raise PreflightError(problems)
    return warnings


def _limit_problems(
    label: str, sent: dict[str, Any], limits: dict[str, Any], apihost: str
) -> list[str]:
    out = []
    for field, stem, divisor, unit in LIMITS:
        value = sent.get(field)
        low, high = limits.get(f"min_{stem}"), limits.get(f"max_{stem}")
        if value is None:
            continue
        if isinstance(low, (int, float)) and value < low / divisor:
            out.append(
                f"{label}: limits.{field} {value} {unit} is below {apihost}'s minimum "
                f"{low // divisor} {unit}; raise it in the manifest"
            )
        if isinstance(high, (int, float)) and value > high / divisor:
            out.append(
                f"{label}: limits.{field} {value} {unit} is above {apihost}'s maximum "
                f"{high // divisor} {unit}; lower it in the manifest"
            )
    return out


def _local(path: str, namespace: str) -> str | None:
    """``/ns/pkg/name`` → ``pkg/name`` when it lives in our namespace; None for others'."""
    parts = path.strip("/").split("/")
    if len(parts) < 2:
        return path.strip("/")
    if parts[0] not in ("_", namespace):
        return None  # another namespace (e.g. /whisk.system/utils/echo): cannot check here
    return "/".join(parts[1:])


def _uses_api(entity: Entity) -> bool:
    return entity.artifact is not None and entity.artifact.uses_api
