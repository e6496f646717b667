"""The store's two background threads: the activation writer and the checkpointer.

Owns threads, queues and their failure handling, not SQL: ``store`` hands in how to
open a connection and how to write a batch, so sqlite3 stays in one module. Each
thread has its own connection. A failing batch or checkpoint is logged and the
thread goes on: a dead writer would leave every later caller waiting forever.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("localwhisk.storage.store")
CHECKPOINT_ROWS = 400  # activation rows (or 4 KiB pages of entities) between checkpoints
# Past this the log is copied back and cut to nothing, waiting for readers if need be:
# passive checkpoints reuse the file but never shrink it (it reached 718 MB).
WAL_LIMIT_BYTES = 64 * 1024 * 1024

Row = tuple[Any, ...]
Connect = Callable[[], Any]
WriteRows = Callable[[Any, list[Row]], None]
# The row to write instead of one that cannot be written (the same id, as failed).
FailRow = Callable[[Row], Row]


def write_isolating(db: Any, rows: list[Row], write_rows: WriteRows, fail_row: FailRow) -> int:
    """Write ``rows``; if the batch fails, each row alone, and a row that still fails in
    its failed form. Returns how many rows could not be written at all (logged)."""
    try:
        write_rows(db, rows)
        return 0
    except Exception:
        log.exception("could not write %d activation record(s); writing them one by one", len(rows))
    lost = 0
    for row in rows:
        try:
            write_rows(db, [row])
            continue
        except Exception:
            log.exception("could not write activation record %s", row[0] if row else "?")
        try:
            write_rows(db, [fail_row(row)])
            log.error("activation record %s was recorded as failed", row[0])
        except Exception:
            lost += 1
            log.exception("could not record activation %s as failed either", row[0])
    return lost


class Checkpointer:
    """Copies the write-ahead log back into the database, off every commit path.

    Left to SQLite, the commit that grows the log past 1,000 pages does it inline and
    takes milliseconds instead of tens of microseconds: every ~200th blocking invoke
    waited for one. A passive checkpoint blocks neither the writer nor readers. One that
    leaves the log over ``wal_limit`` bytes is followed by a truncating one, which waits
    (the connection's busy timeout) for a moment with no writer, then empties the file.
    """

    def __init__(self, connect: Connect, wal_limit: int = WAL_LIMIT_BYTES) -> None:
        self._db = connect()
        self._page_size = int(self._db.execute("pragma page_size").fetchone()[0])
        self._wal_limit = wal_limit
        self._wanted = threading.Event()
        self._stopping = False
        self._rows = 0  # a lost update between threads only moves a checkpoint a little
        self._thread = threading.Thread(target=self._serve, name="localwhisk-wal", daemon=True)
        self._thread.start()

    def note(self, rows: int) -> None:
        """Count rows written (from any thread); every CHECKPOINT_ROWS, wake the thread."""
        self._rows += rows
        if self._rows >= CHECKPOINT_ROWS:
            self._rows = 0
            self._wanted.set()

    def close(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join()
        self._db.close()

    def _serve(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stopping:
                return
            try:
                _, log_pages, _ = self._db.execute("pragma wal_checkpoint(passive)").fetchone()
                if log_pages * self._page_size > self._wal_limit:
                    self._db.execute("pragma wal_checkpoint(truncate)")
            except Exception:
                log.exception("could not checkpoint the write-ahead log")


class Writer:
    """One thread committing batches of activation rows; ``done`` runs after each commit."""

    def __init__(
        self,
        connect: Connect,
        write_rows: WriteRows,
        checkpointer: Checkpointer,
        fail_row: FailRow | None = None,
    ) -> None:
        self._db = connect()
        self._write_rows = write_rows
        self._fail_row = fail_row or (lambda row: row)
        self._checkpointer = checkpointer
        self._queue: queue.SimpleQueue[tuple[list[Row], Callable[[], None]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._serve, name="localwhisk-store", daemon=True)
        self._thread.start()

    def submit(self, rows: list[Row], done: Callable[[], None]) -> None:
        self._queue.put((rows, done))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._db.close()

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            batch = [item]
            # Group commit: take whatever else is already queued into the same transaction.
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = any(entry is None for entry in batch)
            work = [entry for entry in batch if entry is not None]
            rows = [row for entry in work for row in entry[0]]
            if rows:
                try:
                    write_isolating(self._db, rows, self._write_rows, self._fail_row)
                except Exception:  # write_isolating catches all; this keeps the thread alive
                    log.exception("could not write %d activation record(s)", len(rows))
                self._checkpointer.note(len(rows))
            for _, done in work:
                done()
