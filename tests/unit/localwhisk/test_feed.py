"""platform.feed: per-namespace subscriptions, batching, falling behind, closing."""

from __future__ import annotations

import asyncio

import pytest

from localwhisk.errors import StreamsLimited
from localwhisk.models import Activation
from localwhisk.platform.feed import ActivationFeed


def act(n: int, namespace: str = "guest") -> Activation:
    return Activation(f"{n:032x}", namespace, "a", "0.0.1", namespace, n)


def test_a_subscriber_sees_its_namespace_only_and_each_record_once_per_batch():
    async def go():
        feed = ActivationFeed()
        sub = feed.subscribe("guest")
        first = act(1)
        feed.publish(first)
        feed.publish(act(2, "other"))
        feed.publish(first)  # changed again before it was read: sent once, as it is now
        got = await sub.next(1)
        nothing = await sub.next(0.01)
        sub.cancel()
        return got, nothing, feed.watching("guest")

    got, nothing, left = asyncio.run(go())
    assert [a.activation_id for a in got] == [f"{1:032x}"]
    assert nothing == [] and left == 0


def test_a_subscriber_that_falls_behind_is_told_to_reload():
    async def go():
        feed = ActivationFeed(backlog=3)
        sub = feed.subscribe("guest")
        for n in range(5):
            feed.publish(act(n))
        got = await sub.next(1)
        return sub.lagged, len(got)

    lagged, count = asyncio.run(go())
    assert lagged and count < 5


def test_closing_wakes_every_subscriber_and_refuses_new_ones():
    async def go():
        feed = ActivationFeed()
        sub = feed.subscribe("guest")
        waiting = asyncio.ensure_future(sub.next(30))
        await asyncio.sleep(0)
        feed.close()
        await asyncio.wait_for(waiting, 1)
        return sub.closed, feed.subscribe("guest").closed

    assert asyncio.run(go()) == (True, True)


def test_streams_past_the_namespace_cap_or_the_total_are_refused_until_one_leaves():
    feed = ActivationFeed(per_namespace=2, total=3)
    first, _ = feed.subscribe("guest"), feed.subscribe("guest")
    with pytest.raises(StreamsLimited) as per_namespace:
        feed.subscribe("guest")
    feed.subscribe("other")
    with pytest.raises(StreamsLimited) as total:
        feed.subscribe("third")
    first.cancel()
    first.cancel()  # a second cancel frees nothing more
    feed.subscribe("third")
    with pytest.raises(StreamsLimited):
        feed.subscribe("guest")
    assert per_namespace.value.status == 429
    assert "for namespace 'guest' (count: 2, allowed: 2)" in per_namespace.value.message
    assert "on this server (count: 3, allowed: 3)" in total.value.message
    assert feed.watching("guest") == 1
