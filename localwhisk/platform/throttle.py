"""Per-namespace throttles: invocations and fires per wall-clock minute, and in-flight count.

Mirrors OpenWhisk's RateThrottler (the window is ``now_ms // 60000``, every check
counts, allowed while ``count <= allowed``) and ActivationThrottler (allowed while
``in_flight < allowed``). A limit of 0 switches that throttle off.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from localwhisk.errors import ConcurrencyThrottled, RateThrottled


class _Rate:
    def __init__(self, allowed: int, clock: Callable[[], float]) -> None:
        self.allowed = allowed
        self._clock = clock
        self._minute: dict[str, tuple[int, int]] = {}  # namespace -> (minute, count)

    def check(self, namespace: str) -> None:
        if self.allowed <= 0:
            return
        minute = int(self._clock() * 1000) // 60_000
        seen_minute, count = self._minute.get(namespace, (minute, 0))
        count = count + 1 if seen_minute == minute else 1
        self._minute[namespace] = (minute, count)
        if count > self.allowed:
            raise RateThrottled(count, self.allowed)


class Throttle:
    def __init__(
        self,
        invocations_per_minute: int = 0,
        concurrent: int = 0,
        fires_per_minute: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._invokes = _Rate(invocations_per_minute, clock)
        self._fires = _Rate(fires_per_minute, clock)
        self.concurrent = concurrent
        self.in_flight: dict[str, int] = {}

    def check_invoke(self, namespace: str) -> None:
        """Raise 429 if this invocation is over a limit; counts it either way."""
        if self.concurrent > 0:
            now = self.in_flight.get(namespace, 0)
            if now >= self.concurrent:
                raise ConcurrencyThrottled(now, self.concurrent)
        self._invokes.check(namespace)

    def check_fire(self, namespace: str) -> None:
        self._fires.check(namespace)

    def started(self, namespace: str) -> None:
        self.in_flight[namespace] = self.in_flight.get(namespace, 0) + 1

    def finished(self, namespace: str) -> None:
        left = self.in_flight.get(namespace, 1) - 1
        if left > 0:
            self.in_flight[namespace] = left
        else:
            self.in_flight.pop(namespace, None)
