"""Packages and package bindings: CRUD with the platform's binding rules."""

from __future__ import annotations

from typing import Any

from localwhisk.api.common import (
    bump_version,
    check_name,
    check_publish,
    check_version,
    find_entity,
    key_values,
    list_page,
    names,
    namespace_of,
    query_bool,
    read_object,
    set_annotation,
    stamp,
)
from localwhisk.context import Context
from localwhisk.errors import (
    AlreadyExists,
    BadRequest,
    BindingConflict,
    Forbidden,
    MalformedRequest,
    NotFound,
    PackageNotEmpty,
    WrongCollection,
)
from localwhisk.http import Request, Response, json_response
from localwhisk.models import Action, Package
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import check_package_read


def package_json(pkg: Package) -> dict[str, Any]:
    return {
        "namespace": pkg.namespace,
        "name": pkg.name,
        "version": pkg.version,
        "publish": pkg.publish,
        "binding": pkg.binding,
        "parameters": pkg.parameters,
        "annotations": pkg.annotations,
        "updated": pkg.updated,
    }


def package_summary(pkg: Package) -> dict[str, Any]:
    return {
        "namespace": pkg.namespace,
        "name": pkg.name,
        "version": pkg.version,
        "publish": pkg.publish,
        "annotations": pkg.annotations,
        "binding": pkg.binding or False,
        "updated": pkg.updated,
    }


def _get(ctx: Context, namespace: str, name: str) -> Package | None:
    return find_entity(ctx.store, namespace, name, Package)


def _contents(ctx: Context, pkg: Package) -> list[Action]:
    return ctx.store.entities("actions", pkg.root_namespace, path=f"{pkg.namespace}/{pkg.name}")  # type: ignore[return-value]


async def list_packages(
    ctx: Context, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    found = ctx.store.entities("packages", namespace_of(who, args))
    return list_page(req, "packages", found, package_summary)


async def get_package(ctx: Context, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace, _, name = names(who, args)
    pkg = _get(ctx, namespace, name)
    if pkg is None:
        raise NotFound()
    shaped = package_json(pkg)
    source = pkg
    if pkg.is_binding:
        # A binding shows its target's parameters and actions: only while that is readable.
        check_package_read(ctx.store, who.namespace, namespace, name)
        bound = _get(ctx, pkg.binding["namespace"], pkg.binding["name"])
        if bound is not None:
            source = bound
            own = {p["key"] for p in pkg.parameters}
            shaped["parameters"] = [
                p for p in bound.parameters if p["key"] not in own
            ] + pkg.parameters
    contents = _contents(ctx, source)
    shaped["actions"] = [
        {"name": a.name, "version": a.version, "annotations": a.annotations}
        for a in contents
        if a.annotation("feed") is None
    ]
    shaped["feeds"] = [
        {"name": a.name, "version": a.version, "annotations": a.annotations}
        for a in contents
        if a.annotation("feed") is not None
    ]
    return json_response(200, shaped)


def _binding(ctx: Context, who: Identity, value: Any) -> dict[str, str]:
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise MalformedRequest("binding must be an object with 'namespace' and 'name'")
    namespace = str(value.get("namespace") or "_")
    if namespace == "_":
        namespace = who.namespace
    name = check_name(value["name"])
    target = ctx.store.get(namespace, name)
    if not isinstance(target, Package):
        raise BadRequest("Binding references a package that does not exist.")
    if namespace != who.namespace and not target.publish:
        raise Forbidden()
    if target.is_binding:
        raise BadRequest("Cannot bind to another package binding.")
    return {"namespace": namespace, "name": name}


async def put_package(ctx: Context, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace, _, name = names(who, args)
    if name == "default":
        raise BadRequest("Package name 'default' is reserved.")
    body = read_object(req)
    existing = ctx.store.get(namespace, name)
    if existing is not None and not query_bool(req, "overwrite"):
        raise AlreadyExists()
    if existing is not None and not isinstance(existing, Package):
        raise WrongCollection()
    binding = _binding(ctx, who, body.get("binding")) if "binding" in body else None
    parameters = key_values(body, "parameters")
    annotations = key_values(body, "annotations")
    if existing is None:
        pkg = Package(
            namespace=namespace,
            name=name,
            version=check_version(body["version"]) if body.get("version") else "0.0.1",
            publish=check_publish(body.get("publish"), False),
            binding=binding or {},
            parameters=parameters or [],
            annotations=annotations or [],
        )
    else:
        if binding and not existing.is_binding:
            raise BindingConflict()
        pkg = Package(
            namespace=namespace,
            name=name,
            version=check_version(body["version"])
            if body.get("version")
            else bump_version(existing.version),
            publish=check_publish(body.get("publish"), existing.publish),
            binding=existing.binding if binding is None else binding,
            parameters=existing.parameters if parameters is None else parameters,
            annotations=existing.annotations if annotations is None else annotations,
        )
    if pkg.is_binding:
        pkg.annotations = set_annotation(pkg.annotations, "binding", pkg.binding)
    pkg.updated = stamp()
    ctx.store.put(pkg)
    return json_response(200, package_json(pkg))


async def delete_package(
    ctx: Context, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    pkg = _get(ctx, namespace, name)
    if pkg is None:
        raise NotFound()
    contents = [] if pkg.is_binding else _contents(ctx, pkg)
    if contents:
        if not query_bool(req, "force"):
            raise PackageNotEmpty(len(contents))
        for action in contents:
            ctx.store.delete(action.namespace, action.name)
    ctx.store.delete(namespace, name)
    return json_response(200, package_json(pkg))
