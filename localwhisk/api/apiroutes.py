"""The gateway's routing table, pure: API documents -> resources, and a request path -> one.

What apache/openwhisk-apigateway does with a document (``scripts/lua/management/lib/
swagger.lua``: each path is a resource, each operation's backend is the ``target-url``
its ``operation-switch`` case invokes, ``verb: keep`` keeps the caller's method) and
with a request (``scripts/lua/routing.lua``, ``findResource``: an exact path first,
then ``{name}`` segments, then ever shorter prefixes, so ``/hello/world/x`` reaches
``/hello/world``). Resource paths are the API's base path and the relative path
joined, across every API of the namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from localwhisk.api.apidocs import gateway_config, operation_targets
from localwhisk.models import GatewayApi

_PARAM = re.compile(r"\{[^/}]*\}")
_HEADER_TARGET = re.compile(r"\Amessage\.headers?\.(.+)\Z")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    backend: str | None  # the target-url; None when the document names none
    headers: tuple[tuple[str, str], ...] = ()  # set-variable message.headers.* of its case


@dataclass(frozen=True)
class Resource:
    segments: tuple[str, ...]  # "club", "books", "{isbn}"
    operations: dict[str, Operation]
    cors: bool | None  # x-*-configuration.cors.enabled; None: not configured
    patterns: tuple[re.Pattern[str] | None, ...] = field(default=())  # None: a literal segment

    @property
    def literal_count(self) -> int:
        return sum(1 for p in self.patterns if p is None)


def _segments(path: str) -> tuple[str, ...]:
    # A trailing slash does not make another resource: `/more/{p}/` and `/more/{p}` are one.
    return tuple(part for part in path.strip("/").split("/") if part)


def _pattern(segment: str) -> re.Pattern[str] | None:
    if "{" not in segment:
        return None
    pieces = [re.escape(part) for part in _PARAM.split(segment)]
    return re.compile("[^/]+".join(pieces) + r"\Z")


def _case_headers(doc: dict[str, Any]) -> dict[str, tuple[tuple[str, str], ...]]:
    """operationId -> the request headers its case sets (``parseRequestMapping``)."""
    execute = (gateway_config(doc).get("assembly") or {}).get("execute")
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for step in execute if isinstance(execute, list) else []:
        switch = step.get("operation-switch") if isinstance(step, dict) else None
        for case in (switch or {}).get("case") or []:
            if not isinstance(case, dict) or not isinstance(case.get("execute"), list):
                continue
            headers: list[tuple[str, str]] = []
            for item in case["execute"]:
                setter = item.get("set-variable") if isinstance(item, dict) else None
                for action in (setter or {}).get("actions") or []:
                    target = _HEADER_TARGET.match(str((action or {}).get("set", "")))
                    value = (action or {}).get("value")
                    if (
                        target
                        and isinstance(value, (str, int, float))
                        and not isinstance(value, bool)
                    ):
                        headers.append((target[1], str(value)))
                    elif target and isinstance(value, bool):
                        headers.append((target[1], "true" if value else "false"))
            for op_id in case.get("operations") or []:
                if isinstance(op_id, str):
                    found[op_id] = tuple(headers)
    return found


def _cors(doc: dict[str, Any]) -> bool | None:
    cors = gateway_config(doc).get("cors")
    enabled = cors.get("enabled") if isinstance(cors, dict) else None
    return enabled if isinstance(enabled, bool) else None


def resources(api: GatewayApi) -> list[Resource]:
    """The API's resources; an operation with no invoke of its own falls back to its
    ``x-openwhisk.url`` (a document written by hand may carry only that)."""
    doc = api.doc
    targets = operation_targets(doc)
    headers = _case_headers(doc)
    cors = _cors(doc)
    base = _segments(api.base_path)
    out: list[Resource] = []
    for path, verbs in (doc.get("paths") or {}).items():
        if not isinstance(verbs, dict):
            continue
        operations: dict[str, Operation] = {}
        for verb, operation in verbs.items():
            if verb == "parameters" or not isinstance(operation, dict):
                continue
            op_id = operation.get("operationId")
            backend = targets.get(op_id) if isinstance(op_id, str) else None
            if not isinstance(backend, str):
                fallback = (operation.get("x-openwhisk") or {}).get("url")
                backend = fallback if isinstance(fallback, str) else None
            operations[verb.upper()] = Operation(
                verb.upper(), backend, headers.get(op_id, ()) if isinstance(op_id, str) else ()
            )
        segments = base + _segments(path)
        patterns = tuple(_pattern(s) for s in segments)
        out.append(Resource(segments, operations, cors, patterns))
    return out


def _matches(resource: Resource, segments: tuple[str, ...]) -> bool:
    if len(resource.segments) != len(segments):
        return False
    for literal, pattern, given in zip(resource.segments, resource.patterns, segments, strict=True):
        if pattern is None and literal != given:
            return False
        if pattern is not None and not pattern.match(given):
            return False
    return True


def find(table: Iterable[Resource], path: str) -> Resource | None:
    """The resource a request path reaches: the longest prefix of it that a resource
    matches, literal segments preferred over ``{name}`` ones."""
    segments = _segments(path)
    candidates = list(table)
    for depth in range(len(segments), -1, -1):
        prefix = segments[:depth]
        found = [r for r in candidates if _matches(r, prefix)]
        if found:
            return max(found, key=lambda r: (r.literal_count, r.segments))
    return None
