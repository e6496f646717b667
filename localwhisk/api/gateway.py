"""The API gateway's routes: ``/api/<namespace uuid>/<base path>/<relative path>``.

As apache/openwhisk-apigateway serves them (``conf.d/managed_endpoints.conf`` and
``scripts/lua/routing.lua``): the tenant is the namespace's UUID, the path is looked up
among the namespace's API resources (``apiroutes``), the operation is chosen by the
request's method, and the request goes, method, query, headers and body unchanged, to
the operation's backend: a web action URL with the route's extension (``.json``,
``.http`` ...), plus the request path for ``.http`` routes (``$(request.path)``), which
is how an action reads path parameters from ``__ow_path`` (apache/openwhisk
``docs/apigateway.md``). The web action is answered by ``web.serve``, the code path of
``/api/v1/web`` itself. As the standalone OpenWhisk points the gateway at its own
controller whatever host a URL names (``BACKEND_HOST`` in ``ApiGwLauncher.scala``),
only the path of a backend URL counts; backends that are no web action URL are refused.

Gateway errors keep the gateway's shape: ``{"status": 404, "message": "Error: ..."}``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from localwhisk.api import apiroutes, web
from localwhisk.api.apidocs import parse_web_url
from localwhisk.api.apiroutes import Resource
from localwhisk.api.webactions import WebTarget
from localwhisk.backend import Backend
from localwhisk.http import Request, Response, dumps
from localwhisk.models import GatewayApi
from localwhisk.platform.auth import Identity

GATEWAY_ERROR_TYPE = "application/json; charset=utf-8"
CORS_METHODS = "GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS"
CORS_HEADERS = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-allow-credentials",
        "access-control-expose-headers",
        "access-control-max-age",
    }
)
# (namespace, base path) -> (the API it was built from, its resources): rebuilt when the
# stored API object changes, so a route lookup does not re-read every document.
_TABLES: dict[tuple[str, str], tuple[GatewayApi, list[Resource]]] = {}
_TABLES_MAX = 4096


def _error(status: int, message: str) -> Response:
    body = dumps({"status": status, "message": f"Error: {message}"})
    return Response(status, body, GATEWAY_ERROR_TYPE)


def _table(apis: list[GatewayApi]) -> list[Resource]:
    if len(_TABLES) > _TABLES_MAX:
        _TABLES.clear()
    table: list[Resource] = []
    for api in apis:
        cached = _TABLES.get((api.namespace, api.base_path))
        if cached is None or cached[0] is not api:
            cached = (api, apiroutes.resources(api))
            _TABLES[(api.namespace, api.base_path)] = cached
        table.extend(cached[1])
    return table


async def handle(
    backend: Backend, req: Request, _who: Identity | None, args: dict[str, str]
) -> Response:
    owner = backend.auth.identity_of_uuid(unquote(args["tenant"]))
    path = unquote(args["path"])
    if owner is None:
        return _error(404, "Not found.")
    resource = apiroutes.find(_table(backend.store.apis.of(owner.namespace)), path)
    if resource is None:
        return _error(404, "Not found.")
    if resource.cors is True and req.method == "OPTIONS":
        asked = req.headers.get("access-control-request-headers")
        extra = [("Access-Control-Allow-Headers", asked)] if asked else []
        return Response(200, b"", None, _cors(resource, extra))
    operation = resource.operations.get(req.method)
    if operation is None:
        return _error(404, "Whoops. Verb not supported.")
    if operation.backend is None:
        return _error(
            502,
            f"the API names no backend for {req.method} /{'/'.join(resource.segments)}; give"
            " the operation an invoke target-url (or create the route with wsk api create)",
        )
    parsed = parse_web_url(operation.backend)
    if parsed is None:
        return _error(
            502,
            f"the route's backend {operation.backend!r} is not a web action URL"
            " (.../api/v1/web/NAMESPACE/PACKAGE/ACTION.EXT); this server forwards only to"
            " its own web actions",
        )
    namespace, package, action, extension, adds_path = parsed
    ow_path = "/" + path if adds_path else ""
    target = WebTarget(package, action, extension, ow_path)
    answer = await web.serve(
        backend, _forwarded(backend, req, operation.headers), namespace, target
    )
    if resource.cors is None:
        return answer
    kept = [(k, v) for k, v in answer.headers if k.lower() not in CORS_HEADERS]
    return replace(answer, headers=_cors(resource, kept))


def _forwarded(backend: Backend, req: Request, headers: tuple[tuple[str, str], ...]) -> Request:
    """The request as the gateway passes it on: its headers, those the route's case sets
    (a secured web action's ``X-Require-Whisk-Auth``) and ``X-Forwarded-Url``."""
    host = backend.settings.api_host or f"http://127.0.0.1:{backend.settings.port}"
    query = f"?{req.raw_query}" if req.raw_query else ""
    merged: dict[str, Any] = {**req.headers, "x-forwarded-url": f"{host}{req.raw_path}{query}"}
    for name, value in headers:
        merged[name.lower()] = value
    return replace(req, headers=merged)


def _cors(resource: Resource, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The gateway's CORS (``scripts/lua/cors.lua``): off strips the headers; on answers
    for any origin. Unlike the gateway, which echoes the Origin and allows credentials,
    ``*`` without credentials: a local route must not lend a browser's stored
    credentials for this server to another site's page."""
    if resource.cors is not True:
        return [(k, v) for k, v in headers if k.lower() not in CORS_HEADERS]
    return [
        *headers,
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", CORS_METHODS),
    ]
