"""The live feed of activations: who is watching a namespace, and what changed since.

The invoker tells the feed each time a record opens or closes; the dashboard's event
stream (``api/dashboardapi``) reads a subscription. Publishing costs one dict lookup when
nobody watches the namespace, so the invoke path pays nothing for an unused dashboard.
A subscriber holds activation objects, not copies: it sends each one's state as it is
when it is written out, and a record changed twice between reads is sent once.
A subscriber that falls behind (more than ``backlog`` records waiting) is told to reload
instead of growing without bound.

Each subscription is an open event stream, which holds a connection for as long as the
page stays open, so their number is capped per namespace and overall, far below the
server's connection cap: one key holder opening streams in a loop is refused (429) while
every other request, theirs included, is still served.
"""

from __future__ import annotations

import asyncio

from localwhisk.errors import StreamsLimited
from localwhisk.models import Activation

BACKLOG = 5000  # records a subscriber may have waiting before it must reload
# A dashboard tab holds one stream; 32 is many tabs for one namespace. 256 in all stays
# well below the connection cap (``config.HttpBounds``, at most 4,096) and bounds what
# the streams of followers that stop reading can hold (``api/dashboardapi``).
PER_NAMESPACE = 32
TOTAL = 256


class Subscription:
    """One watcher of one namespace: ``next`` waits for changes, batched."""

    def __init__(self, feed: ActivationFeed, namespace: str, backlog: int) -> None:
        self.namespace = namespace
        self._feed = feed
        self._backlog = backlog
        self._changed: dict[str, Activation] = {}  # id -> record, in order of first change
        self._wake = asyncio.Event()
        self.lagged = False  # records were dropped: the watcher must reload
        self.closed = False

    def push(self, act: Activation) -> None:
        if len(self._changed) >= self._backlog and act.activation_id not in self._changed:
            self._changed.clear()
            self.lagged = True
        else:
            self._changed[act.activation_id] = act
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def next(self, timeout: float) -> list[Activation]:
        """The records changed since the last call (empty after ``timeout`` or once closed)."""
        if not self._changed and not self.lagged and not self.closed:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        self._wake.clear()
        changed = list(self._changed.values())
        self._changed.clear()
        return changed

    def cancel(self) -> None:
        self._feed.unsubscribe(self)


class ActivationFeed:
    def __init__(
        self, backlog: int = BACKLOG, per_namespace: int = PER_NAMESPACE, total: int = TOTAL
    ) -> None:
        self._backlog = backlog
        self._per_namespace = per_namespace
        self._total = total
        self._count = 0
        self._watchers: dict[str, set[Subscription]] = {}
        self.closed = False

    def subscribe(self, namespace: str) -> Subscription:
        """A new watcher of ``namespace``; ``StreamsLimited`` past either cap."""
        sub = Subscription(self, namespace, self._backlog)
        if self.closed:
            sub.close()
            return sub
        watchers = self._watchers.get(namespace, ())
        if len(watchers) >= self._per_namespace:
            raise StreamsLimited(f"for namespace {namespace!r}", len(watchers), self._per_namespace)
        if self._count >= self._total:
            raise StreamsLimited("on this server", self._count, self._total)
        self._watchers.setdefault(namespace, set()).add(sub)
        self._count += 1
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        watchers = self._watchers.get(sub.namespace)
        if watchers is not None and sub in watchers:
            watchers.discard(sub)
            self._count -= 1
            if not watchers:
                del self._watchers[sub.namespace]

    def publish(self, act: Activation) -> None:
        watchers = self._watchers.get(act.namespace)
        if watchers:
            for sub in watchers:
                sub.push(act)

    def watching(self, namespace: str) -> int:
        return len(self._watchers.get(namespace, ()))

    def close(self) -> None:
        """End every subscription (server shutdown: event streams must not hold it up)."""
        self.closed = True
        for watchers in self._watchers.values():
            for sub in watchers:
                sub.close()
        self._watchers.clear()
        self._count = 0
