"""Actions: CRUD and invoke. Parses requests, calls store/invoker, shapes camelCase JSON."""

from __future__ import annotations

from typing import Any

from localwhisk.api.activations import activation_json
from localwhisk.api.common import (
    bump_version,
    check_publish,
    check_version,
    find_entity,
    key_values,
    list_window,
    merge_annotations,
    names,
    namespace_of,
    query_bool,
    query_int,
    read_object,
    set_annotation,
    stamp,
)
from localwhisk.api.specs import default_limits, exec_json, parse_exec, parse_limits
from localwhisk.context import Context
from localwhisk.errors import (
    AlreadyExists,
    BindingOperation,
    MalformedQuery,
    NotFound,
    WrongCollection,
)
from localwhisk.http import Request, Response, json_response
from localwhisk.models import SUCCESS, WHISK_ERROR, Action
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import check_package_read, get_package, resolve_action


def action_json(
    action: Action, with_code: bool = True, parameters: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "namespace": action.namespace,
        "name": action.name,
        "version": action.version,
        "publish": action.publish,
        "exec": exec_json(action, with_code),
        "parameters": action.parameters if parameters is None else parameters,
        "limits": action.limits,
        "annotations": action.annotations,
        "updated": action.updated,
    }


def action_summary(action: Action) -> dict[str, Any]:
    return {
        "namespace": action.namespace,
        "name": action.name,
        "version": action.version,
        "publish": action.publish,
        "annotations": action.annotations,
        "limits": action.limits,
        "exec": {"binary": bool(action.exec.get("binary", False))},
        "updated": action.updated,
    }


def _owned(
    ctx: Context, namespace: str, package: str | None, name: str
) -> tuple[str, Action | None]:
    """The storage path of an action and the action there, if any (no binding lookup)."""
    if package is None:
        path = namespace
    else:
        path = f"{namespace}/{package}"
    found = find_entity(ctx.store, path, name, Action)
    return path, found


async def list_actions(ctx: Context, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace = namespace_of(who, args)
    skip, limit, count = list_window(req, "actions")
    if "pkg" in args:
        _, package, _ = names(who, {**args, "name": args["pkg"]})
        pkg = get_package(ctx.store, namespace, package or "")
        if pkg.is_binding:
            # Listing a binding shows its target's actions: only while that is readable.
            check_package_read(ctx.store, who.namespace, namespace, package or "")
            pkg = get_package(ctx.store, pkg.binding["namespace"], pkg.binding["name"])
        found = ctx.store.entities("actions", namespace, path=f"{pkg.namespace}/{pkg.name}")
    else:
        found = ctx.store.entities("actions", namespace)
    if count:
        return json_response(200, {"actions": len(found)})
    return json_response(200, [action_summary(a) for a in found[skip : skip + limit]])  # type: ignore[arg-type]


async def get_action(ctx: Context, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace, package, name = names(who, args)
    with_code = query_bool(req, "code", True)
    if package is None:
        _, action = _owned(ctx, namespace, None, name)
        if action is None:
            raise NotFound()
        return json_response(200, action_json(action, with_code))
    resolved = resolve_action(ctx.store, namespace, package, name, caller=who.namespace)
    action = resolved.action
    own = {p["key"] for p in action.parameters}
    inherited = [{"key": k, "value": v} for k, v in resolved.params.items() if k not in own]
    return json_response(200, action_json(action, with_code, inherited + action.parameters))


async def put_action(ctx: Context, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace, package, name = names(who, args)
    body = read_object(req)
    if package is not None and get_package(ctx.store, namespace, package).is_binding:
        raise BindingOperation()
    overwrite = query_bool(req, "overwrite")
    path = namespace if package is None else f"{namespace}/{package}"
    existing = ctx.store.get(path, name)
    if existing is not None and not overwrite:
        raise AlreadyExists()
    if existing is not None and not isinstance(existing, Action):
        raise WrongCollection()
    limits_cfg = ctx.settings.limits
    fqn = f"/{path}/{name}"
    annotations = key_values(body, "annotations")
    parameters = key_values(body, "parameters")
    if existing is None:
        exec_ = parse_exec(body.get("exec"), ctx.store, namespace, fqn, limits_cfg)
        merged = merge_annotations([], annotations)
        if not any(p["key"] == "provide-api-key" for p in merged):
            merged.append({"key": "provide-api-key", "value": False})
        action = Action(
            namespace=path,
            name=name,
            version=check_version(body["version"]) if body.get("version") else "0.0.1",
            publish=check_publish(body.get("publish"), False),
            exec=exec_,
            parameters=parameters or [],
            limits=parse_limits(body.get("limits"), default_limits(limits_cfg), limits_cfg),
            annotations=merged,
        )
    else:
        exec_ = (
            parse_exec(body["exec"], ctx.store, namespace, fqn, limits_cfg)
            if body.get("exec") is not None
            else existing.exec
        )
        action = Action(
            namespace=path,
            name=name,
            version=check_version(body["version"])
            if body.get("version")
            else bump_version(existing.version),
            publish=check_publish(body.get("publish"), existing.publish),
            exec=exec_,
            parameters=parameters if parameters is not None else existing.parameters,
            limits=parse_limits(body.get("limits"), existing.limits, limits_cfg),
            annotations=merge_annotations(
                existing.annotations, annotations, body.get("delAnnotations")
            ),
        )
    if exec_["kind"] == "sequence":
        action.parameters = [{"key": "_actions", "value": exec_["components"]}]
    action.annotations = set_annotation(action.annotations, "exec", exec_["kind"])
    action.updated = stamp()
    ctx.store.put(action)
    return json_response(200, action_json(action))


async def delete_action(
    ctx: Context, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, package, name = names(who, args)
    path, action = _owned(ctx, namespace, package, name)
    if action is None:
        raise NotFound()
    ctx.store.delete(path, name)
    return json_response(200, action_json(action))


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
    ctx: Context, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, package, name = names(who, args)
    blocking = query_bool(req, "blocking")
    only_result = query_bool(req, "result")
    wait_ms = _wait_ms(req, ctx.settings.limits.blocking_wait_ms)
    payload = read_object(req)
    resolved = resolve_action(ctx.store, namespace, package, name, caller=who.namespace)
    done = await ctx.invoker.invoke(
        who, resolved, payload, blocking=blocking, wait_ms=wait_ms, request_id=req.request_id
    )
    headers = [("x-openwhisk-activation-id", done.activation_id)]
    act = done.activation
    if act is None:
        return json_response(202, {"activationId": done.activation_id}, headers)
    if only_result or isinstance(act.result, list):
        return json_response(status_for(act.status), act.result, headers)
    return json_response(status_for(act.status), activation_json(act), headers)
