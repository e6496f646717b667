"""Triggers: CRUD and fire. Fire answers 204 when no rule is active, else 202."""

from __future__ import annotations

from typing import Any

from localwhisk.api import resource
from localwhisk.api.common import key_values, list_page, names, namespace_of, read_object
from localwhisk.backend import Backend
from localwhisk.errors import BadRequest, MalformedRequest
from localwhisk.http import ACTIVATION_ID_HEADER, Request, Response, empty_response, json_response
from localwhisk.models import Trigger, lookup
from localwhisk.platform.auth import Identity
from localwhisk.platform.firing import fire


def trigger_json(trigger: Trigger) -> dict[str, Any]:
    shaped = {
        **resource.head_json(trigger),
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
        **resource.head_json(trigger),
        "annotations": trigger.annotations,
        "updated": trigger.updated,
    }


async def list_triggers(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    found = backend.store.entities("triggers", namespace_of(who, args))
    return list_page(req, "triggers", found, trigger_summary)


async def get_trigger(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    return json_response(
        200, trigger_json(resource.require_entity(backend.store, namespace, name, Trigger))
    )


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
    existing = resource.replaced_by_put(backend.store, req, namespace, name, Trigger)
    parameters = key_values(body, "parameters", backend.settings.limits.parameter_bytes)
    annotations = key_values(body, "annotations", backend.settings.limits.parameter_bytes)
    _check_feed(annotations)
    limits = body.get("limits")
    if limits is not None and not isinstance(limits, dict):
        raise MalformedRequest("limits must be an object")
    trigger = resource.revise(
        Trigger,
        existing,
        namespace,
        name,
        **resource.revision(body, existing),
        parameters=parameters,
        annotations=annotations,
        limits=limits,
    )
    return resource.saved(backend.store, trigger, trigger_json)


async def delete_trigger(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    trigger = resource.require_entity(backend.store, namespace, name, Trigger)
    return resource.removed(backend.store, trigger, trigger_json)


async def fire_trigger(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    payload = read_object(req)
    trigger = resource.require_entity(backend.store, namespace, name, Trigger)
    trace = backend.invoker.caused_by(req)
    activation_id = await fire(backend.invoker, who, trigger, payload, req.request_id, trace)
    if activation_id is None:
        return empty_response(204)
    return json_response(
        202, {"activationId": activation_id}, [(ACTIVATION_ID_HEADER, activation_id)]
    )
