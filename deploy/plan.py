"""Pure planning: what the manifest wants (wire-shaped bodies) vs what the namespace holds.

``desired_entities`` turns a ``Manifest`` plus its ``Artifact``s into full PUT bodies
with the ``whisk-managed`` and ``deploy-digest`` annotations; ``build_plan`` diffs
them against the current entities (read by ``state.fetch_state``) into a ``Plan``.
No I/O here: no client, no files, no clock.

Choices:
- Limits are always sent in full, server defaults filled in, so a limit removed from
  the manifest really reverts (OpenWhisk keeps old values for fields an update omits).
- ``provide-api-key`` is always written (``false`` unless the manifest says otherwise):
  OpenWhisk adds ``false`` only on create, and an action *without* it gets the key.
- Actions merge annotations on update, so an UPDATE carries ``delAnnotations`` with the
  keys the server has and the manifest no longer wants.
- An entity of the same name owned by another project (or by nobody) is not taken over
  silently: the plan records a conflict, which ``deploy`` refuses unless ``--force``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from deploy.models import Artifact, Change, Entity, Kind, Manifest, Op, Plan
from deploy.routes import desired_routes, route_reasons
from whiskfacts.runtimes import OPENWHISK_LIMITS

# OpenWhisk's defaults (whiskfacts.runtimes), sent in full: see "Limits" above.
DEFAULT_LIMITS = {name: limit.default for name, limit in OPENWHISK_LIMITS.items()}
MANAGED = "whisk-managed"
DIGEST = "deploy-digest"
CODE = "deploy-code-sha256"
# The dependency build zipped in (``deploy.dependencies``' cache key): lets ``reasons`` say
# "dependencies changed" apart from the action's own code. Written only on actions that have
# dependencies, and dropped (delAnnotations) from one that no longer has.
DEPENDENCIES = "deploy-dependencies-sha256"
# Annotations the server writes itself or we write for bookkeeping: never diffed or dropped.
BOOKKEEPING = frozenset({MANAGED, DIGEST, CODE, "exec", "binding"})
# A string require-whisk-auth is the secret callers must send: never show its value.
SECRET_ANNOTATIONS = frozenset({"require-whisk-auth"})


def desired_entities(
    manifest: Manifest, artifacts: dict[str, Artifact], namespace: str
) -> list[Entity]:
    """Every entity the manifest declares, with full wire bodies and digests."""
    managed = {
        "projectName": manifest.project,
        "projectHash": manifest.digest,
        "file": manifest.file.name,
        "projectDeps": [],
    }
    out: list[Entity] = []
    for pkg in manifest.packages:
        body = {
            "publish": pkg.publish,
            "parameters": key_values(pkg.inputs),
            "annotations": key_values(pkg.annotations),
        }
        if pkg.binding:
            namespace_part, _, bound = pkg.binding.strip("/").partition("/")
            body["binding"] = {"namespace": namespace_part, "name": bound}
        out.append(_seal(Kind.PACKAGE, pkg.name, body, managed, namespace))
    for action in manifest.actions:
        artifact = artifacts[action.path]
        exec_: dict[str, Any] = {"kind": action.runtime, "binary": artifact.binary}
        if action.main:
            exec_["main"] = action.main
        annotations = {"provide-api-key": False, **action.annotations, CODE: artifact.sha256}
        if artifact.dependencies:
            annotations[DEPENDENCIES] = artifact.dependencies
        set_limits = {k: v for k, v in vars(action.limits).items() if v is not None}
        body = {
            "exec": exec_,
            "publish": False,
            "parameters": key_values(action.inputs),
            "annotations": key_values(annotations),
            "limits": {**DEFAULT_LIMITS, **set_limits},
        }
        out.append(_seal(Kind.ACTION, action.path, body, managed, namespace, artifact))
    for seq in manifest.sequences:
        components = [fq(namespace, c) for c in seq.components]  # already package-resolved
        annotations = {"provide-api-key": False, **seq.annotations}  # as for actions
        body = {
            "exec": {"kind": "sequence", "components": components},
            "publish": False,
            "parameters": key_values(seq.inputs),
            "annotations": key_values(annotations),
        }
        out.append(_seal(Kind.SEQUENCE, seq.path, body, managed, namespace))
    for trigger in manifest.triggers:
        annotations = dict(trigger.annotations)
        if trigger.feed:
            annotations["feed"] = trigger.feed
        body = {
            "publish": False,
            "parameters": key_values(trigger.inputs),
            "annotations": key_values(annotations),
        }
        out.append(_seal(Kind.TRIGGER, trigger.name, body, managed, namespace))
    for rule in manifest.rules:
        body = {
            "trigger": fq(namespace, rule.trigger),
            "action": fq(namespace, rule.action),
            "publish": False,
            "annotations": key_values(rule.annotations),
        }
        out.append(_seal(Kind.RULE, rule.name, body, managed, namespace))
    for name, body, digest in desired_routes(manifest, namespace):
        # Routes carry no annotations on the server (``routes``); this one is for the plan.
        body["annotations"] = [{"key": MANAGED, "value": dict(managed)}]
        out.append(Entity(Kind.API, name, body, digest))
    return out


def build_plan(
    desired: Iterable[Entity],
    current: Iterable[Entity],
    project: str,
    force: bool = False,
    delete_reason: str = "removed from the manifest",
    keep_leftovers: bool = False,
) -> Plan:
    """create / update / unchanged per desired entity; delete this project's leftovers,
    or with ``keep_leftovers`` only name them in a warning."""
    desired = list(desired)
    current_by_key = {(e.kind.collection, e.name): e for e in current}
    wanted = {(e.kind.collection, e.name) for e in desired}
    changes: list[Change] = []
    warnings: list[str] = []
    conflicts: list[str] = []
    for entity in desired:
        now = current_by_key.get((entity.kind.collection, entity.name))
        if now is None:
            changes.append(Change(Op.CREATE, entity))
            continue
        owner = project_of(now)
        if owner != project:
            who = f"project {owner!r}" if owner else "no project (deployed by hand or another tool)"
            message = f"{entity.kind.value} {entity.name} already exists and belongs to {who}"
            if force:
                warnings.append(f"{message}; --force: taking it over")
            else:
                conflicts.append(
                    f"{message}; rename it in the manifest, delete it, or deploy "
                    "with --force to take it over"
                )
        if now.digest and now.digest == entity.digest and not drifted(entity, now):
            changes.append(Change(Op.NOOP, entity))
            continue
        body = dict(entity.body)
        if entity.kind in (Kind.ACTION, Kind.SEQUENCE):
            drop = sorted(
                annotation_map(now.body).keys() - annotation_map(body).keys() - BOOKKEEPING
            )
            if drop:
                body["delAnnotations"] = drop
        updated = Entity(entity.kind, entity.name, body, entity.digest, entity.artifact)
        changes.append(Change(Op.UPDATE, updated, tuple(reasons(entity, now, owner, project))))
    leftovers = [
        now
        for key, now in current_by_key.items()
        if key not in wanted and project_of(now) == project
    ]
    if keep_leftovers and leftovers:
        warnings.append(_kept(leftovers, project))
    else:
        changes.extend(Change(Op.DELETE, now, (delete_reason,)) for now in leftovers)
    changes.sort(key=_order)
    return Plan(tuple(changes), tuple(warnings), tuple(conflicts))


def reasons(desired: Entity, current: Entity, owner: str | None, project: str) -> list[str]:
    """Human reasons for an UPDATE; input values are never shown (they may be secrets)."""
    out: list[str] = []
    if owner != project:
        out.append(f"owned by {owner!r}" if owner else "not managed by any project")
    if not current.digest:
        out.append("no deploy digest on the server (deployed by another tool)")
    elif current.digest == desired.digest:
        out.append("changed on the server since the last deploy")
    want, have = desired.body, current.body
    want_ann, have_ann = annotation_map(want), annotation_map(have)
    if desired.kind is Kind.ACTION:
        if have_ann.get(CODE) != want_ann.get(CODE):
            out.append("code changed")
        had, wants = have_ann.get(DEPENDENCIES), want_ann.get(DEPENDENCIES)
        if had != wants:
            out.append(
                "dependencies added"
                if had is None
                else "dependencies removed"
                if wants is None
                else "dependencies changed"
            )
        kind = have.get("exec", {}).get("kind") or have_ann.get("exec")
        if kind and kind != want["exec"]["kind"]:
            out.append(f"runtime {kind} → {want['exec']['kind']}")
        have_limits = have.get("limits") or {}
        for field, value in want["limits"].items():
            old = have_limits.get(field)
            if old is not None and old != value:
                out.append(f"{field} {old} → {value}")
    if desired.kind is Kind.SEQUENCE:
        if have.get("exec", {}).get("components") not in (None, want["exec"]["components"]):
            out.append("components changed")
    if desired.kind is Kind.API:
        out.extend(route_reasons(want, have))
    if desired.kind is Kind.RULE:
        for end in ("trigger", "action"):
            if _path_of(have.get(end)) not in (None, _path_of(want[end])):
                out.append(f"{end} {_path_of(have.get(end))} → {_path_of(want[end])}")
    web_now, web_want = have_ann.get("web-export") is True, want_ann.get("web-export") is True
    if web_now != web_want:
        out.append("web flag added" if web_want else "web flag removed")
    for key in sorted(want_ann.keys() | have_ann.keys()):
        if key in BOOKKEEPING or key in ("web-export", DEPENDENCIES):
            continue
        if key not in have_ann:
            out.append(f"annotation {key} added")
        elif key not in want_ann:
            out.append(f"annotation {key} removed")
        elif want_ann[key] != have_ann[key] and key in SECRET_ANNOTATIONS:
            out.append(f"annotation {key} changed")
        elif want_ann[key] != have_ann[key]:
            out.append(
                f"annotation {key} {json.dumps(have_ann[key])} → {json.dumps(want_ann[key])}"
            )
    if "parameters" in have:  # list summaries lack parameters; state GETs changed entities
        want_p, have_p = param_map(want), param_map(have)
        for key in sorted(want_p.keys() | have_p.keys()):
            if key not in have_p:
                out.append(f"input {key} added")
            elif key not in want_p:
                out.append(f"input {key} removed")
            elif want_p[key] != have_p[key]:
                out.append(f"input {key} changed")
    if desired.kind is not Kind.API:  # a route's fields are route_reasons' to name
        out.extend(_other_fields(want, have))
    return out or ["only the deploy digest differs (deployed by another version of this tool?)"]


# Top-level body fields ``reasons`` explains on its own; the rest are compared here.
_EXPLAINED = frozenset({"annotations", "parameters", "limits", "exec", "trigger", "action"})
# Fields whose values are never secret and short: shown as ``old → new``.
_SHOWN = frozenset({"publish", "main", "binary"})


def _other_fields(want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """Body fields that differ beyond those ``reasons`` names (``publish``, ``exec.main``...)."""
    # A field the server did not return cannot be said to differ; but a ``main`` it lacks is
    # the runtime's default, and the manifest may name one now.
    pairs = [(key, want[key], have[key]) for key in sorted(want.keys() - _EXPLAINED) if key in have]
    want_exec, have_exec = want.get("exec") or {}, have.get("exec") or {}
    full = "kind" in have_exec  # a full document: list summaries carry only exec.binary
    if full and want_exec.get("kind") != "sequence":
        pairs.append(("exec.main", want_exec.get("main"), have_exec.get("main")))
        if "binary" in have_exec:
            pairs.append(("exec.binary", want_exec.get("binary"), have_exec["binary"]))
    out = []
    for field, wanted, held in pairs:
        if wanted == held:
            continue
        if field.rpartition(".")[2] in _SHOWN:
            out.append(f"{field} {_shown(held)} → {_shown(wanted)}")
        else:
            out.append(f"{field} changed")
    return out


def _shown(value: Any) -> str:
    return "(default)" if value is None else json.dumps(value)


def drifted(desired: Entity, current: Entity) -> bool:
    """Edited behind our back (``wsk action update`` keeps our digest annotation)?

    Only what list summaries carry is compared (limits, annotations), so the check
    costs no request; parameters edited by hand go unnoticed until the next change.
    """
    if (
        "limits" in current.body
        and "limits" in desired.body
        and any(current.body["limits"].get(k) != v for k, v in desired.body["limits"].items())
    ):
        return True
    want, have = annotation_map(desired.body), annotation_map(current.body)
    # Extra keys on the server are not drift: servers add their own (exec, provide-api-key...).
    return any(have.get(k) != v for k, v in want.items() if k not in BOOKKEEPING)


def undeploy_plan(
    current: Iterable[Entity],
    project: str,
    only: frozenset[tuple[str, str]] | None = None,
) -> Plan:
    """A plan to nothing: delete every entity this project's ``whisk-managed`` names, or,
    given ``only`` (a project named after its folder), those of them the manifest declares."""
    if only is None:
        return build_plan([], current, project, delete_reason=f"deployed by project {project}")
    current = list(current)
    declared = [e for e in current if (e.kind.collection, e.name) in only]
    plan = build_plan([], declared, project, delete_reason=f"declared in this manifest ({project})")
    kept = [
        e for e in current if (e.kind.collection, e.name) not in only and project_of(e) == project
    ]
    return Plan(plan.changes, (_kept(kept, project),) if kept else (), plan.conflicts)


def _kept(leftovers: list[Entity], project: str) -> str:
    ordered = sorted(leftovers, key=lambda e: (e.kind.level, e.name))
    names = ", ".join(f"{e.kind.value} {e.name}" for e in ordered)
    return (
        f"kept, not deleted: {names}: project {project!r} is named after the manifest's "
        f"folder and these are not in this manifest (another manifest there may have made "
        f"them); give --projectname {project} to delete them"
    )


def project_of(entity: Entity) -> str | None:
    managed = annotation_map(entity.body).get(MANAGED)
    return managed.get("projectName") if isinstance(managed, dict) else None


def entity_digest(body: dict[str, Any], artifact: Artifact | None, namespace: str = "_") -> str:
    """sha256 over canonical JSON of the body minus what changes with every manifest edit.

    References into our own namespace count as ``/_/...``: ``_`` and the namespace's name
    are one namespace (the key's own), and which one a run was given (``.wskprops`` without
    NAMESPACE, then WHISK_NAMESPACE=guest) must not turn every rule into an update.
    """
    stable = dict(body)
    for end in ("trigger", "action"):  # a rule's ends
        if isinstance(stable.get(end), str):
            stable[end] = _as_own(stable[end], namespace)
    exec_ = stable.get("exec")
    if isinstance(exec_, dict) and isinstance(exec_.get("components"), list):  # a sequence's
        stable["exec"] = {
            **exec_,
            "components": [_as_own(c, namespace) for c in exec_["components"]],
        }
    stable["annotations"] = [
        (
            {"key": MANAGED, "value": {"projectName": a["value"].get("projectName")}}
            if a["key"] == MANAGED and isinstance(a["value"], dict)
            else a
        )
        for a in body.get("annotations", [])
        if a["key"] != DIGEST
    ]
    text = json.dumps(stable, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sha = hashlib.sha256(text.encode("utf-8"))
    sha.update((artifact.sha256 if artifact else "").encode("ascii"))
    return sha.hexdigest()


def _as_own(path: Any, namespace: str) -> Any:
    """``/<namespace>/rest`` as ``/_/rest``; other namespaces' paths unchanged."""
    prefix = f"/{namespace}/"
    if isinstance(path, str) and path.startswith(prefix):
        return "/_/" + path[len(prefix) :]
    return path


def key_values(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def annotation_map(body: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a.get("value") for a in body.get("annotations") or []}


def entity_path(namespace_path: Any, name: Any) -> str:
    """The name inside the namespace: ``pkg/name`` when the server's namespace path is
    ``ns/pkg`` (a packaged action, a rule end's ``path``), else ``name``."""
    _, _, package = str(namespace_path or "").partition("/")
    return f"{package}/{name}" if package else str(name)


def path_of_document(doc: dict[str, Any]) -> str:
    """``entity_path`` of a server document (``{namespace, name, ...}``)."""
    return entity_path(doc.get("namespace"), doc.get("name"))


def param_map(body: dict[str, Any]) -> dict[str, Any]:
    return {p["key"]: p.get("value") for p in body.get("parameters") or []}


def fq(namespace: str, path: str) -> str:
    """``/ns/name`` or ``/ns/pkg/name``; an already fully-qualified path is kept."""
    parts = path.strip("/").split("/")
    if path.startswith("/") or len(parts) == 3:  # ns/pkg/name names its own namespace
        return "/" + "/".join(parts)
    return f"/{namespace}/{path}"


def _path_of(value: Any) -> str | None:
    """Rules come back as ``{path, name}``; we send ``/ns/name``: compare without the namespace."""
    if value is None:
        return None
    if isinstance(value, dict):
        return entity_path(value.get("path"), value.get("name"))
    parts = str(value).strip("/").split("/")
    return "/".join(parts[1:]) if len(parts) > 1 else parts[0]


def _seal(
    kind: Kind,
    name: str,
    body: dict[str, Any],
    managed: dict[str, Any],
    namespace: str,
    artifact: Artifact | None = None,
) -> Entity:
    body["annotations"] = [*body["annotations"], {"key": MANAGED, "value": dict(managed)}]
    digest = entity_digest(body, artifact, namespace)
    body["annotations"].append({"key": DIGEST, "value": digest})
    return Entity(kind, name, body, digest, artifact)


def _order(change: Change) -> tuple[int, int, str]:
    level = change.entity.kind.level
    if change.op is Op.DELETE:
        return (1, -level, change.entity.name)
    return (0, level, change.entity.name)
