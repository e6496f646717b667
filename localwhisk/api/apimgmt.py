"""The API gateway's management calls: ``whisk.system/apimgmt/{createApi,getApi,deleteApi}``.

On OpenWhisk these are web actions of the system namespace (apache/openwhisk
``core/routemgmt/*``, installed by ``ansible/roles/routemgmt``) which edit the API's
swagger document and hand it to apache/openwhisk-apigateway. Every client calls them
at ``/api/v1/web/whisk.system/apimgmt/<name>.http`` (the ``.http`` is optional, as for
any web action): ``wsk api`` (apache/openwhisk-cli ``commands/api.go`` through
openwhisk-client-go ``whisk/api.go``), the npm ``openwhisk`` client's ``routes``
(``lib/routes.js``) and so ``aio rt api``. Here they are served directly, with the
same arguments (query and JSON body merged, as for a web action), the same answers
(200 and the API; 502 and ``{"error": ...}``) and the same texts.

The caller's credentials choose the namespace (``__ow_user`` upstream); ``spaceguid``
and ``accesstoken`` are accepted and not needed. APIs live in the store per namespace,
keyed by base path; ``gateway`` serves their routes.
"""

from __future__ import annotations

import uuid
from typing import Any

from localwhisk.api import apidocs
from localwhisk.api import webactions as web
from localwhisk.api.apidocs import ApidocError
from localwhisk.api.common import stamp
from localwhisk.backend import Backend
from localwhisk.errors import ApiError
from localwhisk.http import JSON_TYPE, Request, Response, dumps
from localwhisk.models import Action, GatewayApi
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import locate_action

MAX_APIS = 500  # per namespace: every route lookup walks the namespace's APIs
NOT_WEB = (
    "Action '{name}' is not a web action. Issue 'wsk action update \"{name}\" --web true'"
    " to convert the action to a web action."
)  # apache/openwhisk-cli's wording (wski18n), which checks this before calling createApi
MISSING_ACTION = (
    "Action '{name}' does not exist. Create it as a web action (wsk action create {short}"
    " FILE --web true) before the API that routes to it."
)


class _Refused(Exception):
    """The action's error answer: 502 and ``{"error": message}`` (``makeErrorResponseObject``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _answer(req: Request, status: int, value: Any) -> Response:
    return Response(status, dumps(value), JSON_TYPE, web.cors_headers(req.headers))


async def create_api(
    backend: Backend, req: Request, _who: Identity | None, _args: dict[str, str]
) -> Response:
    return _run(backend, req, _create)


async def get_api(
    backend: Backend, req: Request, _who: Identity | None, _args: dict[str, str]
) -> Response:
    return _run(backend, req, _get)


async def delete_api(
    backend: Backend, req: Request, _who: Identity | None, _args: dict[str, str]
) -> Response:
    return _run(backend, req, _delete)


def _run(backend: Backend, req: Request, step: Any) -> Response:
    caller = backend.auth.identify(req.header("authorization"))
    try:
        params = web.build_arguments(
            method=req.method,
            headers=req.headers,
            query_string=req.raw_query,
            body=req.body,
            content_type=req.headers.get("content-type"),
            ow_path="",
            user=None,
            raw=False,
        ).params
    except ApiError as err:  # a body that is not JSON: the web action layer's 400
        return _answer(req, err.status, {"error": err.message, "code": req.request_id})
    try:
        return _answer(req, 200, step(backend, caller, params))
    except _Refused as refused:
        return _answer(req, 502, {"error": refused.message})


def managed_url(backend: Backend, caller: Identity, base_path: str) -> str:
    """Where the API's routes are served: ``<host>/api/<namespace uuid><base path>``, the
    form the gateway gives (``managedUrl`` in apache/openwhisk-apigateway's ``apis.lua``)."""
    host = backend.settings.api_host or f"http://127.0.0.1:{backend.settings.port}"
    return f"{host}/api/{caller.uuid}" + ("" if base_path == "/" else base_path)


def _value(backend: Backend, caller: Identity, api: GatewayApi) -> dict[str, Any]:
    """One API as the actions answer it (``generateCliApiFromGwApi``)."""
    return {
        "namespace": caller.namespace,
        "gwApiActivated": True,
        "tenantId": caller.uuid,
        "gwApiUrl": managed_url(backend, caller, api.base_path),
        "apidoc": api.doc,
    }


def _create(backend: Backend, caller: Identity | None, params: dict[str, Any]) -> Any:
    if caller is None:
        raise _Refused("A valid auth key is required.")
    if not params.get("apidoc"):
        raise _Refused("apidoc is required.")
    responsetype = params.get("responsetype") or "json"  # addEndpointToSwaggerApi's default
    try:
        doc = apidocs.parse_json_field(params["apidoc"], "apidoc")
        if not doc.get("namespace"):
            raise ApidocError("apidoc is missing the namespace field")
        apidocs.replace_namespace(doc, caller.namespace)
        if doc.get("swagger") not in (None, "", False, 0):  # JavaScript's truthiness
            if doc.get("gatewayBasePath"):
                raise ApidocError(
                    "swagger and gatewayBasePath are mutually exclusive and cannot be"
                    " specified together."
                )
            new = apidocs.parse_json_field(doc["swagger"], "swagger")
            apidocs.check_swagger(new)
            key = apidocs.base_path_key(new["basePath"])
        else:
            if not isinstance(responsetype, str):
                raise ApidocError("responsetype must be a string such as json or http")
            apidocs.check_endpoint(doc, responsetype)
            key = apidocs.base_path_key(doc["gatewayBasePath"])
            existing = backend.store.apis.get(caller.namespace, key)
            start = (
                existing.doc
                if existing is not None
                else apidocs.base_doc(doc["gatewayBasePath"], doc.get("apiName"))
            )
            new = apidocs.add_endpoint(start, doc, responsetype)
    except ApidocError as exc:
        raise _Refused(str(exc)) from None
    try:
        apidocs.check_final(new)
        _check_web_actions(backend, new)
    except ApidocError as exc:
        raise _Refused(f"API creation failure: {exc}") from None
    store = backend.store.apis
    existing = store.get(caller.namespace, key)
    if existing is None and len(store.of(caller.namespace)) >= MAX_APIS:
        raise _Refused(
            f"API creation failure: namespace {caller.namespace} already has {MAX_APIS} APIs;"
            " delete one (wsk api delete BASE_PATH) or add routes to an existing base path"
        )
    api = GatewayApi(
        caller.namespace,
        key,
        existing.api_id if existing is not None else str(uuid.uuid4()),
        new,
        stamp(),
    )
    store.put(api)
    return _value(backend, caller, api)


def _check_web_actions(backend: Backend, doc: dict[str, Any]) -> None:
    """Every operation that forwards to a web action URL names a web action that exists.

    The gateway itself would accept the route and the call would then get the
    controller's 404; ``wsk api create`` checks this first, and so is it checked here.
    Backends that are no web action URL are kept: the gateway answers for them.
    """
    targets = apidocs.operation_targets(doc)
    for operations in (doc.get("paths") or {}).values():
        for verb, operation in operations.items():
            if verb == "parameters":
                continue
            url = targets.get(operation.get("operationId"))
            if not isinstance(url, str):
                url = (operation.get("x-openwhisk") or {}).get("url")
            parsed = apidocs.parse_web_url(url) if isinstance(url, str) else None
            if parsed is None:
                continue
            namespace, package, name, _, _ = parsed
            shown = f"/{namespace}/{package + '/' if package else ''}{name}"
            try:
                action: Action = locate_action(backend.store, namespace, package, name).action
            except ApiError:
                raise ApidocError(MISSING_ACTION.format(name=shown, short=name)) from None
            if action.annotation("web-export") is not True:
                raise ApidocError(NOT_WEB.format(name=shown))


def _find(backend: Backend, caller: Identity, basepath: str) -> GatewayApi | None:
    """The API with that base path, or (no leading ``/``) that title (``getApis``)."""
    for api in backend.store.apis.of(caller.namespace):
        if basepath.startswith("/"):
            if api.base_path == apidocs.base_path_key(basepath):
                return api
        elif (api.doc.get("info") or {}).get("title") == basepath:
            return api
    return None


def _integer(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if value in (None, ""):
        return 0
    try:
        return max(0, int(str(value)))
    except ValueError:
        raise _Refused(f"{name} must be a whole number, found {value!r}") from None


def _get(backend: Backend, caller: Identity | None, params: dict[str, Any]) -> Any:
    if caller is None:
        raise _Refused("Invalid authentication.")
    output = params.get("outputFormat")
    if output is not None and str(output).lower() not in ("apigw", "swagger"):
        raise _Refused("Invalid outputFormat value. Valid values are: apigw, swagger")
    basepath = params.get("basepath")
    if basepath not in (None, "") and not isinstance(basepath, str):
        raise _Refused("basepath must be a base path (/club) or an API name")
    if basepath:
        found = _find(backend, caller, basepath)
        apis = [found] if found is not None else []
    else:
        apis = backend.store.apis.of(caller.namespace)
    skip, limit = _integer(params, "skip"), _integer(params, "limit")
    apis = apis[skip : skip + limit] if limit else apis[skip:]
    return {
        "apis": [
            {"id": api.api_id, "key": api.namespace, "value": _value(backend, caller, api)}
            for api in apis
        ]
    }


def _delete(backend: Backend, caller: Identity | None, params: dict[str, Any]) -> Any:
    if caller is None:
        raise _Refused("Invalid authentication.")
    basepath, relpath, operation = (params.get(k) for k in ("basepath", "relpath", "operation"))
    if not basepath:
        raise _Refused("basepath is required.")
    if not relpath and operation:
        raise _Refused("When specifying an operation, the path is required.")
    if not all(isinstance(v, str) for v in (basepath, relpath or "", operation or "")):
        raise _Refused("basepath, relpath and operation must be strings")
    api = _find(backend, caller, basepath)
    if api is None:
        raise _Refused(f"API deletion failure: API '{basepath}' does not exist.")
    store = backend.store.apis
    if not relpath:
        store.delete(caller.namespace, api.base_path)
        return {}
    try:
        doc = apidocs.remove_endpoint(api.doc, relpath, operation or None)
    except ApidocError as exc:
        raise _Refused(f"API deletion failure: {exc}") from None
    if not doc.get("paths"):  # the last route: the whole API goes (deleteApi.js)
        store.delete(caller.namespace, api.base_path)
    else:
        store.put(GatewayApi(api.namespace, api.base_path, api.api_id, doc, stamp()))
    return {}
