"""Throttles: per wall-clock minute and in flight, with the platform's 429 texts."""

from __future__ import annotations

import pytest

from localwhisk.errors import ConcurrencyThrottled, RateThrottled
from localwhisk.platform.throttle import Throttle


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_rate_allows_the_limit_then_refuses_until_the_next_minute():
    clock = Clock(120.0)
    throttle = Throttle(invocations_per_minute=2, clock=clock)
    throttle.check_invoke("guest")
    throttle.check_invoke("guest")
    with pytest.raises(RateThrottled) as raised:
        throttle.check_invoke("guest")
    assert raised.value.message == "Too many requests in the last minute (count: 3, allowed: 2)."
    assert raised.value.status == 429
    throttle.check_invoke("other")  # per namespace
    clock.now = 180.0
    throttle.check_invoke("guest")


def test_concurrency_counts_in_flight_activations():
    throttle = Throttle(concurrent=1)
    throttle.check_invoke("guest")
    throttle.started("guest")
    with pytest.raises(ConcurrencyThrottled) as raised:
        throttle.check_invoke("guest")
    assert raised.value.message == "Too many concurrent requests in flight (count: 1, allowed: 1)."
    throttle.finished("guest")
    throttle.check_invoke("guest")


def test_zero_switches_a_throttle_off():
    throttle = Throttle()
    for _ in range(1000):
        throttle.check_invoke("guest")
        throttle.check_fire("guest")
        throttle.started("guest")


def test_fires_have_their_own_budget():
    throttle = Throttle(invocations_per_minute=1, fires_per_minute=1, clock=Clock(0.0))
    throttle.check_fire("guest")
    throttle.check_invoke("guest")
    with pytest.raises(RateThrottled):
        throttle.check_fire("guest")
