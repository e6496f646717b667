"""Rules: CRUD and enable/disable. A rule's status lives in its trigger's ``rules`` map."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from localwhisk.api import resource
from localwhisk.api.common import (
    check_entitled,
    check_name,
    find_entity,
    key_values,
    list_page,
    names,
    namespace_of,
    read_object,
)
from localwhisk.backend import Backend
from localwhisk.errors import BadRequest, MalformedRequest, NotFound
from localwhisk.http import Request, Response, json_response
from localwhisk.models import ACTIVE, INACTIVE, Rule, Trigger
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import resolve_fqn


def _status(backend: Backend, rule: Rule) -> str:
    trigger = backend.store.get(rule.trigger["path"], rule.trigger["name"])
    if isinstance(trigger, Trigger):
        spec = trigger.rules.get(f"{rule.namespace}/{rule.name}")
        if spec is not None:
            return str(spec.get("status", INACTIVE))
    return INACTIVE


def rule_json(rule: Rule, status: str | None) -> dict[str, Any]:
    shaped = {**resource.head_json(rule), "annotations": rule.annotations, "updated": rule.updated}
    if status is not None:
        shaped["status"] = status
    shaped["trigger"] = rule.trigger
    shaped["action"] = rule.action
    return shaped


def _reference(value: Any, namespace: str, what: str) -> dict[str, str]:
    """``/ns/[pkg/]name``, ``ns/name`` or ``{path, name}`` -> ``{path, name}``."""
    if isinstance(value, dict):
        path, name = str(value.get("path", "")), str(value.get("name", ""))
        parts = [*path.strip("/").split("/"), name]
    elif isinstance(value, str):
        parts = value.strip("/").split("/")
        if len(parts) == 1:
            parts = [namespace, *parts]
    else:
        raise MalformedRequest(f"{what} must be a fully qualified name")
    if parts[0] == "_":
        parts[0] = namespace
    if not 2 <= len(parts) <= 3:
        raise MalformedRequest(f"{what} must be a fully qualified name")
    for part in parts[1:]:
        check_name(part)
    return {"path": "/".join(parts[:-1]), "name": parts[-1]}


def _check_exists(
    backend: Backend, trigger: dict[str, str], action: dict[str, str], ns: str
) -> None:
    if not isinstance(backend.store.get(trigger["path"], trigger["name"]), Trigger):
        raise BadRequest(f"trigger /{trigger['path']}/{trigger['name']} does not exist")
    try:
        resolve_fqn(backend.store, f"/{action['path']}/{action['name']}", ns)
    except NotFound:
        raise BadRequest(f"action /{action['path']}/{action['name']} does not exist") from None


def _register(backend: Backend, rule: Rule, status: str | None) -> None:
    """Record (or with None, remove) the rule in its trigger document."""
    trigger = backend.store.get(rule.trigger["path"], rule.trigger["name"])
    if not isinstance(trigger, Trigger):
        return
    rules = dict(trigger.rules)
    key = f"{rule.namespace}/{rule.name}"
    if status is None:
        rules.pop(key, None)
    else:
        rules[key] = {"action": rule.action, "status": status}
    backend.store.put(replace(trigger, rules=rules))


async def list_rules(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    found = backend.store.entities("rules", namespace_of(who, args))
    return list_page(req, "rules", found, lambda rule: rule_json(rule, None))


async def get_rule(backend: Backend, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace, _, name = names(who, args)
    rule = resource.require_entity(backend.store, namespace, name, Rule)
    return json_response(200, rule_json(rule, _status(backend, rule)))


async def put_rule(backend: Backend, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace, _, name = names(who, args)
    body = read_object(req)
    existing = resource.replaced_by_put(backend.store, req, namespace, name, Rule)
    if existing is None and (not body.get("trigger") or not body.get("action")):
        raise BadRequest("rule requires a valid trigger and a valid action")
    trigger = _reference(body["trigger"], namespace, "trigger") if body.get("trigger") else None
    action = _reference(body["action"], namespace, "action") if body.get("action") else None
    annotations = key_values(body, "annotations", backend.settings.limits.parameter_bytes)
    rule = resource.revise(
        Rule,
        existing,
        namespace,
        name,
        **resource.revision(body, existing),
        annotations=annotations,
        trigger=trigger,
        action=action,
    )
    status = ACTIVE if existing is None else _status(backend, existing)
    # Another namespace's trigger or (unpublished) action is not this caller's to wire up.
    check_entitled(backend.store, namespace, rule.trigger["path"])
    check_entitled(backend.store, namespace, rule.action["path"])
    _check_exists(backend, rule.trigger, rule.action, namespace)
    if existing is not None:  # only once the new rule is known good: a refused update keeps the old
        _register(backend, existing, None)
    answer = resource.saved(backend.store, rule, lambda stored: rule_json(stored, status))
    _register(backend, rule, status)
    return answer


async def delete_rule(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    rule = resource.require_entity(backend.store, namespace, name, Rule)
    _register(backend, rule, None)
    return resource.removed(backend.store, rule, lambda gone: rule_json(gone, INACTIVE))


async def set_rule_state(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    body = read_object(req)
    status = body.get("status")
    if status not in (ACTIVE, INACTIVE):
        raise MalformedRequest(f"'{status}' is not a recognized rule state")
    rule = resource.require_entity(backend.store, namespace, name, Rule)
    trigger = (
        find_entity(backend.store, rule.trigger["path"], rule.trigger["name"], Trigger)
        if rule.trigger
        else None
    )
    if trigger is None:
        if status == ACTIVE:
            raise NotFound("Only rules with existing triggers can be activated")
    elif _status(backend, rule) != status:
        _register(backend, rule, status)
    return Response(200, b"OK", "text/plain; charset=UTF-8")
