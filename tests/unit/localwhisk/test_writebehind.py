"""The store's background threads: batches survive a failing one; checkpoints happen."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from localwhisk.models import Action, Activation
from localwhisk.storage.store import Store
from localwhisk.storage.writebehind import CHECKPOINT_ROWS, Checkpointer, Writer


class FakeConnection:
    def close(self) -> None:
        pass


class FakeCheckpointer(Checkpointer):
    def __init__(self) -> None:  # no thread, no connection: only counts
        self.noted = 0

    def note(self, rows: int) -> None:
        self.noted += rows


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_failing_batch_is_logged_and_the_writer_goes_on(caplog):
    written: list[list[tuple]] = []

    def write_rows(db, rows):
        if rows[0][0] == "bad":
            raise sqlite3.OperationalError("disk I/O error")
        written.append(rows)

    checkpointer = FakeCheckpointer()
    writer = Writer(FakeConnection, write_rows, checkpointer)
    done = [threading.Event(), threading.Event()]
    writer.submit([("bad",)], done[0].set)
    assert done[0].wait(10)  # its caller is released (queued together, both would fail)
    writer.submit([("good",)], done[1].set)
    assert done[1].wait(10)
    writer.close()
    assert written == [[("good",)]]
    assert checkpointer.noted == 2
    assert "could not write 1 activation record(s)" in caplog.text


def test_the_log_is_checkpointed_into_the_database_file(tmp_path: Path):
    store = Store(tmp_path / "db")
    before = (tmp_path / "db").stat().st_size
    doc = "x" * 2000
    acts = [
        Activation(f"{i:032d}", "guest", "a", "0.0.1", "guest", i, i + 1, entity_key="a")
        for i in range(CHECKPOINT_ROWS + 10)
    ]
    for act in acts:
        act.result = {"pad": doc}
    store.put_activations(acts)  # commits without SQLite's own checkpoint (it is off)
    # The checkpointer thread copies the log into the main file; poll with a bound.
    assert wait_until(lambda: (tmp_path / "db").stat().st_size > before + 400 * 2000)
    store.close()


def test_the_log_stays_bounded_under_large_entities_and_records(tmp_path: Path):
    limit = 2 * 1024 * 1024
    store = Store(tmp_path / "db", wal_limit=limit)
    wal = tmp_path / "db-wal"
    for i in range(8):  # 8 x 3 MB of code: 24 MB through the log
        store.put(Action("guest", f"big{i}", exec={"kind": "python:3", "code": "#" * 3_000_000}))
        acts = [
            Activation(f"{i:04d}{n:028d}", "guest", "a", "0.0.1", "guest", n, n + 1)
            for n in range(CHECKPOINT_ROWS)
        ]
        for act in acts:
            act.result = {"pad": "x" * 1000}
        store.put_activations(acts)
    # The checkpointer thread cuts the log once it is over the limit: poll with a bound.
    assert wait_until(lambda: wal.stat().st_size <= limit), wal.stat().st_size
    store.close()
    again = Store(tmp_path / "db")
    assert again.code("guest", "big7") == "#" * 3_000_000
    assert again.count_activations("guest") == 8 * CHECKPOINT_ROWS
    again.close()
