"""Request parsing shared by the handler modules: names, bodies, query flags, lists."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from localwhisk import codec
from localwhisk.errors import (
    BadRequest,
    Forbidden,
    IllegalName,
    MalformedQuery,
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    WrongCollection,
)
from localwhisk.http import Request, Response, json_response
from localwhisk.models import FIRST_VERSION
from localwhisk.platform.auth import Identity, resolve_namespace
from localwhisk.platform.resolver import check_package_read
from whiskfacts.names import is_entity_name

T = TypeVar("T")

LIST_MAX = 200
LIST_DEFAULT = 30
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


def now_ms() -> int:
    return int(time.time() * 1000)


def check_name(raw: str) -> str:
    """A decoded, valid entity name, or 400."""
    name = unquote(raw)
    if not is_entity_name(name):
        raise IllegalName()
    return name


def names(who: Identity, args: dict[str, str]) -> tuple[str, str | None, str]:
    """(namespace, package or None, name) from route groups, validated and resolved."""
    namespace = resolve_namespace(who, unquote(args["ns"]))
    package = check_name(args["pkg"]) if "pkg" in args else None
    return namespace, package, check_name(args["name"])


def check_entitled(store: Any, caller: str, path: str) -> None:
    """403 unless namespace ``caller`` may refer to an entity under ``path`` (``ns[/pkg]``).

    As the controller's entitlement check on referenced entities (rule trigger and
    action, sequence components): the caller's own namespace, or a readable package of
    another one (published, and not a binding); anything else of another namespace is
    not the caller's to use. The same check runs again at each use (``resolver``).
    """
    parts = path.strip("/").split("/")
    if parts[0] == caller:
        return
    if len(parts) == 2:
        check_package_read(store, caller, parts[0], parts[1])
        return
    raise Forbidden()


def namespace_of(who: Identity, args: dict[str, str]) -> str:
    return resolve_namespace(who, unquote(args["ns"]))


def read_json(req: Request) -> Any:
    """The JSON body (``{}`` when empty); 415 for other content types, 400 if malformed."""
    if not req.body.strip():
        return {}
    content_type = req.header("content-type")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise UnsupportedMediaType(content_type)
    try:
        return codec.loads(req.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(str(exc)) from None


def read_object(req: Request) -> dict[str, Any]:
    body = read_json(req)
    if not isinstance(body, dict):
        raise MalformedRequest("Object expected")
    return body


def query_bool(req: Request, name: str, default: bool = False) -> bool:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise MalformedQuery(name, f"'{raw}' is not a valid Boolean value")


INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
# ASCII digits only: int() would also take "1_000", " 7 " and other scripts' digits.
_INTEGER = re.compile(r"[+-]?[0-9]{1,25}")


def parse_integer(raw: str, bounds: tuple[int, int]) -> int | None:
    """``raw`` as an integer within ``bounds``, or None (never a Python error)."""
    if _INTEGER.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if bounds[0] <= value <= bounds[1] else None


def query_int(req: Request, name: str) -> int | None:
    """A 32-bit query integer, as the platform's Int parameters; 400 in Pekko's words."""
    return _query_integer(
        req, name, INT32, lambda raw: f"'{raw}' is not a valid 32-bit signed integer value"
    )


def query_epoch(req: Request, name: str) -> int | None:
    """Epoch milliseconds (a 64-bit Long on the platform), as ``since`` and ``upto`` take.

    The platform's refusal (openwhisk core/controller Messages.badEpoch) says "epoch
    seconds" for a value it reads with Instant.ofEpochMilli; the wording here says what
    the value is."""
    return _query_integer(
        req,
        name,
        INT64,
        lambda raw: f"Parameter is not a valid value for epoch milliseconds: {raw}",
    )


def _query_integer(
    req: Request, name: str, bounds: tuple[int, int], refusal: Callable[[str], str]
) -> int | None:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return None
    value = parse_integer(raw, bounds)
    if value is None:
        raise MalformedQuery(name, refusal(raw))
    return value


def list_window(req: Request, collection: str) -> tuple[int, int, bool]:
    """(skip, limit, count) with the platform's defaults and range errors."""
    limit = query_int(req, "limit")
    if limit is None:
        limit = LIST_DEFAULT
    elif limit == 0:
        limit = LIST_MAX
    elif not 0 <= limit <= LIST_MAX:
        raise MalformedQuery(
            "limit", f"The value '{limit}' is not in the range of 0 to {LIST_MAX} for {collection}."
        )
    skip = query_int(req, "skip") or 0
    if skip < 0:
        raise MalformedQuery(
            "skip", f"The value '{skip}' is not in the range of 0 to 2147483647 for {collection}."
        )
    return skip, limit, query_bool(req, "count")


def find_entity(store: Any, namespace: str, name: str, kind: type[T]) -> T | None:
    """The entity named ``name`` if it is a ``kind``; 409 if the name belongs to another collection."""
    found = store.get(namespace, name)
    if found is not None and not isinstance(found, kind):
        raise WrongCollection()
    return found


def list_page(
    req: Request, collection: str, found: list[Any], shape: Callable[[Any], dict[str, Any]]
) -> Response:
    """One page of a collection (``limit``/``skip``), or ``{collection: n}`` with ``count``."""
    skip, limit, count = list_window(req, collection)
    if count:
        return json_response(200, {collection: len(found)})
    return json_response(200, [shape(entity) for entity in found[skip : skip + limit]])


def key_values(body: dict[str, Any], field: str, limit: int = 0) -> list[dict[str, Any]] | None:
    """A validated ``[{key, value}]`` list from a body field, or None when absent.

    ``limit`` (bytes, 0 = unchecked) bounds the list as the platform sizes parameters
    (Parameter.scala ``size``: each key plus its value as compact JSON) and refuses
    them past parameter-size-limit with 413.
    """
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) for p in value
    ):
        raise MalformedRequest(f"'{field}' must be an array of {{key, value}} objects")
    if limit > 0:
        size = sum(
            len(p["key"].encode("utf-8", "surrogatepass")) + len(codec.dumps(p.get("value")))
            for p in value
        )
        if size > limit:
            raise PayloadTooLarge(size, limit, field)
    return [dict(p) for p in value]


def merge_annotations(
    old: list[dict[str, Any]], new: list[dict[str, Any]] | None, delete: Any = None
) -> list[dict[str, Any]]:
    """Old ++ new (new keys replace old ones), minus ``delAnnotations`` keys."""
    removed = set(delete) if isinstance(delete, list) else set()
    incoming = new or []
    replaced = {p["key"] for p in incoming}
    kept = [p for p in old if p["key"] not in replaced and p["key"] not in removed]
    return kept + [p for p in incoming if p["key"] not in removed]


def set_annotation(pairs: list[dict[str, Any]], key: str, value: Any) -> list[dict[str, Any]]:
    return [p for p in pairs if p.get("key") != key] + [{"key": key, "value": value}]


def bump_version(version: str) -> str:
    parts = version.split(".")
    try:
        major, minor, patch = (int(p) for p in parts)
    except ValueError:
        return FIRST_VERSION
    return f"{major}.{minor}.{patch + 1}"


def check_version(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d+\.\d+\.\d+", value):
        raise MalformedRequest("version must be a semantic version 'major.minor.patch'")
    return value


def check_publish(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadRequest("The request content was malformed:\n'publish' must be a boolean")
    return value


_last_stamp = 0


def stamp() -> int:
    """An ``updated`` time in epoch ms that never repeats, so newest-first order is total."""
    global _last_stamp
    _last_stamp = max(now_ms(), _last_stamp + 1)
    return _last_stamp
