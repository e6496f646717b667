"""Finding an action the way the platform does: through packages and bindings, if allowed.

An action named ``pkg/name`` lives at path ``ns/pkg``; if ``pkg`` is a binding the
action is found in the bound package and the binding's parameters sit between
the package's and the action's.

Read permission is checked at every use, not only when a reference is made: a
binding, a sequence component or a rule's action in another namespace works only
while that namespace's package is published, as the controller re-checks it on each
request (apache/openwhisk ``core/controller/src/main/scala/org/apache/openwhisk/core/
entitlement/PackageCollection.scala`` and ``ActionCollection.scala``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localwhisk.errors import Forbidden, NotFound, WrongCollection
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


def not_authorized(resource: str) -> Forbidden:
    """The controller's 403 naming what was refused (``Entitlement.scala``, ``unauthorizedOn``)."""
    return Forbidden(f"The supplied authentication is not authorized to access '{resource}'.")


def check_package_read(store: Store, caller: str, namespace: str, package: str) -> None:
    """403 unless namespace ``caller`` may read package (or binding) ``namespace/package``.

    A package is readable by its owner or, while published, by anyone; a binding only by
    its owner, and only while its target is readable in turn. Another namespace's missing
    package is a 403 too, so a refusal says nothing about what exists there.
    """
    resource = f"{namespace}/{package}"
    owner = namespace == caller
    found = store.get(namespace, package)
    for _ in range(2):  # a binding, then its target (bindings never point at bindings)
        if found is None:
            raise NotFound() if owner else not_authorized(resource)
        if not isinstance(found, Package):
            raise WrongCollection() if owner else not_authorized(resource)
        if not found.is_binding:
            if owner or found.publish:
                return
            raise not_authorized(resource)
        if not owner:
            raise not_authorized(resource)
        target = found.binding
        owner = target["namespace"] == caller
        found = store.get(target["namespace"], target["name"])
    raise not_authorized(resource)


def check_action_read(store: Store, caller: str, action: Action) -> None:
    """403 unless ``caller`` may run ``action`` found at its real path (as web actions check)."""
    package = action.package
    if package is not None:
        check_package_read(store, caller, action.root_namespace, package)
    elif action.root_namespace != caller:  # the default package is private
        raise not_authorized(f"{action.namespace}/{action.name}")


def resolve_action(
    store: Store, namespace: str, package: str | None, name: str, *, caller: str
) -> Resolved:
    """The action at ``/namespace/[package/]name`` as ``caller`` may use it: 403 or 404 if not."""
    if package is not None:
        check_package_read(store, caller, namespace, package)
    elif namespace != caller:
        raise not_authorized(f"{namespace}/{name}")
    return locate_action(store, namespace, package, name)


def locate_action(store: Store, namespace: str, package: str | None, name: str) -> Resolved:
    """The action at ``/namespace/[package/]name`` with its inherited parameters, or 404.

    No permission check: only for a caller that checks the result itself (web actions
    look the action up first and check entitlement on its real path afterwards).
    """
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


def resolve_fqn(store: Store, fqn: str, caller: str) -> Resolved:
    """Resolve ``/ns/name`` or ``/ns/pkg/name`` for ``caller`` (``_`` = the caller's namespace)."""
    parts = fqn.strip("/").split("/")
    if parts and parts[0] == "_":
        parts[0] = caller
    if len(parts) == 2:
        return resolve_action(store, parts[0], None, parts[1], caller=caller)
    if len(parts) == 3:
        return resolve_action(store, parts[0], parts[1], parts[2], caller=caller)
    raise NotFound()


def check_components(store: Store, caller: str, action: Action) -> None:
    """403 unless ``caller`` may read each of a sequence's components (a no-op otherwise).

    The controller checks a sequence's components before it invokes it
    (``Actions.scala``, ``entitleReferencedEntitiesMetaData``); a missing component is
    left to the run, which reports it.
    """
    if action.kind != "sequence":
        return
    for fqn in action.exec.get("components", []):
        parts = fqn.strip("/").split("/")
        if parts and parts[0] == "_":
            parts[0] = caller
        try:
            if len(parts) == 3:
                check_package_read(store, caller, parts[0], parts[1])
            elif len(parts) == 2 and parts[0] != caller:
                raise not_authorized("/".join(parts))
        except (NotFound, WrongCollection):
            continue  # the caller's own, missing: the run says "Sequence component does not exist."
