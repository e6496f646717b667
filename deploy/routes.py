"""API gateway routes as plan entities: the manifest's ``apis`` and the server's APIs, pure.

A route is one operation (method + path) of an API; it is created with the body
wskdeploy sends for it (``ComposeApiRecords`` in apache/openwhisk-wskdeploy
``parsers/manifest_parser.go``: the ``apidoc`` of openwhisk-client-go ``whisk/api.go``)
to ``whisk.system/apimgmt/createApi`` and deleted by base path, path and method
through ``deleteApi``. The server keeps no annotations on routes, so a route belongs
to the project that owns the action it reaches: undeploy removes the routes to the
project's actions, and a route to another project's action (or to one of nobody) is
a conflict, as for any entity. The digest is computed from what the server's swagger
shows (path, method, action, extension, secret), so an unchanged route is a no-op.
``client`` adds what only the target knows: the web action's URL and the API key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from deploy.models import ApiSpec, Entity, Kind, Manifest, route_key

REQUEST_PATH = "$(request.path)"
SECURE_KEY_HEADER = "message.headers.X-Require-Whisk-Auth"


def routes_of(manifest: Manifest) -> list[ApiSpec]:
    """The manifest's routes, one per method and path (the later declaration wins)."""
    return list({api.key: api for api in manifest.apis}.values())


def route_digest(route: dict[str, Any]) -> str:
    text = json.dumps(route, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _summary(
    base: str, rel: str, method: str, action: str, response: str, secret: Any
) -> dict[str, Any]:
    """What decides whether a route must be written again: not the API's name, which
    the gateway keeps from the first route of a base path."""
    return {
        "base": "/" + base.strip("/"),
        "path": rel,
        "method": method.upper(),
        "action": action,
        "response": response,
        "secret": secret,
    }


def desired_routes(manifest: Manifest, namespace: str) -> list[tuple[str, dict[str, Any], str]]:
    """(name, body, digest) of every route; ``body`` is ``{"apidoc", "responsetype"}``."""
    secrets = {
        spec.path: spec.annotations.get("require-whisk-auth")
        for spec in (*manifest.actions, *manifest.sequences)
    }
    out = []
    for api in routes_of(manifest):
        secret = secrets.get(api.action)
        secret = None if secret in (None, False) else secret
        action: dict[str, Any] = {
            "name": api.action,
            "namespace": namespace,
            "backendMethod": api.method,
        }
        if secret is not None:
            action["secureKey"] = secret  # the deployer adds it for a secured web action
        apidoc: dict[str, Any] = {
            "namespace": namespace,
            "apiName": api.api_name,
            "gatewayBasePath": api.base_path,
            "gatewayPath": api.rel_path,
            "gatewayMethod": api.method,
            "id": f"API:{namespace}:{api.rel_path}",
            "action": action,
        }
        parameters = _path_parameters(api.rel_path)
        if parameters:
            apidoc["pathParameters"] = parameters
        body = {"apidoc": apidoc, "responsetype": api.response}
        summary = _summary(
            api.base_path, api.rel_path, api.method, api.action, api.response, secret
        )
        out.append((api.key, body, route_digest(summary)))
    return out


def _path_parameters(rel_path: str) -> list[dict[str, Any]]:
    """wskdeploy's ``generatePathParameters``: each ``{name}`` segment once."""
    names: list[str] = []
    for segment in rel_path.split("/"):
        if len(segment) > 2 and segment.startswith("{") and segment.endswith("}"):
            if segment[1:-1] not in names:
                names.append(segment[1:-1])
    return [
        {
            "name": name,
            "in": "path",
            "description": f"Default description for '{name}'",
            "required": True,
            "type": "string",
        }
        for name in names
    ]


def current_routes(
    apis: list[dict[str, Any]], owners: dict[str, str | None], namespace: str
) -> list[Entity]:
    """Every operation of the namespace's APIs (a ``getApi`` answer's ``apis``) as an
    Entity; ``owners`` maps action paths to their project (None: unmanaged)."""
    out: list[Entity] = []
    for item in apis:
        doc = ((item or {}).get("value") or {}).get("apidoc") or {}
        base = doc.get("basePath")
        paths = doc.get("paths")
        if not isinstance(base, str) or not isinstance(paths, dict):
            continue
        targets = _targets(doc)
        for rel, operations in paths.items():
            if not isinstance(operations, dict):
                continue
            for verb, operation in operations.items():
                if verb == "parameters" or not isinstance(operation, dict):
                    continue
                out.append(_current(doc, rel, verb, operation, targets, owners, namespace))
    return out


def _current(
    doc: dict[str, Any],
    rel: str,
    verb: str,
    operation: dict[str, Any],
    targets: dict[str, tuple[Any, Any]],
    owners: dict[str, str | None],
    namespace: str,
) -> Entity:
    base = doc["basePath"]
    xow = operation.get("x-openwhisk") if isinstance(operation.get("x-openwhisk"), dict) else {}
    target, secret = targets.get(operation.get("operationId"), (None, None))
    url = target if isinstance(target, str) else xow.get("url")
    response = _extension(url)
    action = xow.get("action")
    package = xow.get("package")
    path = f"{package}/{action}" if package else action
    body: dict[str, Any] = {
        "apidoc": {
            "apiName": (doc.get("info") or {}).get("title"),
            "gatewayBasePath": base,
            "gatewayPath": rel,
            "gatewayMethod": verb.upper(),
            "action": {"name": path, "namespace": xow.get("namespace")},
        },
        "responsetype": response,
        "annotations": [],
    }
    if secret is not None:
        body["apidoc"]["action"]["secureKey"] = secret
    ours = namespace == "_" or xow.get("namespace") == namespace
    owner = owners.get(path) if ours and isinstance(path, str) else None
    if owner:
        body["annotations"] = [{"key": "whisk-managed", "value": {"projectName": owner}}]
    digest = ""
    if isinstance(path, str) and response is not None:
        digest = route_digest(_summary(base, rel, verb, path, response, secret))
    return Entity(Kind.API, route_key(verb, "/" + base.strip("/"), rel), body, digest)


def _extension(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    url = url.removesuffix(REQUEST_PATH)
    last = url.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[1] if "." in last else None


def _targets(doc: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """operationId -> (target-url, X-Require-Whisk-Auth value) from the gateway's cases."""
    config = doc.get("x-gateway-configuration") or doc.get("x-ibm-configuration") or {}
    execute = (config.get("assembly") or {}).get("execute") if isinstance(config, dict) else None
    found: dict[str, tuple[Any, Any]] = {}
    for step in execute if isinstance(execute, list) else []:
        switch = step.get("operation-switch") if isinstance(step, dict) else None
        for case in (switch or {}).get("case") or []:
            if not isinstance(case, dict):
                continue
            url = secret = None
            for item in case.get("execute") or []:
                if not isinstance(item, dict):
                    continue
                if isinstance(item.get("invoke"), dict):
                    url = item["invoke"].get("target-url")
                for setter in (item.get("set-variable") or {}).get("actions") or []:
                    if isinstance(setter, dict) and setter.get("set") == SECURE_KEY_HEADER:
                        secret = setter.get("value")
            for op_id in case.get("operations") or []:
                if isinstance(op_id, str):
                    found[op_id] = (url, secret)
    return found


def route_reasons(want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """Why a route is written again; a secret is never shown."""
    out: list[str] = []
    want_action = want["apidoc"]["action"]["name"]
    have_action = ((have.get("apidoc") or {}).get("action") or {}).get("name")
    if have_action != want_action:
        out.append(f"action {have_action} → {want_action}")
    if have.get("responsetype") != want["responsetype"]:
        out.append(f"response {have.get('responsetype')} → {want['responsetype']}")
    return out


def route_urls(apis: list[dict[str, Any]], manifest: Manifest) -> list[dict[str, Any]]:
    """The manifest's routes as the server serves them: ``gwApiUrl`` + relative path."""
    by_base: dict[str, str] = {}
    for item in apis:
        value = (item or {}).get("value") or {}
        base = (value.get("apidoc") or {}).get("basePath")
        if isinstance(base, str) and isinstance(value.get("gwApiUrl"), str):
            by_base["/" + base.strip("/")] = value["gwApiUrl"].rstrip("/")
    out = []
    for api in routes_of(manifest):
        base = by_base.get("/" + api.base_path.strip("/"))
        if base is None:
            continue
        url = base + api.rel_path
        entry = {"route": api.key, "action": api.action, "url": url}
        if "{" not in api.rel_path:
            flag = "" if api.method == "GET" else f"-X {api.method} "
            entry["curl"] = f"curl -sS {flag}'{url}'"
        out.append(entry)
    return out
