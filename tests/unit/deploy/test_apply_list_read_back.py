"""Read-back of many written actions: one list instead of a GET each, a GET where it disagrees."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from plan_builders import ART_W, manifest

from deploy.apply import LIST_READ_BACK, apply_plan
from deploy.errors import ApplyError
from deploy.models import ActionSpec, Limits
from deploy.plan import build_plan, desired_entities


class ListingClient:
    """Stores what is PUT; ``list`` answers summaries, optionally stale for some names."""

    def __init__(self, stale: set[str] = frozenset(), dropped: set[str] = frozenset()) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.stale, self.dropped = stale, dropped
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def put(self, collection: str, name: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        with self.lock:
            self.calls.append("PUT")
            stored = dict(body)
            if name in self.dropped:  # a server that ignores the timeout
                stored["limits"] = {**body["limits"], "timeout": 60000}
            self.stored[name] = {**stored, "name": name, "namespace": "guest"}
        return {}

    def list(self, collection: str) -> list[dict[str, Any]]:
        self.calls.append("LIST")
        docs = []
        for name, doc in self.stored.items():
            if name in self.stale:  # a list view that still shows the old version
                doc = {**doc, "limits": {**doc["limits"], "timeout": 1}}
            docs.append(doc)
        return docs

    def get(self, collection: str, name: str, **params: Any) -> dict[str, Any] | None:
        with self.lock:
            self.calls.append(f"GET {name}")
        return self.stored.get(name)


def many(count: int = LIST_READ_BACK + 4) -> list[Any]:
    actions = tuple(
        ActionSpec(None, f"a{i:02d}", "python:3.11", limits=Limits(timeout=120000))
        for i in range(count)
    )
    m = manifest(actions=actions, triggers=(), rules=())
    return desired_entities(m, {a.path: ART_W for a in actions}, "guest")


def test_many_written_actions_are_read_back_with_one_list() -> None:
    client = ListingClient()
    report = apply_plan(build_plan(many(), [], "openwhisk-async"), client)
    assert client.calls.count("LIST") == 1
    assert not [c for c in client.calls if c.startswith("GET")]
    assert len(report.readback) == LIST_READ_BACK + 4


def test_a_stale_summary_is_checked_again_with_a_get() -> None:
    client = ListingClient(stale={"a03"})
    apply_plan(build_plan(many(), [], "openwhisk-async"), client)
    assert [c for c in client.calls if c.startswith("GET")] == ["GET a03"]


def test_a_real_mismatch_is_still_reported() -> None:
    client = ListingClient(dropped={"a05"})
    with pytest.raises(ApplyError) as err:
        apply_plan(build_plan(many(), [], "openwhisk-async"), client)
    assert "action a05: timeout is 60000, expected 120000" in str(err.value)
