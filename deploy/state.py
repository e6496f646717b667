"""Read the namespace's current entities for planning: lists first, GETs only where needed.

Reads only (list/get); never writes. Kept apart from ``plan`` so planning stays pure.
A no-op redeploy costs four paginated lists: list summaries carry annotations (and
so the ``deploy-digest``) and limits; only entities whose digest differs from the
desired one are fetched in full, for their parameters and exec, to explain the change.
API routes cost one more read (``getApi``), where there can be any.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deploy.errors import PreflightError
from deploy.models import Entity, Kind
from deploy.plan import DIGEST, annotation_map, path_of_document, project_of
from deploy.routes import current_routes


def fetch_state(client: Any, desired: Iterable[Entity] = ()) -> list[Entity]:
    desired_digest = {(e.kind.collection, e.name): e.digest for e in desired}
    current: list[Entity] = []
    for collection in ("packages", "actions", "triggers", "rules"):
        for item in client.list(collection):
            entity = to_entity(collection, item)
            key = (collection, entity.name)
            if key in desired_digest and desired_digest[key] != entity.digest:
                params = {"code": False} if collection == "actions" else {}
                full = client.get(collection, entity.name, **params)
                if full is not None:
                    entity = to_entity(collection, full)
            current.append(entity)
    return current + _routes(client, desired, current)


def _routes(client: Any, desired: Iterable[Entity], current: list[Entity]) -> list[Entity]:
    """The namespace's API routes, read only where some can be: routes reach web actions,
    so a manifest without ``apis`` in a namespace without web actions costs no request."""
    wanted = any(e.kind is Kind.API for e in desired)
    code = [e for e in current if e.kind in (Kind.ACTION, Kind.SEQUENCE)]
    if not wanted and not any(annotation_map(e.body).get("web-export") is True for e in code):
        return []
    apis = client.list_routes()
    if apis is None:
        if wanted:
            raise PreflightError(
                [
                    f"{client.settings.apihost} has no API gateway (whisk.system/apimgmt answers"
                    " 404), so the manifest's apis cannot be created; deploy to an OpenWhisk"
                    " with the API gateway installed, or remove apis: from the manifest"
                ]
            )
        return []
    owners = {e.name: project_of(e) for e in code}
    return current_routes(apis, owners, client.settings.namespace)


def to_entity(collection: str, item: dict[str, Any]) -> Entity:
    """A server document (summary or full) as a current ``Entity``."""
    # Only actions live in packages; a package's own namespace path is just the namespace.
    name = path_of_document(item) if collection == "actions" else item["name"]
    annotations = annotation_map(item)
    if collection == "actions":
        kind_name = (item.get("exec") or {}).get("kind") or annotations.get("exec")
        kind = Kind.SEQUENCE if kind_name == "sequence" else Kind.ACTION
    else:
        kind = {"packages": Kind.PACKAGE, "triggers": Kind.TRIGGER, "rules": Kind.RULE}[collection]
    digest = annotations.get(DIGEST)
    return Entity(kind, name, item, digest if isinstance(digest, str) else "")


def binding_targets(client: Any, desired: Iterable[Entity], namespace: str) -> frozenset[str]:
    """``ns/pkg`` of every package the desired bindings name that this key can read.

    One GET per distinct target; a package of our own namespace that the manifest
    declares counts as readable (it is created first, at the package level).
    """
    from deploy.errors import DeployError

    desired = list(desired)
    own = {e.name for e in desired if e.kind is Kind.PACKAGE and "binding" not in e.body}
    readable: set[str] = set()
    for entity in desired:
        binding = entity.body.get("binding") if entity.kind is Kind.PACKAGE else None
        if not binding:
            continue
        target_ns, name = binding["namespace"], binding["name"]
        key = f"{target_ns}/{name}"
        if key in readable:
            continue
        if target_ns in ("_", namespace) and name in own:
            readable.add(key)
            continue
        try:
            found = client.get_package_of(namespace if target_ns == "_" else target_ns, name)
        except DeployError:
            found = None  # not shared with this key: preflight says so
        if found is not None:
            readable.add(key)
    return frozenset(readable)
