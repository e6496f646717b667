"""Activations: list with filters, get, result, logs; and the activation JSON shapes."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from localwhisk.api.common import check_name, list_window, namespace_of, query_bool, query_epoch
from localwhisk.api.resource import head_json
from localwhisk.backend import Backend
from localwhisk.errors import BadRequest, MalformedQuery, NotFound
from localwhisk.http import Request, Response, json_response
from localwhisk.models import Activation
from localwhisk.platform.auth import Identity


def response_json(act: Activation) -> dict[str, Any]:
    shaped: dict[str, Any] = {"status": act.status, "success": act.success, "result": act.result}
    if act.size is not None:
        shaped["size"] = act.size
    return shaped


def _span(act: Activation) -> dict[str, Any]:
    """Id and timing, in both shapes: ``end`` and ``duration`` once finished, ``cause`` if any."""
    shaped: dict[str, Any] = {"activationId": act.activation_id, "start": act.start}
    if act.end:
        shaped["end"] = act.end
        shaped["duration"] = act.end - act.start
    if act.cause:
        shaped["cause"] = act.cause
    return shaped


def activation_json(act: Activation) -> dict[str, Any]:
    """The full (extended) record: no statusCode inside ``response``."""
    return {
        "namespace": act.namespace,
        "name": act.name,
        "version": act.version,
        "subject": act.subject,
        **_span(act),
        "response": response_json(act),
        "logs": act.logs,
        "annotations": act.annotations,
        "publish": act.publish,
    }


def activation_summary(act: Activation) -> dict[str, Any]:
    shaped = {**head_json(act), "annotations": act.annotations, **_span(act)}
    if act.end:
        shaped["statusCode"] = act.status_code
    return shaped


def _name_filter(req: Request) -> str | None:
    raw = req.query.get("name")
    if raw is None or raw == "":
        return None
    parts = raw.strip("/").split("/")
    if len(parts) > 2:
        raise MalformedQuery(
            "name", f"Parameter may be a 'simple' name or 'package-name/simple' name: {raw}"
        )
    return "/".join(check_name(p) for p in parts)


async def list_activations(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace = namespace_of(who, args)
    skip, limit, count = list_window(req, "activations")
    docs = query_bool(req, "docs")
    if count and docs:
        raise BadRequest("The parameter 'docs' is not permitted with 'count'.")
    key, since, upto = _name_filter(req), query_epoch(req, "since"), query_epoch(req, "upto")
    if count:
        total = backend.store.count_activations(namespace, key, since, upto)
        return json_response(200, {"activations": total})
    found = backend.store.list_activations(namespace, key, since, upto, skip, limit)
    shape = activation_json if docs else activation_summary
    return json_response(200, [shape(a) for a in found])


def _find(backend: Backend, who: Identity, args: dict[str, str]) -> Activation:
    namespace = namespace_of(who, args)
    activation_id = unquote(args["id"])
    if len(activation_id) != 32:
        raise BadRequest(
            f"The request content was malformed:\nActivation id length is {len(activation_id)} but must be 32."
        )
    act = backend.store.get_activation(activation_id.lower())
    # Running activations are not stored yet on the platform: 404 until they finish.
    if act is None or act.running or act.namespace != namespace:
        raise NotFound()
    return act


async def get_activation(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    return json_response(200, activation_json(_find(backend, who, args)))


async def get_result(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    return json_response(200, response_json(_find(backend, who, args)))


async def get_logs(backend: Backend, req: Request, who: Identity, args: dict[str, str]) -> Response:
    return json_response(200, {"logs": _find(backend, who, args).logs})
