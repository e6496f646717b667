"""SQLite persistence: entities and activations survive reopening; interrupted runs are failed."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from localwhisk.models import Action, Activation, Trigger
from localwhisk.storage.store import INLINE_ROWS, INTERRUPTED, Store


def activation(activation_id: str, key: str, start: int, running: bool = False) -> Activation:
    return Activation(
        activation_id,
        "guest",
        key,
        "0.0.1",
        "guest",
        start,
        start + 1,
        entity_key=key,
        running=running,
    )


def test_entities_survive_reopening(tmp_path):
    store = Store(tmp_path / "db")
    store.put(Action("guest", "a", exec={"kind": "python:3.11", "code": "x"}, updated=1))
    store.put(Trigger("guest", "t", rules={"guest/r": {"status": "active"}}, updated=2))
    store.close()
    again = Store(tmp_path / "db")
    action = again.get("guest", "a")
    assert isinstance(action, Action) and again.with_code(action).exec["code"] == "x"
    trigger = again.get("guest", "t")
    assert isinstance(trigger, Trigger) and trigger.rules == {"guest/r": {"status": "active"}}
    again.delete("guest", "a")
    again.close()
    assert Store(tmp_path / "db").get("guest", "a") is None


def test_entities_list_newest_first_under_a_root_namespace(tmp_path):
    store = Store(tmp_path / "db")
    store.put(Action("guest", "old", updated=1))
    store.put(Action("guest/pkg", "packaged", updated=3))
    store.put(Action("other", "foreign", updated=2))
    store.put(Trigger("guest", "trigger", updated=4))
    assert [a.name for a in store.entities("actions", "guest")] == ["packaged", "old"]
    assert [a.name for a in store.entities("actions", "guest", path="guest/pkg")] == ["packaged"]


def test_running_activations_of_a_previous_process_are_marked_failed(tmp_path):
    store = Store(tmp_path / "db")
    store.put_activation(activation("a" * 32, "slow", 100, running=True))
    store.close()
    again = Store(tmp_path / "db")
    assert again.recovered == 1
    act = again.get_activation("a" * 32)
    assert act is not None and not act.running
    assert act.status == "whisk internal error"
    assert act.result == {"error": INTERRUPTED}
    assert again.list_activations("guest", "slow") == [act]


def test_activation_listing_filters_and_orders_by_start(tmp_path):
    store = Store(tmp_path / "db")
    for i, key in enumerate(["a", "b", "a", "a"]):
        store.put_activation(activation(f"{i:032d}", key, 1000 + i))
    store.put_activation(activation("9" * 32, "a", 5000, running=True))
    assert [a.start for a in store.list_activations("guest", "a")] == [1003, 1002, 1000]
    assert [a.start for a in store.list_activations("guest", since=1001, upto=1002)] == [1002, 1001]
    assert [a.start for a in store.list_activations("guest", skip=1, limit=2)] == [1002, 1001]
    assert store.count_activations("guest", "a") == 3
    assert store.list_activations("other") == []


def test_the_name_filter_uses_the_index(tmp_path):
    store = Store(tmp_path / "db")
    plan = store._db.execute(
        "explain query plan select doc from activations where namespace = ? and running = 0"
        " and entity_key = ? order by start desc limit 30",
        ("guest", "a"),
    ).fetchall()
    assert any("activations_by_name" in str(row) for row in plan)


def test_pruning_drops_only_old_finished_activations(tmp_path):
    store = Store(tmp_path / "db")
    store.put_activation(activation("1" * 32, "a", 10))
    store.put_activation(activation("2" * 32, "a", 10_000))
    assert store.prune_activations(older_than_ms=5000) == 1
    assert store.get_activation("1" * 32) is None
    assert store.get_activation("2" * 32) is not None


def test_deferred_records_are_visible_at_once_and_on_disk_after_durable(tmp_path):
    store = Store(tmp_path / "db")

    async def go():
        act = activation("3" * 32, "a", 10, running=True)
        store.put_activation(act, defer=True)
        assert store.get_activation(act.activation_id) is act  # before any commit
        act.running = False  # finished in place: one write carries the final state
        await store.durable()
        other = Store(tmp_path / "db")  # a second connection sees only what is committed
        try:
            on_disk = other.get_activation(act.activation_id)
        finally:
            other.close()
        return on_disk

    on_disk = asyncio.run(go())
    assert on_disk is not None and not on_disk.running
    store.close()


def test_lists_include_records_still_being_written(tmp_path):
    store = Store(tmp_path / "db")

    async def go():
        for i in range(3):
            store.put_activation(activation(f"{i:032d}", "a", 100 + i), defer=True)
        return [a.start for a in store.list_activations("guest", "a")]

    assert asyncio.run(go()) == [102, 101, 100]
    store.close()
    assert Store(tmp_path / "db").count_activations("guest", "a") == 3


def test_durable_commits_through_the_writer_when_many_records_wait(tmp_path):
    # One or a few records commit on the loop when the writer is idle; more go to the
    # writer thread. Both must leave every record on disk when durable() returns.
    store = Store(tmp_path / "db")

    async def go(count: int, first: int) -> int:
        for i in range(first, first + count):
            store.put_activation(activation(f"{i:032d}", "a", i), defer=True)
        await store.durable()
        other = Store(tmp_path / "db")
        try:
            return other.count_activations("guest", "a")
        finally:
            other.close()

    assert asyncio.run(go(1, 0)) == 1
    assert asyncio.run(go(INLINE_ROWS + 5, 1)) == INLINE_ROWS + 6
    store.close()


def test_batched_writes_keep_the_last_version_of_each_record(tmp_path):
    # Batches go as one statement (or several, in one transaction, when large); a record
    # written twice in a batch, running then finished, must end finished.
    from localwhisk.storage.store import STATEMENT_ROWS

    store = Store(tmp_path / "db")
    for count in (3, STATEMENT_ROWS * 2 + 7):
        running = [activation(f"{i:032d}", "a", i, running=True) for i in range(count)]
        finished = [activation(f"{i:032d}", "a", i) for i in range(count)]
        store.put_activations(running + finished)
        assert store.count_activations("guest", "a") == count
        assert all(not act.running for act in store.list_activations("guest", "a", limit=200))
    store.close()


def test_action_code_stays_in_the_database_not_in_memory(tmp_path):
    store = Store(tmp_path / "db")
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(8):  # 8 x 4 MB of code
        code = f"# {i}\n" + "#" * 4_000_000
        store.put(Action("guest", f"big{i}", exec={"kind": "python:3.11", "code": code}))
        del code
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert kept < 4_000_000, f"{kept} bytes kept for 32 MB of code"
    head = store.get("guest", "big3")
    assert "code" not in head.exec and head.exec["kind"] == "python:3.11"
    assert store.with_code(head).exec["code"].startswith("# 3\n")
    assert store.code("guest", "big3").startswith("# 3\n")
    assert store.code("guest", "missing") is None
    store.close()


def test_an_update_that_keeps_the_exec_keeps_the_code(tmp_path):
    store = Store(tmp_path / "db")
    store.put(Action("guest", "a", exec={"kind": "python:3.11", "code": "v1"}, updated=1))
    head = store.get("guest", "a")
    updated = Action("guest", "a", exec=head.exec, parameters=[{"key": "p", "value": 1}])
    store.put(updated)
    assert updated.exec == {"kind": "python:3.11", "code": "v1"}  # the caller answers with it
    store.put(Action("guest", "copy", exec=store.get("guest", "a").exec))  # another name
    store.close()
    again = Store(tmp_path / "db")
    for name in ("a", "copy"):
        assert again.with_code(again.get("guest", name)).exec["code"] == "v1"
    assert again.get("guest", "a").parameters == [{"key": "p", "value": 1}]
