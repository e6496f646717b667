"""No record stops the store: poisoned records mixed into other namespaces' batches.

Each poison (a result nested 1,000 deep, a lone surrogate, integers beyond 64 bits)
is put among ordinary records of other namespaces, on the loop's inline path and in
batches big enough to go to the writer thread. Every record lands; the poisoned ones
as developer errors (big integers are storable and land as they are); the store goes
on and closes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from localwhisk.models import DEVELOPER_ERROR, SUCCESS, WHISK_ERROR, Activation
from localwhisk.storage.store import INLINE_ROWS, UNWRITABLE, Store, _failed_row, _row
from localwhisk.storage.writebehind import write_isolating


def deep(levels: int) -> dict:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return {"d": value}


POISONS = {
    "depth 1,000": deep(1000),
    "lone surrogate": {"s": "\ud800"},
    "surrogate key": {"\udc00": 1},
}
BIG = {"n": 2**64 + 1, "m": -(2**100)}


def record(number: int, namespace: str, result: object) -> Activation:
    act = Activation(
        f"{number:032x}", namespace, "echo", "0.0.1", namespace, 1000 + number, 1001 + number
    )
    act.entity_key, act.result, act.status = "echo", result, SUCCESS
    return act


async def put_all(store: Store, acts: list[Activation]) -> None:
    for act in acts:
        store.put_activation(act, defer=True)
    await store.durable()


@pytest.mark.parametrize("batch", [INLINE_ROWS, 60, 700])  # on the loop; writer; split statements
@pytest.mark.parametrize("poison", [*POISONS, "big integers"])
def test_every_record_of_a_poisoned_batch_lands(tmp_path, poison, batch):
    store = Store(tmp_path / "db")
    bad = BIG if poison == "big integers" else POISONS[poison]
    acts = [record(i, f"ns{i % 7}", {"i": i}) for i in range(batch)]
    poisoned = {0, batch // 2, batch - 1}
    for i in poisoned:
        acts[i].result = bad
    asyncio.run(put_all(store, acts))
    store.close()  # shutdown works after a poison

    again = Store(tmp_path / "db")
    for i, act in enumerate(acts):
        stored = again.get_activation(act.activation_id)
        assert stored is not None, f"record {i} lost"
        assert stored.namespace == f"ns{i % 7}"
        if i not in poisoned:
            assert (stored.status, stored.result) == (SUCCESS, {"i": i})
        elif poison == "big integers":
            assert (stored.status, stored.result) == (SUCCESS, BIG)
        else:
            assert stored.status == DEVELOPER_ERROR
            assert stored.result["error"].startswith("The action produced a result that cannot")
            assert act.result == stored.result  # callers see what is on disk
    total = sum(again.count_activations(f"ns{n}") for n in range(7))
    assert total == batch
    again.close()


def test_a_poisoned_direct_write_and_later_traffic_go_on(tmp_path):
    store = Store(tmp_path / "db")
    store.put_activation(record(1, "a", POISONS["depth 1,000"]))  # written at once
    asyncio.run(put_all(store, [record(2, "b", {"ok": True})]))
    assert store.get_activation(f"{1:032x}").status == DEVELOPER_ERROR
    assert [a.result for a in store.list_activations("b", "echo")] == [{"ok": True}]
    store.close()


def test_a_row_the_database_refuses_is_recorded_as_failed_and_the_rest_land(tmp_path):
    acts = [record(i, f"ns{i}", {"i": i}) for i in range(5)]
    rows = [_row(act) for act in acts]
    written: dict[str, tuple] = {}

    def write_rows(db, batch):
        if any(row[0] == acts[2].activation_id and '"i":2' in row[5] for row in batch):
            raise sqlite3.OperationalError("database or disk is full")
        written.update((row[0], row) for row in batch)

    assert write_isolating(None, rows, write_rows, _failed_row) == 0
    assert sorted(written) == sorted(act.activation_id for act in acts)
    failed = Activation(**json.loads(written[acts[2].activation_id][5]))
    assert (failed.status, failed.result) == (WHISK_ERROR, {"error": UNWRITABLE})
    assert failed.namespace == "ns2" and not failed.running


def test_rows_lost_only_when_even_the_failed_form_cannot_be_written(caplog):
    rows = [("a", "x", "k", 1, 0, "{}"), ("b", "x", "k", 1, 0, "{}")]
    written = []

    def write_rows(db, batch):
        if any(row[0] == "a" for row in batch):
            raise sqlite3.OperationalError("disk I/O error")
        written.extend(batch)

    assert write_isolating(None, rows, write_rows, lambda row: row) == 1
    assert [row[0] for row in written] == ["b"]
    assert "could not record activation a as failed either" in caplog.text
