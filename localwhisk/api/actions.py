"""Actions: CRUD and invoke. Parses requests, calls store/invoker, shapes camelCase JSON."""

from __future__ import annotations

from typing import Any

from localwhisk.api import resource
from localwhisk.api.activations import activation_json
from localwhisk.api.common import (
    key_values,
    list_window,
    merge_annotations,
    names,
    namespace_of,
    query_bool,
    query_int,
    read_object,
    set_annotation,
)
from localwhisk.api.specs import default_limits, exec_json, parse_exec, parse_limits
from localwhisk.backend import Backend
from localwhisk.errors import BindingOperation, MalformedQuery
from localwhisk.http import ACTIVATION_ID_HEADER, Request, Response, json_response
from localwhisk.models import SUCCESS, WHISK_ERROR, Action
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import check_package_read, get_package, resolve_action


def action_json(
    action: Action, with_code: bool = True, parameters: list[Any] | None = None
) -> dict[str, Any]:
    return {
        **resource.head_json(action),
        "exec": exec_json(action, with_code),
        "parameters": action.parameters if parameters is None else parameters,
        "limits": action.limits,
        "annotations": action.annotations,
        "updated": action.updated,
    }


def action_summary(action: Action) -> dict[str, Any]:
    return {
        **resource.head_json(action),
        "annotations": action.annotations,
        "limits": action.limits,
        "exec": {"binary": bool(action.exec.get("binary", False))},
        "updated": action.updated,
    }


def _path(namespace: str, package: str | None) -> str:
    """Where an action is stored: its namespace, or ``namespace/package`` (no binding lookup)."""
    return namespace if package is None else f"{namespace}/{package}"


async def list_actions(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace = namespace_of(who, args)
    skip, limit, count = list_window(req, "actions")
    if "pkg" in args:
        _, package, _ = names(who, {**args, "name": args["pkg"]})
        pkg = get_package(backend.store, namespace, package or "")
        if pkg.is_binding:
            # Listing a binding shows its target's actions: only while that is readable.
            check_package_read(backend.store, who.namespace, namespace, package or "")
            pkg = get_package(backend.store, pkg.binding["namespace"], pkg.binding["name"])
        found = backend.store.entities("actions", namespace, path=f"{pkg.namespace}/{pkg.name}")
    else:
        found = backend.store.entities("actions", namespace)
    if count:
        return json_response(200, {"actions": len(found)})
    return json_response(200, [action_summary(a) for a in found[skip : skip + limit]])  # type: ignore[arg-type]


async def get_action(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, package, name = names(who, args)
    with_code = query_bool(req, "code", True)
    if package is None:
        action = resource.require_entity(backend.store, namespace, name, Action)
        if with_code:
            action = backend.store.with_code(action)  # code stays in the database until asked for
        return json_response(200, action_json(action, with_code))
    resolved = resolve_action(backend.store, namespace, package, name, caller=who.namespace)
    action = backend.store.with_code(resolved.action) if with_code else resolved.action
    own = {p["key"] for p in action.parameters}
    inherited = [{"key": k, "value": v} for k, v in resolved.params.items() if k not in own]
    return json_response(200, action_json(action, with_code, inherited + action.parameters))


async def put_action(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, package, name = names(who, args)
    body = read_object(req)
    if package is not None and get_package(backend.store, namespace, package).is_binding:
        raise BindingOperation()
    path = _path(namespace, package)
    existing = resource.replaced_by_put(backend.store, req, path, name, Action)
    limits_cfg = backend.settings.limits
    annotations = key_values(body, "annotations", backend.settings.limits.parameter_bytes)
    parameters = key_values(body, "parameters", backend.settings.limits.parameter_bytes)
    if existing is None or body.get("exec") is not None:
        exec_ = parse_exec(
            body.get("exec"), backend.store, namespace, f"/{path}/{name}", limits_cfg
        )
    else:
        exec_ = existing.exec
    if existing is None:
        merged = merge_annotations([], annotations)
        # New actions do not get the API key unless they ask for it.
        if not any(p["key"] == "provide-api-key" for p in merged):
            merged.append({"key": "provide-api-key", "value": False})
    else:
        merged = merge_annotations(existing.annotations, annotations, body.get("delAnnotations"))
    action = resource.revise(
        Action,
        existing,
        path,
        name,
        exec=exec_,
        **resource.revision(body, existing),
        parameters=parameters,
        limits=parse_limits(
            body.get("limits"),
            default_limits(limits_cfg) if existing is None else existing.limits,
            limits_cfg,
        ),
        annotations=merged,
    )
    if exec_["kind"] == "sequence":
        action.parameters = [{"key": "_actions", "value": exec_["components"]}]
    action.annotations = set_annotation(action.annotations, "exec", exec_["kind"])
    answer = resource.saved(backend.store, action, action_json)
    backend.invoker.runner.forget(f"/{path}/{name}")  # the old revision's processes and code go
    return answer


async def delete_action(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, package, name = names(who, args)
    action = resource.require_entity(backend.store, _path(namespace, package), name, Action)
    action = backend.store.with_code(action)  # the answer is the whole action, read before it goes
    answer = resource.removed(backend.store, action, action_json)
    backend.invoker.runner.forget(f"/{action.namespace}/{name}")
    return answer


def _wait_ms(req: Request, ceiling: int) -> int:
    timeout = query_int(req, "timeout")
    if timeout is None:
        return ceiling
    if not 0 < timeout <= ceiling:
        raise MalformedQuery("timeout", f"Timeout must be number of milliseconds up to {ceiling}.")
    return timeout


def status_for(status: str) -> int:
    if status == SUCCESS:
        return 200
    return 500 if status == WHISK_ERROR else 502


async def invoke_action(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, package, name = names(who, args)
    blocking = query_bool(req, "blocking")
    only_result = query_bool(req, "result")
    wait_ms = _wait_ms(req, backend.settings.limits.blocking_wait_ms)
    payload = read_object(req)
    resolved = resolve_action(backend.store, namespace, package, name, caller=who.namespace)
    done = await backend.invoker.invoke(
        who,
        resolved,
        payload,
        blocking=blocking,
        wait_ms=wait_ms,
        request_id=req.request_id,
        trace=backend.invoker.caused_by(req),
    )
    headers = [(ACTIVATION_ID_HEADER, done.activation_id)]
    act = done.activation
    if act is None:
        return json_response(202, {"activationId": done.activation_id}, headers)
    if only_result or isinstance(act.result, list):
        return json_response(status_for(act.status), act.result, headers)
    return json_response(status_for(act.status), activation_json(act), headers)
