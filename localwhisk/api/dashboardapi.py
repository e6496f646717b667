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
from collections.abc import AsyncGenerator
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
from localwhisk.platform.feed import Subscription

LIST_DEFAULT = 500
LIST_MAX = 2000
CAUSED_MAX = 200
KEEP_ALIVE_S = 15.0  # a comment line this often, so proxies and the page see a live stream
BATCH_S = 0.1  # changes are gathered this long before they go out as one event
FOLLOW_S = 0.25  # how often a followed running activation's new log lines are looked for
# One ``logs`` event carries at most this much of a followed activation's log (the rest
# goes in the next ones), so what a stream has queued for a slow reader stays small.
LOG_EVENT_LINES = 1000
LOG_EVENT_CHARS = 64 * 1024
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
    """One activation: its REST record (once finished), trace, parameters, the first of
    its live logs, and the activations it caused."""
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
        # The first part only, bounded like a ``logs`` event: the page's event stream
        # follows from line 0 and brings the rest (one big answer per unread request
        # would be the same queue the stream's bound avoids).
        shaped["logs"] = log_batch(
            backend.invoker.live_logs(activation_id, 0, LOG_EVENT_LINES) or []
        )
    return json_response(200, shaped)


def _event(name: str, value: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + codec.dumps(value) + b"\n\n"


def log_batch(lines: list[str]) -> list[str]:
    """The first of ``lines`` that fit in one event (at least one): ``LOG_EVENT_CHARS``
    of text in all, a longer line cut short in this view (the record keeps it whole)."""
    batch: list[str] = []
    size = 0
    for line in lines:
        if len(line) > LOG_EVENT_CHARS:
            cut = len(line) - LOG_EVENT_CHARS
            line = line[:LOG_EVENT_CHARS] + f" [{cut} more characters in the record's logs]"
        if batch and size + len(line) > LOG_EVENT_CHARS:
            break
        batch.append(line)
        size += len(line)
    return batch


class EventStream:
    """The chunks of one event stream, holding its feed subscription until closed.

    Closing ends the subscription even when no chunk was ever asked for: an async
    generator that never started skips its ``finally``, and the slot would stay taken."""

    def __init__(self, sub: Subscription, chunks: AsyncGenerator[bytes, None]) -> None:
        self._sub = sub
        self._chunks = chunks

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        self._sub.cancel()
        await self._chunks.aclose()


async def _chunks(
    backend: Backend, sub: Subscription, follow: str | None
) -> AsyncGenerator[bytes, None]:
    invoker = backend.invoker
    sent_lines = 0
    behind = False  # the last event left log lines waiting: send more without a pause
    yield b"retry: 2000\n" + _event("hello", {"now": invoker.now_ms()})
    while not sub.closed:
        following = follow is not None and invoker.live_logs(follow, sent_lines, 0) is not None
        wait = 0.0 if behind else FOLLOW_S if following else KEEP_ALIVE_S
        changed = await sub.next(wait)
        out = []
        if sub.lagged:
            sub.lagged = False
            out.append(_event("reload", {}))
        if changed:
            out.append(_event("activations", [summary_json(a) for a in changed]))
        behind = False
        if following:
            assert follow is not None
            lines = invoker.live_logs(follow, sent_lines, LOG_EVENT_LINES) or []
            batch = log_batch(lines)
            if batch:
                out.append(_event("logs", {"id": follow, "from": sent_lines, "lines": batch}))
                sent_lines += len(batch)
                behind = len(batch) < len(lines) or len(lines) == LOG_EVENT_LINES
        # Each chunk is one bounded write: the server writes the next only once the
        # connection has taken this one (``server._stream``), so a follower that stops
        # reading stalls its own stream instead of having the whole log queued for it.
        yield b"".join(out) if out else b": keep-alive\n\n"
        if not behind:
            await asyncio.sleep(BATCH_S)


async def events(backend: Backend, req: Request, who: Identity, args: dict[str, str]) -> Response:
    """Server-sent events: ``activations`` (rows that changed), ``logs`` (new lines of the
    activation named by ``follow`` while it runs), ``reload`` (the page fell behind).
    Past the feed's caps on open streams the answer is 429, before any event."""
    namespace = namespace_of(who, args)
    follow = req.query.get("follow") or None
    if follow is not None:
        follow = _activation_id({"id": follow})
    sub = backend.invoker.feed.subscribe(namespace)
    stream = EventStream(sub, _chunks(backend, sub, follow))
    headers = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
    return Response(200, b"", EVENT_TYPE, headers, stream=stream)
