"""API documents as pure functions: what ``createApi`` and ``deleteApi`` do to an API's swagger.

OpenWhisk keeps one OpenAPI 2.0 ("swagger") document per API, an API being every
route under one base path of a namespace. Its route management actions
(apache/openwhisk ``core/routemgmt/createApi/createApi.js``, ``deleteApi/deleteApi.js``
and ``common/apigw-utils.js``) build that document, add or remove one endpoint, and
check it before handing it to the gateway; this module does the same, in the same
shape, so ``wsk api get`` output made here can be fed back to a real OpenWhisk.
No I/O: ``apimgmt`` reads and stores, ``apiroutes`` turns documents into routes.

Every failure is an ``ApidocError`` whose message says what is wrong and where; the
route management actions answer it as their error (``apimgmt``).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import urlsplit

# whisk.ApiVerbs in apache/openwhisk-client-go whisk/api.go.
VERBS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")
# The web action content extensions (apache/openwhisk docs/webactions.md).
RESPONSE_TYPES = ("json", "http", "html", "text", "svg")
REQUEST_PATH = "$(request.path)"
SECURE_KEY_HEADER = "message.headers.X-Require-Whisk-Auth"
# Bounds: one document is read on every route lookup and rewritten on every create.
MAX_OPERATIONS = 1000
MAX_PATH_LENGTH = 2048

_SEGMENT_PARAM = re.compile(r"/\{[^/]+\}(?:/|$)")  # isValidRelativePath: a whole-segment {name}
_PARAM = re.compile(r"\{([^/}]+)\}")
_WEB_PATH = re.compile(r"/api/v1/web/([^/]+)/([^/]+)/([^/]+)\Z")


class ApidocError(ValueError):
    """A request or document the route management actions refuse; ``str`` says why."""


def base_path_key(base_path: str) -> str:
    """The API's key: the gateway strips the base path's slashes and puts one in front
    (apache/openwhisk-apigateway ``scripts/lua/management/lib/apis.lua``, ``addAPI``)."""
    return "/" + base_path.strip("/")


def base_doc(base_path: str, title: str | None) -> dict[str, Any]:
    """An API with no endpoints yet (``generateBaseSwaggerApi``): CORS on, titled by name."""
    return {
        "swagger": "2.0",
        "info": {"title": title or base_path, "version": "1.0.0"},
        "basePath": base_path,
        "paths": {},
        "x-ibm-configuration": {"assembly": {}, "cors": {"enabled": True}},
    }


def operation_id(method: str, rel_path: str) -> str:
    """``makeOperationId``: ``get`` + ``/books/{isbn}`` -> ``getBooksIsbn``.

    Characters other than letters, digits, ``_`` and ``-`` split words; each word is
    capitalised and the rest of it lower-cased.
    """
    spaced = re.sub(r"[^0-9A-Za-z_-]", " ", rel_path)
    words = re.sub(r"[0-9A-Za-z_]\S*", lambda m: m[0][:1].upper() + m[0][1:].lower(), spaced)
    return method.lower() + re.sub(r"\s", "", words)


def path_parameters(path: str) -> list[str]:
    """The ``{name}`` parameters of a path, in order."""
    return _PARAM.findall(path)


def split_action_name(name: str) -> tuple[str, str]:
    """(package or "", action) of ``action``, ``pkg/action`` or ``/ns/pkg/action``."""
    parts = [p for p in name.split("/") if p]
    if len(parts) >= 3:
        return parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], parts[1]
    return "", parts[0] if parts else ""


def web_url(backend_url: str, namespace: str, action_name: str, extension: str) -> str:
    """The web action URL an endpoint forwards to (``makeWebActionBackendUrl``): the
    scheme and host of the client's ``backendUrl``, the package ``default`` if none."""
    parts = urlsplit(backend_url)
    base = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    prefix = parts.path.split("/api/v", 1)[0] if "/api/v" in parts.path else ""
    package, action = split_action_name(action_name)
    return f"{base}{prefix}/api/v1/web/{namespace}/{package or 'default'}/{action}.{extension}"


def target_url(url: str, extension: str) -> str:
    """What the gateway invokes: ``.http`` routes add the request's path
    (``$(request.path)``), which is how an action sees path parameters in ``__ow_path``."""
    return url + REQUEST_PATH if extension == "http" else url


def parse_web_url(url: str) -> tuple[str, str | None, str, str, bool] | None:
    """(namespace, package or None, action, extension, adds request path) of a web action
    URL such as ``https://host/api/v1/web/guest/default/hello.http$(request.path)``;
    None for any other URL."""
    adds_path = url.endswith(REQUEST_PATH)
    if adds_path:
        url = url[: -len(REQUEST_PATH)]
    found = _WEB_PATH.search(urlsplit(url).path)
    if found is None:
        return None
    namespace, package, last = found.groups()
    action, dot, extension = last.rpartition(".")
    if not dot or extension not in RESPONSE_TYPES or not action:
        return None
    return namespace, None if package == "default" else package, action, extension, adds_path


def replace_namespace(apidoc: dict[str, Any], namespace: str) -> None:
    """``updateNamespace``: the caller's namespace, from its credentials, replaces ``_``
    in the endpoint's action (and its URL) and is the API's namespace."""
    action = apidoc.get("action")
    if isinstance(action, dict) and action.get("namespace") == "_":
        action["namespace"] = namespace
        url = action.get("backendUrl")
        if isinstance(url, str):
            action["backendUrl"] = url.replace("/api/v1/web/_/", f"/api/v1/web/{namespace}/", 1)
    apidoc["namespace"] = namespace


def parse_json_field(value: Any, what: str) -> dict[str, Any]:
    """An object sent as itself or as JSON text (the clients do both)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ApidocError(f"{what} field cannot be parsed. Ensure it is valid JSON.") from None
    if not isinstance(value, dict):
        raise ApidocError(f"{what} must be a JSON object, found {type(value).__name__}")
    return value


def check_endpoint(apidoc: dict[str, Any], responsetype: str) -> None:
    """The endpoint form of ``apidoc`` (``createApi``'s ``validateArgs``), plus the checks
    the gateway would otherwise only fail at call time: a verb, a response type, paths."""
    for field in ("gatewayBasePath", "gatewayPath", "gatewayMethod"):
        if not apidoc.get(field):
            raise ApidocError(f"apidoc is missing the {field} field")
    action = apidoc.get("action")
    if not isinstance(action, dict):
        raise ApidocError("apidoc is missing the action field.")
    for field in ("backendMethod", "backendUrl", "namespace", "name", "authkey"):
        if not action.get(field):
            raise ApidocError(f"action is missing the {field} field.")
    for field in ("gatewayBasePath", "gatewayPath", "gatewayMethod"):
        if not isinstance(apidoc[field], str):
            raise ApidocError(f"apidoc.{field} must be a string")
    for field in ("name", "namespace", "backendUrl"):
        if not isinstance(action[field], str):
            raise ApidocError(f"action.{field} must be a string")
    method = apidoc["gatewayMethod"]
    if method.upper() not in VERBS:
        raise ApidocError(
            f"apidoc.gatewayMethod {method!r} is not an API verb; use one of {', '.join(VERBS)}"
        )
    if responsetype not in RESPONSE_TYPES:
        raise ApidocError(
            f"responsetype {responsetype!r} is not a web action extension; use one of "
            + ", ".join(RESPONSE_TYPES)
        )
    for field in ("gatewayBasePath", "gatewayPath"):
        _check_path(apidoc[field], f"apidoc.{field}")
    if not split_action_name(action["name"])[1]:
        raise ApidocError(f"action.name {action['name']!r} does not name an action")


def _check_path(path: str, what: str) -> None:
    if not path.startswith("/"):
        raise ApidocError(f"{what} {path!r} must begin with '/'")
    if len(path) > MAX_PATH_LENGTH:
        raise ApidocError(f"{what} is {len(path)} characters long; at most {MAX_PATH_LENGTH}")
    if any(c.isspace() or c in "?#" for c in path):
        raise ApidocError(f"{what} {path!r} holds a space, '?' or '#'; a path cannot")


def add_endpoint(doc: dict[str, Any], apidoc: dict[str, Any], responsetype: str) -> dict[str, Any]:
    """A copy of ``doc`` with the endpoint (``addEndpointToSwaggerApi``): the path's
    operation, naming its action under ``x-openwhisk``, and the gateway's invoke (and,
    for a secured web action, the ``X-Require-Whisk-Auth`` header it sets)."""
    doc = copy.deepcopy(doc)
    rel_path, method = apidoc["gatewayPath"], apidoc["gatewayMethod"].lower()
    action = apidoc["action"]
    op_id = operation_id(method, rel_path)
    url = web_url(action["backendUrl"], action["namespace"], action["name"], responsetype)
    package, name = split_action_name(action["name"])
    operation: dict[str, Any] = {"operationId": op_id}
    if apidoc.get("pathParameters") is not None:
        operation["parameters"] = apidoc["pathParameters"]
    operation["x-openwhisk"] = {
        "url": url,
        "namespace": action["namespace"],
        "package": package,
        "action": name,
    }
    operation["responses"] = {"default": {"description": "Default response"}}
    doc.setdefault("paths", {}).setdefault(rel_path, {})[method] = operation
    steps: list[dict[str, Any]] = [
        {"invoke": {"target-url": target_url(url, responsetype), "verb": "keep"}}
    ]
    if action.get("secureKey") not in (None, ""):
        steps.append(
            {
                "set-variable": {
                    "actions": [{"set": SECURE_KEY_HEADER, "value": action["secureKey"]}]
                }
            }
        )
    cases = _cases(doc)
    entry = {"operations": [op_id], "execute": steps}
    for index, case in enumerate(cases):
        if isinstance(case, dict) and (case.get("operations") or [None])[0] == op_id:
            cases[index] = entry
            break
    else:
        cases.append(entry)
    return doc


def _cases(doc: dict[str, Any]) -> list[Any]:
    """The gateway's ``operation-switch`` cases, created where the document has none."""
    config = doc.setdefault("x-ibm-configuration", {})
    assembly = config.setdefault("assembly", {})
    execute = assembly.setdefault("execute", [])
    if not execute or not isinstance(execute[0], dict):
        execute.insert(0, {})
    switch = execute[0].setdefault("operation-switch", {})
    return switch.setdefault("case", [])


def remove_endpoint(doc: dict[str, Any], rel_path: str, operation: str | None) -> dict[str, Any]:
    """A copy of ``doc`` without ``rel_path`` (one operation of it, or all); its
    ``operation-switch`` cases go too (``removeEndpointFromSwaggerApi``)."""
    doc = copy.deepcopy(doc)
    paths = doc.get("paths") or {}
    if rel_path not in paths:
        raise ApidocError(f"path '{rel_path}' does not exist in the API")
    if operation is None:
        removed = [operation_id(op, rel_path) for op in paths[rel_path]]
        del paths[rel_path]
    else:
        op = operation.lower()
        if op not in paths[rel_path]:
            raise ApidocError(f"path '{rel_path}' with operation '{op}' does not exist in the API")
        del paths[rel_path][op]
        if not paths[rel_path]:
            del paths[rel_path]
        removed = [operation_id(op, rel_path)]
    config = doc.get("x-ibm-configuration")
    execute = (
        (config or {}).get("assembly", {}).get("execute") if isinstance(config, dict) else None
    )
    if isinstance(execute, list) and execute and isinstance(execute[0], dict):
        switch = execute[0].get("operation-switch")
        if isinstance(switch, dict) and isinstance(switch.get("case"), list):
            switch["case"] = [
                case
                for case in switch["case"]
                if not (isinstance(case, dict) and (case.get("operations") or [None])[0] in removed)
            ]
    return doc


def check_swagger(doc: dict[str, Any]) -> None:
    """A document a client sends whole (``wsk api create --config-file``): the fields the
    actions require, and a shape the gateway can route from."""
    for field in ("basePath", "paths", "info"):
        if not doc.get(field):
            raise ApidocError(f"swagger is missing the {field} field.")
    if not isinstance(doc["basePath"], str):
        raise ApidocError("swagger basePath must be a string")
    _check_path(doc["basePath"], "swagger basePath")
    if not isinstance(doc["info"], dict):
        raise ApidocError("swagger info must be an object with a title")
    if not isinstance(doc["paths"], dict):
        raise ApidocError("swagger paths must be an object of paths to operations")
    for path, operations in doc["paths"].items():
        _check_path(path, f"swagger path {path!r}:")
        if not isinstance(operations, dict):
            raise ApidocError(f"swagger path {path!r} must map operations (get, post, ...)")
        for verb, operation in operations.items():
            if verb == "parameters":
                continue
            if verb.upper() not in VERBS:
                raise ApidocError(
                    f"swagger path {path!r}: {verb!r} is not an operation; use one of "
                    + ", ".join(v.lower() for v in VERBS)
                )
            if not isinstance(operation, dict):
                raise ApidocError(f"swagger path {path!r} operation {verb!r} must be an object")
    for key in ("x-ibm-configuration", "x-gateway-configuration"):
        if key in doc and not isinstance(doc[key], dict):
            raise ApidocError(f"swagger {key} must be an object")


def check_final(doc: dict[str, Any]) -> None:
    """``validateFinalSwagger``: no parameters in the base path; a path with parameters
    must reach a ``.http`` action with the request's path, and declare each of them."""
    base = doc.get("basePath")
    if isinstance(base, str) and _SEGMENT_PARAM.search(base):
        raise ApidocError(
            f"The base path ({base}) cannot have parameters. Only the relative path supports"
            " path parameters."
        )
    targets = operation_targets(doc)
    count = 0
    for path, operations in (doc.get("paths") or {}).items():
        count += sum(1 for verb in operations if verb != "parameters")
        if not _SEGMENT_PARAM.search(path):
            continue
        shared = operations.get("parameters") or []
        for verb, operation in operations.items():
            if verb == "parameters":
                continue
            url = (operation.get("x-openwhisk") or {}).get("url")
            if isinstance(url, str) and not url.endswith(".http"):
                raise ApidocError(
                    "The action must use a response type of '.http' in order to receive the"
                    " path parameters."
                )
            op_id = operation.get("operationId")
            target = targets.get(op_id)
            if isinstance(target, str) and not target.endswith(".http" + REQUEST_PATH):
                raise ApidocError(
                    f"The target-url for operationId '{op_id}' must end in '$(request.path)'"
                    " in order for actions to receive the path parameters."
                )
            declared = [*shared, *(operation.get("parameters") or [])]
            names = {p.get("name") for p in declared if isinstance(p, dict)}
            for name in path_parameters(path):
                if name not in names:
                    raise ApidocError(
                        f"The parameter '{name}' defined in path '{path}' does not match any"
                        " of the parameters defined for the path in the swagger file."
                    )
    if count > MAX_OPERATIONS:
        raise ApidocError(f"the API has {count} operations; at most {MAX_OPERATIONS}")


def gateway_config(doc: dict[str, Any]) -> dict[str, Any]:
    """``x-gateway-configuration``, else ``x-ibm-configuration`` (the gateway reads both)."""
    for key in ("x-gateway-configuration", "x-ibm-configuration"):
        config = doc.get(key)
        if isinstance(config, dict):
            return config
    return {}


def operation_targets(doc: dict[str, Any]) -> dict[Any, Any]:
    """operationId -> the ``target-url`` its ``operation-switch`` case invokes."""
    execute = (gateway_config(doc).get("assembly") or {}).get("execute")
    targets: dict[Any, Any] = {}
    for step in execute if isinstance(execute, list) else []:
        switch = step.get("operation-switch") if isinstance(step, dict) else None
        for case in (switch or {}).get("case") or []:
            if not isinstance(case, dict):
                continue
            steps = case.get("execute") if isinstance(case.get("execute"), list) else []
            invoke = next(
                (
                    s["invoke"]
                    for s in steps
                    if isinstance(s, dict) and isinstance(s.get("invoke"), dict)
                ),
                {},
            )
            for op_id in case.get("operations") or []:
                if isinstance(op_id, str):
                    targets[op_id] = invoke.get("target-url")
    return targets
