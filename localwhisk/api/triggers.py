"""Triggers: CRUD and fire. Fire answers 204 when no rule is active, else 202."""

from __future__ import annotations

from typing import Any

from localwhisk.api.common import (
    bump_version,
    check_publish,
    check_version,
    find_entity,
    key_values,
    list_page,
    names,
    namespace_of,
    query_bool,
    read_object,
    stamp,
)
from localwhisk.backend import Backend
from localwhisk.errors import AlreadyExists, BadRequest, MalformedRequest, NotFound, WrongCollection
from localwhisk.http import Request, Response, empty_response, json_response
from localwhisk.models import Trigger, lookup
from localwhisk.platform.auth import Identity
from localwhisk.platform.firing import fire


def trigger_json(trigger: Trigger) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "namespace": trigger.namespace,
        "name": trigger.name,
        "version": trigger.version,
        "publish": trigger.publish,
        "parameters": trigger.parameters,
        "limits": trigger.limits,
        "annotations": trigger.annotations,
        "updated": trigger.updated,
    }
    if trigger.rules:
        shaped["rules"] = trigger.rules
    return shaped


def trigger_summary(trigger: Trigger) -> dict[str, Any]:
    return {
        "namespace": trigger.namespace,
        "name": trigger.name,
        "version": trigger.version,
        "publish": trigger.publish,
        "annotations": trigger.annotations,
        "updated": trigger.updated,
    }


def find_trigger(backend: Backend, namespace: str, name: str) -> Trigger | None:
    return find_entity(backend.store, namespace, name, Trigger)


async def list_triggers(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    found = backend.store.entities("triggers", namespace_of(who, args))
    return list_page(req, "triggers", found, trigger_summary)


async def get_trigger(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    trigger = find_trigger(backend, namespace, name)
    if trigger is None:
        raise NotFound()
    return json_response(200, trigger_json(trigger))


def _check_feed(annotations: list[dict[str, Any]] | None) -> None:
    feed = lookup(annotations or [], "feed")
    if feed is None:
        return
    parts = str(feed).strip("/").split("/") if isinstance(feed, str) else []
    if not 2 <= len(parts) <= 3 or not all(parts):
        raise BadRequest("Feed name is not valid")


async def put_trigger(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    body = read_object(req)
    existing = backend.store.get(namespace, name)
    if existing is not None and not query_bool(req, "overwrite"):
        raise AlreadyExists()
    if existing is not None and not isinstance(existing, Trigger):
        raise WrongCollection()
    parameters = key_values(body, "parameters")
    annotations = key_values(body, "annotations")
    _check_feed(annotations)
    limits = body.get("limits")
    if limits is not None and not isinstance(limits, dict):
        raise MalformedRequest("limits must be an object")
    version = check_version(body["version"]) if body.get("version") else None
    if existing is None:
        trigger = Trigger(
            namespace=namespace,
            name=name,
            version=version or "0.0.1",
            publish=check_publish(body.get("publish"), False),
            parameters=parameters or [],
            annotations=annotations or [],
            limits=limits or {},
        )
    else:
        trigger = Trigger(
            namespace=namespace,
            name=name,
            version=version or bump_version(existing.version),
            publish=check_publish(body.get("publish"), existing.publish),
            parameters=existing.parameters if parameters is None else parameters,
            annotations=existing.annotations if annotations is None else annotations,
            limits=existing.limits if limits is None else limits,
            rules=existing.rules,
        )
    trigger.updated = stamp()
    backend.store.put(trigger)
    return json_response(200, trigger_json(trigger))


async def delete_trigger(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    trigger = find_trigger(backend, namespace, name)
    if trigger is None:
        raise NotFound()
    backend.store.delete(namespace, name)
    return json_response(200, trigger_json(trigger))


async def fire_trigger(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    payload = read_object(req)
    trigger = find_trigger(backend, namespace, name)
    if trigger is None:
        raise NotFound()
    activation_id = await fire(backend.invoker, who, trigger, payload, req.request_id)
    if activation_id is None:
        return empty_response(204)
    return json_response(
        202, {"activationId": activation_id}, [("x-openwhisk-activation-id", activation_id)]
    )
