"""Warm-process bookkeeping: who may run where, who waits, who is retired.

Owns the limits (processes per action, processes overall), the FIFO queue of waiting
activations, idle expiry and retirement of old revisions. It never starts or stops a
process itself: ``evict`` is the runner's callback for a process the pool lets go.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass
class _Idle(Generic[P]):
    proc: P
    key: Hashable
    action: str
    timer: asyncio.TimerHandle | None = None


@dataclass
class _Waiter:
    key: Hashable
    action: str
    future: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Pool(Generic[P]):
    """One activation per process; a granted slot without a process means "start one"."""

    def __init__(
        self,
        *,
        max_per_action: int,
        max_total: int,
        idle_seconds: float,
        evict: Callable[[P], None],
    ) -> None:
        self.max_per_action = max(1, max_per_action)
        self.max_total = max(1, max_total)
        self.idle_seconds = idle_seconds
        self._evict = evict
        self._idle: list[_Idle[P]] = []  # oldest first
        self._per_action: Counter[str] = Counter()
        self._total = 0
        # Waiters per action, in arrival order; actions in the order they began waiting.
        # Only a queue's head can be blocked (see _dispatch), so a release costs
        # O(actions), not O(waiters): thousands of queued activations stay cheap.
        self._queues: dict[str, deque[_Waiter]] = {}

    @property
    def total(self) -> int:
        return self._total

    def count(self, action: str) -> int:
        return self._per_action[action]

    async def acquire(self, key: Hashable, action: str) -> P | None:
        """A warm idle process for ``key``, or None: a slot reserved to start a new one."""
        if not self._queues:
            # Nobody is waiting, so order cannot matter: answer without a future
            # (the warm invoke's common case).
            granted, proc = self._try_grant(key, action)
            if granted:
                return proc
        waiter = _Waiter(key, action)
        queue = self._queues.get(action)
        if queue is None:
            queue = self._queues[action] = deque()
        queue.append(waiter)
        self._dispatch()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            # A cancelled waiter still queued is skipped (and dropped) by _dispatch.
            if waiter.future.done() and not waiter.future.cancelled():
                self.release(waiter.future.result(), key, action, keep=True)
            raise

    def release(self, proc: P | None, key: Hashable, action: str, *, keep: bool) -> None:
        """Give a process back (``keep``) or give up its slot (crashed, retired, never started)."""
        if keep and proc is not None:
            entry: _Idle[P] = _Idle(proc, key, action)
            entry.timer = asyncio.get_running_loop().call_later(
                self.idle_seconds, self._expire, entry
            )
            self._idle.append(entry)
        else:
            self._free_slot(action)
        self._dispatch()

    def retire(self, action: str, current_key: Hashable) -> None:
        """Evict this action's idle processes of any other revision."""
        for entry in [e for e in self._idle if e.action == action and e.key != current_key]:
            self._drop_idle(entry)
        self._dispatch()

    def take_all_idle(self) -> list[P]:
        procs = [e.proc for e in self._idle]
        for entry in list(self._idle):
            if entry.timer is not None:
                entry.timer.cancel()
            self._idle.remove(entry)
            self._free_slot(entry.action)
        return procs

    def fail_waiters(self, exc: BaseException) -> None:
        queues, self._queues = self._queues, {}
        for queue in queues.values():
            for waiter in queue:
                if not waiter.future.done():
                    waiter.future.set_exception(exc)

    def _free_slot(self, action: str) -> None:
        self._total -= 1
        self._per_action[action] -= 1
        if self._per_action[action] <= 0:
            del self._per_action[action]

    def _drop_idle(self, entry: _Idle[P]) -> None:
        if entry.timer is not None:
            entry.timer.cancel()
        self._idle.remove(entry)
        self._free_slot(entry.action)
        self._evict(entry.proc)

    def _expire(self, entry: _Idle[P]) -> None:
        if entry in self._idle:
            self._drop_idle(entry)
            self._dispatch()

    def _grant(self, waiter: _Waiter) -> bool:
        granted, proc = self._try_grant(waiter.key, waiter.action)
        if granted:
            waiter.future.set_result(proc)
        return granted

    def _try_grant(self, key: Hashable, action: str) -> tuple[bool, P | None]:
        """(True, idle process) or (True, None) for a reserved slot; (False, None) if neither."""
        for index in range(len(self._idle) - 1, -1, -1):  # most recently used: the warmest
            entry = self._idle[index]
            if entry.key == key:
                if entry.timer is not None:
                    entry.timer.cancel()
                del self._idle[index]
                return True, entry.proc
        if self._per_action[action] >= self.max_per_action:
            # The action is at its limit; an idle process of its old revision makes room.
            stale = next((e for e in self._idle if e.action == action), None)
            if stale is None:
                return False, None
            self._drop_idle(stale)
        if self._total >= self.max_total:
            if not self._idle:
                return False, None
            self._drop_idle(self._idle[0])  # least recently used, any action
        self._total += 1
        self._per_action[action] += 1
        return True, None

    def _dispatch(self) -> None:
        """Serve waiters in arrival order; one that cannot run yet does not block others.

        Within one action, when the head cannot be granted, nobody behind it can: it
        fails only when the action has no idle process at all (an idle one, of any
        revision, would be reused or make room) and the per-action or total limit is hit,
        which holds for every waiter of that action alike.
        """
        for action in list(self._queues):
            queue = self._queues[action]
            while queue:
                waiter = queue[0]
                if waiter.future.done() or self._grant(waiter):
                    queue.popleft()
                else:
                    break
            if not queue:
                del self._queues[action]
