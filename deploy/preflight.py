"""Checks before any write: will this plan work on this server?

Takes the desired entities, the current ones and the server's ``GET /`` document;
returns warnings and raises ``PreflightError`` with every problem at once. Pure: what
the code contains was noted by ``bundle`` (``Artifact.uses_api``), and the other
manifests beside this one are read by the caller; never calls the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deploy.bundle import contributors, sent_size
from deploy.errors import PreflightError
from deploy.models import Entity, Kind
from deploy.plan import annotation_map

MB = 1024 * 1024
# The code-size limit when GET / does not give ``max_action_code_size``: Adobe I/O Runtime's
# codeSize (developer.adobe.com/app-builder/docs/guides/runtime_guides/system-settings) on
# its hosts, else OpenWhisk's exec-size-limit (apache/openwhisk application.conf, 48 m).
ADOBE_CODE_SIZE = 22 * MB
OPENWHISK_CODE_SIZE = 48 * MB
ADOBE_HOSTS = ("adobeioruntime.net",)
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
    alternatives: Mapping[str, frozenset[str]] | None = None,
    bindable: frozenset[str] | None = None,
) -> list[str]:
    """Return warnings; raise ``PreflightError`` listing every blocking problem.

    ``alternatives`` maps the other manifests beside this one to the runtime families
    their actions use, so a manifest for a family the server lacks can name the one to
    deploy instead; the caller reads them only when ``missing_families`` finds one.
    ``bindable`` holds the ``ns/pkg`` targets of package bindings that exist and can be
    read (``state.binding_targets``); None skips that check.
    """
    desired = list(desired)
    runtimes = info.get("runtimes") or {}
    target = _Target(
        runtimes=runtimes,
        kinds=frozenset(r.get("kind") for family in runtimes.values() for r in family),
        limits=info.get("limits") or {},
        namespace=namespace,
        apihost=apihost,
        known=frozenset((e.kind.collection, e.name) for e in [*desired, *current]),
        bindable=bindable,
        bindings=frozenset(
            e.name for e in [*desired, *current] if e.kind is Kind.PACKAGE and e.body.get("binding")
        ),
    )
    found = _Findings()
    if not runtimes:
        found.warnings.append(
            f"{apihost} lists no runtimes in GET /; runtime kinds were not checked"
        )
    missing = missing_families(desired, info)
    if missing:
        found.problems.append(_family_problem(missing, target, alternatives or {}))
    for entity in desired:
        checker = _CHECKS.get(entity.kind)
        if checker is not None:
            checker(entity, target, found)
    if found.problems:
        raise PreflightError(found.problems)
    return found.warnings


@dataclass(frozen=True)
class _Target:
    """What the server offers (from ``GET /``) and what exists there or will."""

    runtimes: dict[str, Any]
    kinds: frozenset[str | None]
    limits: dict[str, Any]
    namespace: str
    apihost: str
    known: frozenset[tuple[str, str]]  # (collection, name) in the manifest or on the server
    bindable: frozenset[str] | None = None  # "ns/pkg" a binding may name; None: unchecked
    bindings: frozenset[str] = frozenset()  # package bindings declared or on the server

    def resolves(self, collection: str, ref: str) -> bool:
        """Declared, on the server, or an action of a binding (whose package we trust)."""
        package, _, rest = ref.partition("/")
        return (collection, ref) in self.known or (
            collection == "actions" and bool(rest) and package in self.bindings
        )


@dataclass
class _Findings:
    problems: list[str] = field(default_factory=list)  # block the deploy
    warnings: list[str] = field(default_factory=list)


def _label(entity: Entity) -> str:
    return f"{entity.kind.value} {entity.name}"


def _check_action(entity: Entity, target: _Target, found: _Findings) -> None:
    """Runtime offered, limits in the server's ranges; web timeouts and API use said."""
    body, label = entity.body, _label(entity)
    kind = body["exec"]["kind"]
    family = kind.split(":")[0]
    offered_family_default = kind.endswith(":default") and family in target.runtimes
    family_offered = family in target.runtimes  # if not, said once for every action
    if family_offered and kind not in target.kinds and not offered_family_default:
        offered = ", ".join(sorted(k for k in target.kinds if k)) or "none"
        found.problems.append(
            f"{label}: runtime {kind!r} is not offered by {target.apihost} "
            f"(it offers: {offered}); change `runtime` in the manifest"
        )
    found.problems.extend(
        _limit_problems(label, body.get("limits") or {}, target.limits, target.apihost)
    )
    if entity.artifact is not None:
        problem = _code_size_problem(label, entity.artifact, target)
        if problem:
            found.problems.append(problem)
    annotations = annotation_map(body)
    timeout = (body.get("limits") or {}).get("timeout") or 0
    if annotations.get("web-export") is True and timeout > SYNC_CUT_MS:
        found.warnings.append(
            f"{label}: web action with timeout {timeout} ms; callers are cut "
            f"at {SYNC_CUT_MS} ms anyway (start long work non-blocking)"
        )
    if annotations.get("provide-api-key") is not True and _uses_api(entity):
        found.warnings.append(
            f"{label}: its code uses the OpenWhisk API (__OW_API_KEY) but the "
            "action lacks the annotation provide-api-key: true, so the key "
            "will be absent; add it under `annotations`"
        )


def code_size_limit(limits: dict[str, Any], apihost: str) -> int:
    """The target's code-size limit in bytes: its ``GET /`` figure, else the platform's."""
    stated = limits.get("max_action_code_size")
    if isinstance(stated, int) and not isinstance(stated, bool) and stated > 0:
        return stated
    return ADOBE_CODE_SIZE if any(h in apihost for h in ADOBE_HOSTS) else OPENWHISK_CODE_SIZE


def _code_size_problem(label: str, artifact: Any, target: _Target) -> str | None:
    size, limit = sent_size(artifact), code_size_limit(target.limits, target.apihost)
    if size <= limit:
        return None
    parts = contributors(artifact.data) if artifact.binary else []
    biggest = ", ".join(f"{name} {_mb(part)}" for name, part in parts)
    return (
        f"{label}: code is {_mb(size)} as sent (base64), above {target.apihost}'s limit of"
        f" {_mb(limit)}"
        + (f"; the biggest parts, compressed: {biggest}" if biggest else "")
        + " (hint: drop dependencies or files the action does not need, or exclude them)"
    )


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def missing_families(desired: Iterable[Entity], info: dict[str, Any]) -> dict[str, list[str]]:
    """Runtime family -> ``name: kind`` of each action needing it, for every family the
    server's ``GET /`` does not list at all (none when it lists no runtimes)."""
    runtimes = info.get("runtimes") or {}
    missing: dict[str, list[str]] = {}
    if not runtimes:
        return missing
    for entity in desired:
        if entity.kind is Kind.ACTION:
            kind = entity.body["exec"]["kind"]
            family = kind.split(":")[0]
            if family not in runtimes:
                missing.setdefault(family, []).append(f"{entity.name}: {kind}")
    return missing


def _family_problem(
    missing: dict[str, list[str]], target: _Target, alternatives: Mapping[str, frozenset[str]]
) -> str:
    """One problem for the whole manifest: its code is for a language the target lacks, so
    no change of ``runtime`` alone can fix it; name a manifest beside it that fits."""
    offered = sorted(target.runtimes)
    kinds = ", ".join(sorted(k for k in target.kinds if k)) or "none"
    needing = ", ".join(name for _, names in sorted(missing.items()) for name in names)
    head = (
        f"{target.apihost} offers only {_joined(offered)} runtimes ({kinds}), "
        f"and this manifest's actions need {_joined(sorted(missing))} ({needing})"
    )
    fitting = sorted(
        name for name, families in alternatives.items() if families and families <= set(offered)
    )
    if fitting:
        return (
            f"{head}; deploy {_joined(fitting, 'or')} instead "
            f"(python -m deploy deploy -m {fitting[0]})"
        )
    return f"{head}; port them to one of those runtimes and change `runtime` in the manifest"


def _joined(words: list[str], conjunction: str = "and") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _check_sequence(entity: Entity, target: _Target, found: _Findings) -> None:
    """Every component in this namespace is declared or already there."""
    for component in entity.body["exec"]["components"]:
        ref = _local(component, target.namespace)
        if ref is not None and not target.resolves("actions", ref):
            found.problems.append(
                f"{_label(entity)}: component {component} is neither in the manifest "
                "nor on the server; declare it or fix the name"
            )


def _check_trigger(entity: Entity, target: _Target, found: _Findings) -> None:
    """A feed is written as an annotation only: say that its action is not called."""
    annotations = annotation_map(entity.body)
    if "feed" in annotations:
        found.warnings.append(
            f"{_label(entity)}: has feed {annotations['feed']}; the trigger is "
            "created with its feed annotation, but the feed action itself is not "
            "called (as `wsk trigger create --feed` would); set the feed up once by hand"
        )


def _check_rule(entity: Entity, target: _Target, found: _Findings) -> None:
    """Both ends in this namespace are declared or already there."""
    body = entity.body
    for end, collection in (("trigger", "triggers"), ("action", "actions")):
        ref = _local(body[end], target.namespace)
        if ref is not None and not target.resolves(collection, ref):
            found.problems.append(
                f"{_label(entity)}: {end} {body[end]} is neither in the manifest nor "
                f"on the server; declare it or fix the rule's `{end}`"
            )


def _check_package(entity: Entity, target: _Target, found: _Findings) -> None:
    """A binding (a manifest dependency) needs its package there and shared with us."""
    binding = entity.body.get("binding")
    if not binding or target.bindable is None:
        return
    if f"{binding['namespace']}/{binding['name']}" not in target.bindable:
        found.problems.append(
            f"package {entity.name}: binds /{binding['namespace']}/{binding['name']}, which"
            f" {target.apihost} does not have or does not share with namespace"
            f" {target.namespace}; deploy and publish that package first, or fix the"
            " dependency's location"
        )


_CHECKS = {
    Kind.PACKAGE: _check_package,
    Kind.ACTION: _check_action,
    Kind.SEQUENCE: _check_sequence,
    Kind.TRIGGER: _check_trigger,
    Kind.RULE: _check_rule,
}


def _limit_problems(
    label: str, sent: dict[str, Any], limits: dict[str, Any], apihost: str
) -> list[str]:
    out = []
    for name, stem, divisor, unit in LIMITS:
        value = sent.get(name)
        low, high = limits.get(f"min_{stem}"), limits.get(f"max_{stem}")
        if value is None:
            continue
        if isinstance(low, (int, float)) and value < low / divisor:
            out.append(
                f"{label}: limits.{name} {value} {unit} is below {apihost}'s minimum "
                f"{low // divisor} {unit}; raise it in the manifest"
            )
        if isinstance(high, (int, float)) and value > high / divisor:
            out.append(
                f"{label}: limits.{name} {value} {unit} is above {apihost}'s maximum "
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
