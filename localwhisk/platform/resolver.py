"""Finding an action the way the platform does: through packages and bindings.

An action named ``pkg/name`` lives at path ``ns/pkg``; if ``pkg`` is a binding the
action is found in the bound package and the binding's parameters sit between
the package's and the action's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localwhisk.errors import NotFound, WrongCollection
from localwhisk.models import Action, Package, as_dict
from localwhisk.storage.store import Store


@dataclass(frozen=True)
class Resolved:
    action: Action
    params: dict[str, Any]  # package < binding < action parameters (init params excluded)
    binding: str | None = None  # "ns/binding" when reached through a binding

    @property
    def path(self) -> str:
        """The real action's path annotation: fully qualified, no leading slash."""
        return f"{self.action.namespace}/{self.action.name}"

    @property
    def entity_key(self) -> str:
        """What the activations list's ``name`` filter matches."""
        if self.binding is not None:
            return f"{self.binding.split('/', 1)[1]}/{self.action.name}"
        package = self.action.package
        return f"{package}/{self.action.name}" if package else self.action.name


def _args(params: list[dict[str, Any]]) -> dict[str, Any]:
    return as_dict([p for p in params if not p.get("init")])


def get_package(store: Store, namespace: str, name: str) -> Package:
    found = store.get(namespace, name)
    if found is None:
        raise NotFound()
    if not isinstance(found, Package):
        raise WrongCollection()
    return found


def resolve_action(store: Store, namespace: str, package: str | None, name: str) -> Resolved:
    """The action at ``/namespace/[package/]name`` with its inherited parameters, or 404."""
    if package is None:
        found = store.get(namespace, name)
        if found is None:
            raise NotFound()
        if not isinstance(found, Action):
            raise WrongCollection()
        return Resolved(found, _args(found.parameters))
    pkg = get_package(store, namespace, package)
    params: dict[str, Any] = {}
    binding = None
    if pkg.is_binding:
        binding = f"{namespace}/{package}"
        bound_params = _args(pkg.parameters)
        try:
            pkg = get_package(store, pkg.binding["namespace"], pkg.binding["name"])
        except WrongCollection:
            raise NotFound() from None
        params.update(_args(pkg.parameters))
        params.update(bound_params)
    else:
        params.update(_args(pkg.parameters))
    found = store.get(f"{pkg.namespace}/{pkg.name}", name)
    if not isinstance(found, Action):
        raise NotFound()
    params.update(_args(found.parameters))
    return Resolved(found, params, binding)


def resolve_fqn(store: Store, fqn: str, default_namespace: str) -> Resolved:
    """Resolve ``/ns/name`` or ``/ns/pkg/name`` (``_`` = ``default_namespace``)."""
    parts = fqn.strip("/").split("/")
    if parts and parts[0] == "_":
        parts[0] = default_namespace
    if len(parts) == 2:
        return resolve_action(store, parts[0], None, parts[1])
    if len(parts) == 3:
        return resolve_action(store, parts[0], parts[1], parts[2])
    raise NotFound()
