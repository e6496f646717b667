"""What the four entity resources (actions, packages, triggers, rules) share.

Every one answers get, put and delete the same way; its module says only what is
its own. A put creates the entity, or with ``overwrite=true`` updates it: fields the
body gives replace the stored ones, absent fields keep theirs, and the version's
patch number goes up unless the body sets one (a new entity starts at ``0.0.1``,
unpublished), as OpenWhisk's ``Actions.scala``, ``Packages.scala``, ``Triggers.scala``
and ``Rules.scala`` (``core/controller/src/main/scala/org/apache/openwhisk/core/controller/``)
update documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from localwhisk.api.common import (
    bump_version,
    check_publish,
    check_version,
    find_entity,
    query_bool,
    stamp,
)
from localwhisk.errors import AlreadyExists, NotFound, WrongCollection
from localwhisk.http import Request, Response, json_response
from localwhisk.models import FIRST_VERSION, Entity
from localwhisk.storage.store import Store

E = TypeVar("E", bound=Entity)
Shape = Callable[[Any], dict[str, Any]]


def head_json(entity: Any) -> dict[str, Any]:
    """The fields every entity's (and activation's) JSON opens with, in the platform's order."""
    return {
        "namespace": entity.namespace,
        "name": entity.name,
        "version": entity.version,
        "publish": entity.publish,
    }


def require_entity(store: Store, path: str, name: str, kind: type[E]) -> E:
    """The ``kind`` named ``name`` under ``path``; 404 if there is none, 409 if another collection has it."""
    found = find_entity(store, path, name, kind)
    if found is None:
        raise NotFound()
    return found


def replaced_by_put(store: Store, req: Request, path: str, name: str, kind: type[E]) -> E | None:
    """The entity a put would replace, or None; 409 without ``overwrite=true``, or for another collection's name."""
    overwrite = query_bool(req, "overwrite")
    existing = store.get(path, name)
    if existing is None:
        return None
    if not overwrite:
        raise AlreadyExists()
    if not isinstance(existing, kind):
        raise WrongCollection()
    return existing


def revision(body: dict[str, Any], existing: Entity | None) -> dict[str, Any]:
    """``version`` and ``publish`` for a put: checked when given, else first or next and kept."""
    if body.get("version"):
        version = check_version(body["version"])
    else:
        version = FIRST_VERSION if existing is None else bump_version(existing.version)
    publish = check_publish(body.get("publish"), False if existing is None else existing.publish)
    return {"version": version, "publish": publish}


def revise(kind: type[E], existing: E | None, path: str, name: str, **given: Any) -> E:
    """A new ``kind`` from the ``given`` fields, or ``existing`` with them replaced.

    A field given as None is absent from the body: a new entity gets the default,
    an update keeps the stored value.
    """
    fields = {key: value for key, value in given.items() if value is not None}
    if existing is None:
        return kind(namespace=path, name=name, **fields)
    return replace(existing, **fields)


def saved(store: Store, entity: E, shape: Shape) -> Response:
    """Stamp, store and answer the entity as a put does."""
    entity.updated = stamp()
    store.put(entity)
    return json_response(200, shape(entity))


def removed(store: Store, entity: Entity, shape: Shape) -> Response:
    """Delete the entity and answer with what it was, as a delete does."""
    store.delete(entity.namespace, entity.name)
    return json_response(200, shape(entity))
