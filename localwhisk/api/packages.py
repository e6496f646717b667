"""Packages and package bindings: CRUD with the platform's binding rules."""

from __future__ import annotations

from typing import Any

from localwhisk.api import resource
from localwhisk.api.common import (
    check_name,
    find_entity,
    key_values,
    list_page,
    names,
    namespace_of,
    query_bool,
    read_object,
    set_annotation,
)
from localwhisk.backend import Backend
from localwhisk.errors import (
    BadRequest,
    BindingConflict,
    Forbidden,
    MalformedRequest,
    PackageNotEmpty,
)
from localwhisk.http import Request, Response, json_response
from localwhisk.models import Action, Package
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import check_package_read


def package_json(pkg: Package) -> dict[str, Any]:
    return {
        **resource.head_json(pkg),
        "binding": pkg.binding,
        "parameters": pkg.parameters,
        "annotations": pkg.annotations,
        "updated": pkg.updated,
    }


def package_summary(pkg: Package) -> dict[str, Any]:
    return {
        **resource.head_json(pkg),
        "annotations": pkg.annotations,
        "binding": pkg.binding or False,
        "updated": pkg.updated,
    }


def _contents(backend: Backend, pkg: Package) -> list[Action]:
    return backend.store.entities("actions", pkg.root_namespace, path=f"{pkg.namespace}/{pkg.name}")  # type: ignore[return-value]


async def list_packages(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    found = backend.store.entities("packages", namespace_of(who, args))
    return list_page(req, "packages", found, package_summary)


async def get_package(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    pkg = resource.require_entity(backend.store, namespace, name, Package)
    shaped = package_json(pkg)
    source = pkg
    if pkg.is_binding:
        # A binding shows its target's parameters and actions: only while that is readable.
        check_package_read(backend.store, who.namespace, namespace, name)
        bound = find_entity(backend.store, pkg.binding["namespace"], pkg.binding["name"], Package)
        if bound is not None:
            source = bound
            own = {p["key"] for p in pkg.parameters}
            shaped["parameters"] = [
                p for p in bound.parameters if p["key"] not in own
            ] + pkg.parameters
    contents = _contents(backend, source)
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


def _binding(backend: Backend, who: Identity, value: Any) -> dict[str, str]:
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise MalformedRequest("binding must be an object with 'namespace' and 'name'")
    namespace = str(value.get("namespace") or "_")
    if namespace == "_":
        namespace = who.namespace
    name = check_name(value["name"])
    target = backend.store.get(namespace, name)
    if not isinstance(target, Package):
        raise BadRequest("Binding references a package that does not exist.")
    if namespace != who.namespace and not target.publish:
        raise Forbidden()
    if target.is_binding:
        raise BadRequest("Cannot bind to another package binding.")
    return {"namespace": namespace, "name": name}


async def put_package(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    if name == "default":
        raise BadRequest("Package name 'default' is reserved.")
    body = read_object(req)
    existing = resource.replaced_by_put(backend.store, req, namespace, name, Package)
    binding = _binding(backend, who, body.get("binding")) if "binding" in body else None
    parameters = key_values(body, "parameters", backend.settings.limits.parameter_bytes)
    annotations = key_values(body, "annotations", backend.settings.limits.parameter_bytes)
    if existing is not None and binding and not existing.is_binding:
        raise BindingConflict()
    pkg = resource.revise(
        Package,
        existing,
        namespace,
        name,
        **resource.revision(body, existing),
        binding=binding,
        parameters=parameters,
        annotations=annotations,
    )
    if pkg.is_binding:
        pkg.annotations = set_annotation(pkg.annotations, "binding", pkg.binding)
    return resource.saved(backend.store, pkg, package_json)


async def delete_package(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    namespace, _, name = names(who, args)
    pkg = resource.require_entity(backend.store, namespace, name, Package)
    contents = [] if pkg.is_binding else _contents(backend, pkg)
    if contents:
        if not query_bool(req, "force"):
            raise PackageNotEmpty(len(contents))
        for action in contents:
            backend.store.delete(action.namespace, action.name)
    return resource.removed(backend.store, pkg, package_json)
