"""Fakes for the server's unit tests: a scripted runner and an in-process ASGI caller.

``FakeRunner`` implements the runner's interface with canned outcomes (and an
optional gate to hold runs open); ``call`` drives ``server.App`` with ASGI
messages, so routing, the HTTP adapter and handlers run without a socket.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from localwhisk.backend import Backend
from localwhisk.config import Limits, Settings
from localwhisk.http import Response
from localwhisk.models import SUCCESS
from localwhisk.platform.auth import Authenticator
from localwhisk.platform.invoker import Invoker
from localwhisk.runtime.contract import RunJob, RunOutcome
from localwhisk.server import App
from localwhisk.storage.store import Store
from whiskfacts.guest import GUEST_KEY, GUEST_UUID

GUEST_HEADER = "Basic " + base64.b64encode(f"{GUEST_UUID}:{GUEST_KEY}".encode()).decode()


def now_ms() -> int:
    return int(time.time() * 1000)


def succeed(job: RunJob) -> RunOutcome:
    """Echo the arguments back, as ``def main(args): return args`` would."""
    now = now_ms()
    return RunOutcome(SUCCESS, dict(job.params), [f"{'x' * 30} stdout: ran"], now, now + 1, size=2)


def outcome(status: str, result: Any) -> Callable[[RunJob], RunOutcome]:
    def respond(job: RunJob) -> RunOutcome:
        now = now_ms()
        return RunOutcome(status, result, [], now, now + 1)

    return respond


class FakeRunner:
    def __init__(self, respond: Callable[[RunJob], RunOutcome] = succeed) -> None:
        self.respond = respond
        self.jobs: list[RunJob] = []
        self.gate: asyncio.Event | None = None  # set by a test to hold runs until released
        self.closed = False
        self.forgotten: list[str] = []  # actions whose code the platform said to drop
        self.callers: dict[tuple[str, int], str] = {}  # peer -> activation id (caller_of)
        self.logs_so_far: dict[str, list[str]] = {}  # activation id -> lines (live_logs)

    def can_run(self, kind: str) -> bool:
        return kind.startswith("python:")

    async def run(self, job: RunJob) -> RunOutcome:
        self.jobs.append(job)
        if self.gate is not None:
            await self.gate.wait()
        return self.respond(job)

    def forget(self, action: str) -> None:
        self.forgotten.append(action)

    def caller_of(
        self, peer: tuple[str, int], server: tuple[str, int], connection: object | None = None
    ) -> str | None:
        return self.callers.get(peer)

    def live_logs(
        self, activation_id: str, skip: int = 0, limit: int | None = None
    ) -> list[str] | None:
        found = self.logs_so_far.get(activation_id)
        if found is None:
            return None
        return found[skip:] if limit is None else found[skip : skip + limit]

    async def close(self) -> None:
        self.closed = True


def make_backend(
    tmp_path: Path, runner: FakeRunner | None = None, limits: Limits | None = None
) -> Backend:
    settings = Settings(data_dir=tmp_path, limits=limits or Limits(), api_host="http://127.0.0.1:1")
    store = Store(tmp_path / "db.sqlite")
    invoker = Invoker(store, runner or FakeRunner(), settings)
    return Backend(settings, store, Authenticator(settings.namespaces), invoker)


def make_app(backend: Backend) -> App:
    async def startup() -> Backend:
        return backend

    app = App(startup)
    app.backend = backend
    return app


async def call(
    app: App,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    auth: str | None = GUEST_HEADER,
    chunks: list[bytes] | None = None,
    raw_path: str | None = None,
    peer: tuple[str, int] | None = None,
    connected: asyncio.Event | None = None,
) -> Response:
    """One request through the ASGI app; the answer as a ``Response`` value.

    The client leaves once its body is read, or, given ``connected``, once that is set.
    """
    sent_headers = {"content-type": "application/json"} if body is not None else {}
    if auth is not None:
        sent_headers["authorization"] = auth
    sent_headers.update(headers or {})
    if chunks is None:
        data = (
            body
            if isinstance(body, bytes)
            else (json.dumps(body).encode() if body is not None else b"")
        )
        chunks = [data]
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    read: list[int] = []

    async def receive() -> dict[str, Any]:
        read.append(1)
        if not pending and connected is not None:
            await connected.wait()  # the client stays until the test lets it go
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    answer: dict[str, Any] = {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = [(k.decode(), v.decode()) for k, v in message["headers"]]
        else:
            answer["body"] = answer.get("body", b"") + message.get("body", b"")

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": (raw_path or path).encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in sent_headers.items()],
    }
    if peer is not None:
        scope["client"], scope["server"] = peer, ("127.0.0.1", 3233)
    await app(scope, receive, send)
    content_type = next((v for k, v in answer["headers"] if k == "content-type"), None)
    response = Response(answer["status"], answer["body"], content_type, answer["headers"])
    response.headers.append(("x-test-receive-calls", str(len(read))))
    return response


def header(response: Response, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name.lower()), None)


def with_limits(backend: Backend, **changes: Any) -> Backend:
    settings = replace(backend.settings, limits=replace(backend.settings.limits, **changes))
    backend.settings = settings
    backend.invoker.settings = settings
    return backend
