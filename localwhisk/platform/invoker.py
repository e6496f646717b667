"""Invoking actions: arguments, activation records, blocking waits, sequences.

Each invocation gets a running activation record at once, runs in a referenced
background task, and is finished in place. A blocking caller waits on that task
for at most its window and then gets only the id while the action keeps running,
as on OpenWhisk. Nothing is acknowledged before it is on disk: the record is made
durable before an id or a result goes back, so a crash cannot lose an activation
a caller has seen (a blocking one's running state is only held in memory until then).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Protocol

from localwhisk import codec
from localwhisk.config import Settings
from localwhisk.errors import INTERNAL_ERROR, ApiError, Forbidden, ReservedParameters
from localwhisk.http import Request
from localwhisk.models import APPLICATION_ERROR, SUCCESS, WHISK_ERROR, Action, Activation, truthy
from localwhisk.platform.auth import Identity
from localwhisk.platform.feed import ActivationFeed
from localwhisk.platform.resolver import Resolved, check_components, resolve_fqn
from localwhisk.platform.runjob import CodeSpecs, build_job, record_outcome
from localwhisk.platform.throttle import Throttle
from localwhisk.runtime.contract import RunJob, RunOutcome
from localwhisk.storage.store import Store, fail_activation

log = logging.getLogger("localwhisk.platform.invoker")

PARAMS_SHOWN_BYTES = 8192  # the request's arguments kept for the dashboard, at most
# Header values of a web request that are the caller's credentials: never kept.
SECRET_HEADERS = frozenset(
    ("authorization", "cookie", "x-require-whisk-auth", "proxy-authorization")
)
STOPPED = "The activation was interrupted because the server is shutting down."
MISSING_COMPONENT = "Sequence component does not exist."


class RunnerLike(Protocol):
    async def run(self, job: RunJob) -> RunOutcome: ...

    def forget(self, action: str) -> None: ...

    def caller_of(
        self, peer: tuple[str, int], server: tuple[str, int], connection: object | None = None
    ) -> str | None: ...

    def live_logs(
        self, activation_id: str, skip: int = 0, limit: int | None = None
    ) -> list[str] | None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Run:
    """One action to run: a top-level invocation or a component of a sequence."""

    who: Identity
    resolved: Resolved
    args: dict[str, Any] | list[Any]  # a list only as a sequence passes an array result on
    act: Activation  # the running record this run fills
    tid: str  # the transaction id of the request that started it


@dataclass(frozen=True)
class Invocation:
    activation_id: str
    activation: Activation | None  # None while it is still running


def new_activation_id() -> str:
    """32 hex digits like the platform's: microseconds since the epoch, then 76 random bits.

    Time first, so new ids land at the end of the table's id index instead of at random
    pages: inserts stay as fast at a million records as at ten thousand.
    """
    return f"{time.time_ns() // 1000:013x}{os.urandom(10).hex()[:19]}"


def shown_params(payload: dict[str, Any]) -> Any:
    """The request's own arguments as the dashboard shows them: a web caller's credentials
    left out, and past PARAMS_SHOWN_BYTES only their size (records stay small)."""
    headers = payload.get("__ow_headers")
    if isinstance(headers, dict) and SECRET_HEADERS.intersection(headers):
        shown = {k: "(not kept)" if k in SECRET_HEADERS else v for k, v in headers.items()}
        payload = {**payload, "__ow_headers": shown}
    try:
        size = len(codec.dumps(payload))
    except (TypeError, ValueError):
        return {"(not kept)": "not JSON"}
    if size > PARAMS_SHOWN_BYTES:
        return {"(not kept)": f"{size} bytes"}
    return payload


def merge_arguments(resolved: Resolved, payload: dict[str, Any]) -> dict[str, Any]:
    """Inherited parameters < request body; ``final`` forbids overriding defined ones."""
    if payload and truthy(resolved.action.annotation("final")):
        if any(resolved.params.get(key) is not None for key in payload):
            raise ReservedParameters()
    if not payload:
        return dict(resolved.params)
    return {**resolved.params, **payload}


async def _settle(task: asyncio.Task[Any], seconds: float) -> None:
    """Wait until ``task`` is done or ``seconds`` pass; never cancels it.

    ``asyncio.wait`` does the same with a set, a counter and a callback per task:
    this is the blocking invoke's hot path, so it gets the one-future version.
    """
    if task.done():
        return
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(seconds, wake)
    task.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        task.remove_done_callback(wake)


class Invoker:
    def __init__(
        self,
        store: Store,
        runner: RunnerLike,
        settings: Settings,
        throttle: Throttle | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.runner = runner
        self.settings = settings
        limits = settings.limits
        self.throttle = throttle or Throttle(
            limits.invocations_per_minute, limits.concurrent_invocations, limits.fires_per_minute
        )
        self._clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running: dict[str, Activation] = {}
        self._awaited: set[str] = set()  # blocking callers still inside their window
        self._codes = CodeSpecs(self._load_code)
        self.feed = ActivationFeed()  # what the dashboard's event stream watches
        self.closing = False

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _load_code(self, action: Action) -> str:
        return str(self.store.with_code(action).exec.get("code", ""))

    # -- entry points --------------------------------------------------------------

    async def invoke(
        self,
        who: Identity,
        resolved: Resolved,
        payload: dict[str, Any],
        *,
        blocking: bool,
        wait_ms: int,
        request_id: str,
        trace: dict[str, str] | None = None,
    ) -> Invocation:
        """Start an activation; wait up to ``wait_ms`` for it when blocking.

        ``trace`` says what caused it (``caused_by``, or a trigger's rule), for the dashboard.
        """
        self.throttle.check_invoke(who.namespace)
        # Before anything is recorded: a sequence whose components the caller may no
        # longer read is refused with 403, as the controller does.
        check_components(self.store, who.namespace, resolved.action)
        args = merge_arguments(resolved, payload)
        trace = {**(trace or {}), "params": shown_params(payload)}
        act = self._open(who, resolved, cause=None, hold=blocking, trace=trace)
        task = self.spawn(self._execute(_Run(who, resolved, args, act, request_id)))
        if blocking:
            # While its caller waits, the finished record is held too: durable() below
            # then commits it directly instead of behind a flush to the writer thread.
            self._awaited.add(act.activation_id)
            try:
                await _settle(task, wait_ms / 1000)
            except BaseException:
                if not act.running:  # nobody will ask for it to be durable: write it behind
                    self.store.put_activation(act, defer=True)
                raise
            finally:
                self._awaited.discard(act.activation_id)
            if not act.running:
                # The caller sees the result: the finished record is committed first.
                await self.store.durable()
                return Invocation(act.activation_id, act)
        # The caller gets only the id: make the running record durable before answering.
        await self.store.durable()
        return Invocation(act.activation_id, None)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run in the background, keeping a reference so the task cannot be collected."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def shutdown(self, grace_s: float = 5.0) -> None:
        """Record every running activation as failed, then stop the tasks."""
        self.closing = True
        self.feed.close()
        now = self.now_ms()
        for act in list(self._running.values()):
            fail_activation(act, now, STOPPED)
            self.store.put_activation(act, defer=True)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
        self.store.sync()

    # -- causes ----------------------------------------------------------------------

    def caused_by(self, req: Request) -> dict:
        """The trace of a request: which running activation's process holds the client end
        of the connection it came on (see ``runtime.peers``), or {}."""
        if req.peer is None or req.server is None or not self._running:
            return {}
        by = self.runner.caller_of(req.peer, req.server, req.connection)
        return {"by": by, "via": "api"} if by is not None else {}

    def running(self, namespace: str) -> list[Activation]:
        """The namespace's activations still running, oldest first (the dashboard lists them)."""
        return [act for act in self._running.values() if act.namespace == namespace]

    def live_logs(
        self, activation_id: str, skip: int = 0, limit: int | None = None
    ) -> list[str] | None:
        """The log lines a running activation has written so far, past the first ``skip``
        and at most ``limit`` of them (None: not running here)."""
        if activation_id not in self._running:
            return None
        return self.runner.live_logs(activation_id, skip, limit)

    # -- records -------------------------------------------------------------------

    def _open(
        self,
        who: Identity,
        resolved: Resolved,
        cause: str | None,
        hold: bool = False,
        trace: dict[str, str] | None = None,
    ) -> Activation:
        action = resolved.action
        act = Activation(
            activation_id=new_activation_id(),
            namespace=who.namespace,
            name=action.name,
            version=action.version,
            subject=who.subject,
            start=self.now_ms(),
            cause=cause,
            entity_key=resolved.entity_key,
            running=True,
            trace={"kind": action.kind, **(trace or {})},
        )
        self._running[act.activation_id] = act
        self.feed.publish(act)
        # A blocking caller learns of it only through durable(): until then it may stay in memory.
        self.store.put_activation(act, defer=True, hold=hold)
        return act

    def _close(self, act: Activation) -> None:
        self._running.pop(act.activation_id, None)
        act.running = False
        if not self.closing:
            hold = act.activation_id in self._awaited
            self.store.put_activation(act, defer=True, hold=hold)
            self.feed.publish(act)

    # -- running -------------------------------------------------------------------

    async def _execute(self, run: _Run) -> Activation:
        act, namespace = run.act, run.who.namespace
        self.throttle.started(namespace)
        try:
            await self._run(run, topmost=True)
        except asyncio.CancelledError:
            if act.running:
                fail_activation(act, self.now_ms(), STOPPED)
            raise
        except Exception:
            log.exception("activation %s failed inside the server", act.activation_id)
            fail_activation(act, self.now_ms(), INTERNAL_ERROR)
        finally:
            self.throttle.finished(namespace)
            self._close(act)
        return act

    async def _run(self, run: _Run, topmost: bool = False, in_sequence: bool = False) -> None:
        if run.resolved.action.kind == "sequence":
            await self._run_sequence(run, topmost)
            return
        job = build_job(
            self.settings,
            self._codes.get(run.resolved.action),
            run.who,
            run.resolved,
            run.args,
            run.act,
            run.tid,
            self.now_ms(),
        )
        outcome = await self.runner.run(job)
        record_outcome(run.resolved, run.act, outcome, in_sequence)

    async def _run_sequence(self, run: _Run, topmost: bool) -> None:
        who, resolved, act = run.who, run.resolved, run.act
        current: Any = run.args
        act.status, act.result = SUCCESS, {}
        for fqn in resolved.action.exec.get("components", []):
            try:
                # Checked at each run, nested sequences included: unpublishing revokes.
                component = resolve_fqn(self.store, fqn, who.namespace)
            except Forbidden as refused:
                act.status, act.result = APPLICATION_ERROR, {"error": refused.message}
                break
            except ApiError:
                act.status, act.result = APPLICATION_ERROR, {"error": MISSING_COMPONENT}
                break
            child = self._open(
                who,
                component,
                cause=act.activation_id,
                trace={"by": act.activation_id, "via": "sequence"},
            )
            act.logs.append(child.activation_id)
            # The previous result is the next input; an array goes on as it is, without
            # the component's parameters (SequenceActions.invokeNextAction, then
            # PrimitiveActions.invokeSimpleAction, merge only objects).
            args = {**component.params, **current} if isinstance(current, dict) else current
            try:
                step = replace(run, resolved=component, args=args, act=child)
                await self._run(step, in_sequence=True)
            except asyncio.CancelledError:
                if child.running:
                    fail_activation(child, self.now_ms(), STOPPED)
                self._close(child)
                raise
            except Exception:
                log.exception("sequence component %s failed inside the server", fqn)
                fail_activation(child, self.now_ms(), INTERNAL_ERROR)
            self._close(child)
            act.status, act.result, act.size = child.status, child.result, child.size
            if child.status != SUCCESS:
                break
            current = child.result
        act.end = max(self.now_ms(), act.start)
        action = resolved.action
        annotations: list[dict[str, Any]] = []
        if topmost:
            annotations.append({"key": "topmost", "value": True})
        annotations += [
            {"key": "path", "value": resolved.path},
            {"key": "kind", "value": "sequence"},
            {"key": "limits", "value": action.limits},
        ]
        if resolved.binding is not None:
            annotations.append({"key": "binding", "value": resolved.binding})
        act.annotations = annotations
        if act.status not in (SUCCESS, APPLICATION_ERROR) and act.result is None:
            act.status, act.result = WHISK_ERROR, {"error": INTERNAL_ERROR}
