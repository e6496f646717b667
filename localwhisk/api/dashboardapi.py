"""The dashboard's data: recent activations with their causes, one activation, live events.

Served under ``/dashboard/api/namespaces/{ns}/`` with the same Basic auth, namespace
check and Origin gate as the REST API (``server`` gates the prefix like ``/api/v1``), and
read-only. These answers carry what REST answers leave out and the dashboard needs:
running activations, the action's kind, and the trace (what caused each activation,
``models.Activation.trace``); the REST API's own records stay exactly as the platform
writes them. The event stream is server-sent events over a response that the page reads
with ``fetch`` (so the key travels in the Authorization header, never in a URL).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

from localwhisk import codec
from localwhisk.api.activations import activation_json
from localwhisk.api.common import namespace_of, query_epoch, query_int
from localwhisk.backend import Backend
from localwhisk.errors import BadRequest, MalformedQuery, NotFound
from localwhisk.http import Request, Response, json_response
from localwhisk.models import Activation, lookup
from localwhisk.platform.auth import Identity

LIST_DEFAULT = 500
LIST_MAX = 2000
CAUSED_MAX = 200
KEEP_ALIVE_S = 15.0  # a comment line this often, so proxies and the page see a live stream
BATCH_S = 0.1  # changes are gathered this long before they go out as one event
FOLLOW_S = 0.25  # how often a followed running activation's new log lines are looked for
EVENT_TYPE = "text/event-stream; charset=utf-8"


def summary_json(act: Activation) -> dict[str, Any]:
    """One row of the dashboard's list and timeline."""
    annotations = act.annotations
    shaped: dict[str, Any] = {
        "id": act.activation_id,
        "name": act.entity_key or act.name,
        "path": lookup(annotations, "path") or f"{act.namespace}/{act.entity_key or act.name}",
        "kind": act.trace.get("kind") or lookup(annotations, "kind") or "",
        "status": "running" if act.running else act.status,
        "start": act.start,
    }
    if act.end:
        shaped["end"] = act.end
        shaped["duration"] = act.end - act.start
    if not act.running and shaped["kind"] not in ("trigger", "sequence"):
        shaped["cold"] = lookup(annotations, "initTime") is not None
    for key in ("by", "via", "rule"):
        if act.trace.get(key):
            shaped[key] = act.trace[key]
    if act.cause and "by" not in shaped:  # a sequence component recorded before traces
        shaped["by"], shaped["via"] = act.cause, "sequence"
    return shaped


def _bounded(req: Request, name: str, default: int, ceiling: int) -> int:
    value = query_int(req, name)
    if value is None:
        return default
    if not 1 <= value <= ceiling:
        raise MalformedQuery(name, f"expected a number from 1 to {ceiling}, got {value}")
    return value


async def list_recent(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    """The newest activations, running ones first: ``limit`` (500), older than ``upto``."""
    namespace = namespace_of(who, args)
    limit = _bounded(req, "limit", LIST_DEFAULT, LIST_MAX)
    upto = query_epoch(req, "upto")
    running = [] if upto is not None else backend.invoker.running(namespace)
    found = backend.store.list_activations(namespace, None, None, upto, 0, limit)
    rows = [summary_json(act) for act in reversed(running)]
    rows += [summary_json(act) for act in found]
    return json_response(200, {"activations": rows, "now": backend.invoker.now_ms()})


def _activation_id(args: dict[str, str]) -> str:
    activation_id = unquote(args["id"]).lower()
    if len(activation_id) != 32 or any(c not in "0123456789abcdef" for c in activation_id):
        raise BadRequest("An activation id is 32 hexadecimal digits.")
    return activation_id


async def get_one(backend: Backend, req: Request, who: Identity, args: dict[str, str]) -> Response:
    """One activation: its REST record (once finished), trace, parameters, live logs, and
    the activations it caused."""
    namespace = namespace_of(who, args)
    activation_id = _activation_id(args)
    act = backend.store.get_activation(activation_id)
    if act is None or act.namespace != namespace:
        raise NotFound()
    caused = [
        a
        for a in backend.invoker.running(namespace)
        if a.trace.get("by") == activation_id or a.cause == activation_id
    ]
    caused += backend.store.caused_by(namespace, activation_id, CAUSED_MAX)
    shaped: dict[str, Any] = {
        "summary": summary_json(act),
        "record": None if act.running else activation_json(act),
        "params": act.trace.get("params"),
        "caused": [summary_json(a) for a in caused],
    }
    if act.running:
        shaped["logs"] = backend.invoker.live_logs(activation_id) or []
    return json_response(200, shaped)


def _event(name: str, value: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + codec.dumps(value) + b"\n\n"


async def events(backend: Backend, req: Request, who: Identity, args: dict[str, str]) -> Response:
    """Server-sent events: ``activations`` (rows that changed), ``logs`` (new lines of the
    activation named by ``follow`` while it runs), ``reload`` (the page fell behind)."""
    namespace = namespace_of(who, args)
    follow = req.query.get("follow") or None
    if follow is not None:
        follow = _activation_id({"id": follow})

    async def stream() -> AsyncIterator[bytes]:
        sent_lines = 0
        sub = backend.invoker.feed.subscribe(namespace)
        try:
            yield b"retry: 2000\n" + _event("hello", {"now": backend.invoker.now_ms()})
            while not sub.closed:
                following = (
                    follow is not None and backend.invoker.live_logs(follow, sent_lines) is not None
                )
                changed = await sub.next(FOLLOW_S if following else KEEP_ALIVE_S)
                out = []
                if sub.lagged:
                    sub.lagged = False
                    out.append(_event("reload", {}))
                if changed:
                    out.append(_event("activations", [summary_json(a) for a in changed]))
                if following:
                    lines = backend.invoker.live_logs(follow, sent_lines) or []
                    if lines:
                        logs = {"id": follow, "from": sent_lines, "lines": lines}
                        out.append(_event("logs", logs))
                        sent_lines += len(lines)
                yield b"".join(out) if out else b": keep-alive\n\n"
                await asyncio.sleep(BATCH_S)
        finally:
            sub.cancel()

    headers = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
    return Response(200, b"", EVENT_TYPE, headers, stream=stream())
