"""SQLite persistence for entities, activations and namespace settings; the only module importing sqlite3.

WAL mode, parameterised statements, schema as constants. Entities are few and read
on every invoke, so they live in memory too and are written through at once, all
but actions' code: up to 48 MB each, it stays in the database and is read when
wanted (``code``, ``with_code``). An action from ``get`` carries a ``CodeInDatabase``
exec, which ``put`` fills from the database, so an update that keeps the code
need not have it.

Activation records on the invoke path are written behind, by one writer thread with
its own connection (``writebehind``): records collected during an event-loop turn go
in one transaction (a record written twice, running then finished, is written once).
``durable()`` is awaited before a caller is told anything about a record (its id, or
its result), so whatever was acknowledged exists on disk; concurrent callers share
one commit (group commit). When the writer holds nothing and only a few records
wait, ``durable()`` commits them on the loop instead: cheaper than two thread
hand-offs for a lone caller. Checkpoints run on their own thread, never in a commit.

No record can stop the writer: ``_row`` makes every record storable before it is
queued (a result that cannot be written as UTF-8 JSON becomes the activation's
developer error, in place, so what callers see is what is on disk), and a batch that
fails anyway is written row by row, each bad row in its failed form.
A record put with ``hold`` (a blocking invoke's running state, which nobody has
seen yet) stays in memory until it changes, ``durable()`` or ``sync()``: the
common case writes each such activation once, finished. Reads see unwritten records.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from localwhisk import codec
from localwhisk.models import (
    DEVELOPER_ERROR,
    ENTITY_TYPES,
    WHISK_ERROR,
    Action,
    Activation,
    Entity,
    LogForwarding,
)
from localwhisk.storage.apis import ApiTable
from localwhisk.storage.writebehind import (
    WAL_LIMIT_BYTES,
    Checkpointer,
    Row,
    Writer,
    write_isolating,
)

SCHEMA = (
    """create table if not exists entities (
        path text not null, name text not null, collection text not null,
        doc text not null, primary key (path, name)) without rowid""",
    """create table if not exists activations (
        id text primary key, namespace text not null, entity_key text not null,
        start integer not null, running integer not null, doc text not null)""",
    "create index if not exists activations_by_name on activations (namespace, entity_key, start)",
    "create index if not exists activations_by_start on activations (namespace, start)",
    "create index if not exists activations_running on activations (running) where running = 1",
    # What each activation caused (the dashboard's links): only records with a cause.
    """create index if not exists activations_by_cause on activations
        (json_extract(doc, '$.trace.by')) where json_extract(doc, '$.trace.by') is not null""",
    # One row per namespace that changed its log forwarding (Adobe I/O Runtime's setting).
    """create table if not exists log_forwarding (
        namespace text primary key, doc text not null) without rowid""",
)

INSERT_ACTIVATION = (
    "insert or replace into activations (id, namespace, entity_key, start, running, doc)"
    " values (?, ?, ?, ?, ?, ?)"
)
STATEMENT_ROWS = 500  # activation rows per insert statement
INLINE_ROWS = 4  # at most this many records are committed on the loop, and only when idle
INTERRUPTED = "The activation was interrupted because the server stopped before it completed."
UNSTORABLE_RESULT = "The action produced a result that cannot be stored: {reason}."
UNWRITABLE = "The activation record could not be written to the database."


_encode = codec.storable_text  # Unstorable rather than text SQLite cannot bind


# A whole batch as one statement: executemany steps SQLite once per row, and each
# step gives up and retakes the GIL, which a busy event loop holds for up to 5 ms.
INSERT_ACTIVATIONS = (
    "insert or replace into activations (id, namespace, entity_key, start, running, doc)"
    " select json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
    " json_extract(value, '$[2]'), json_extract(value, '$[3]'),"
    " json_extract(value, '$[4]'), json_extract(value, '$[5]') from json_each(?)"
)


def _write_rows(db: sqlite3.Connection, rows: list[Row]) -> None:
    """Insert or replace ``rows`` in one transaction; later rows of an id win.

    Up to STATEMENT_ROWS rows (every batch the writer sees under load) go as one
    statement, which SQLite's autocommit makes its own transaction: no begin and
    commit steps, each of which would retake the GIL too. Bulk writes are cut into
    statements of that size inside one transaction, so no batch becomes one huge text.
    """
    if len(rows) == 1:
        db.execute(INSERT_ACTIVATION, rows[0])
        return
    if len(rows) <= STATEMENT_ROWS:
        db.execute(INSERT_ACTIVATIONS, (codec.dumps_text(rows),))
        return
    db.execute("begin")
    try:
        for at in range(0, len(rows), STATEMENT_ROWS):
            db.execute(INSERT_ACTIVATIONS, (codec.dumps_text(rows[at : at + STATEMENT_ROWS]),))
    except BaseException:
        db.execute("rollback")
        raise
    db.execute("commit")


log = logging.getLogger("localwhisk.storage.store")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    db.execute("pragma journal_mode=wal")
    # WAL + NORMAL: a commit survives a crash of this process; only a power loss may
    # drop the last transactions, which is fine for a local server.
    db.execute("pragma synchronous=normal")
    db.execute("pragma wal_autocheckpoint=0")  # writebehind.Checkpointer does it, off commits
    # Whichever connection restarts the log after a full checkpoint cuts it to this size.
    db.execute(f"pragma journal_size_limit={WAL_LIMIT_BYTES}")
    return db


def _row(act: Activation) -> tuple[Any, ...]:
    """The record as a row; never raises: what cannot be stored is replaced in ``act``."""
    try:
        doc = codec.storable_text(vars(act))
    except codec.Unstorable as exc:
        doc = _storable_instead(act, str(exc))
    return (act.activation_id, act.namespace, act.entity_key, act.start, int(act.running), doc)


def _storable_instead(act: Activation, reason: str) -> str:
    """Make ``act`` storable: its result (the part an action controls) becomes the
    developer error the platform gives a bad result; then its logs; then all but its id."""
    log.warning("activation %s cannot be stored as it is: %s", act.activation_id, reason)
    act.status = DEVELOPER_ERROR
    act.result = {"error": UNSTORABLE_RESULT.format(reason=reason)}
    act.size = None
    try:
        return codec.storable_text(vars(act))
    except codec.Unstorable:
        act.logs = [str(line).encode("utf-8", "replace").decode("utf-8") for line in act.logs]
    try:
        return codec.storable_text(vars(act))
    except codec.Unstorable:
        act.annotations, act.logs = [], []
        act.status, act.result = WHISK_ERROR, {"error": UNWRITABLE}
    return codec.storable_text(vars(act))


def _failed_row(row: Row) -> Row:
    """The row to write when ``row`` cannot be: the same activation, failed, little else."""
    activation_id, namespace, entity_key, start = row[0], row[1], row[2], row[3]
    try:
        act = Activation(**codec.loads_stored(row[5]))
        act.logs, act.annotations = [], []
    except Exception:  # the document itself may be what is wrong
        name = str(entity_key).rsplit("/", 1)[-1]
        act = Activation(activation_id, namespace, name, "0.0.1", namespace, start)
        act.entity_key = entity_key
    fail_activation(act, int(time.time() * 1000), UNWRITABLE)
    return _row(act)


def _write_safely(db: sqlite3.Connection, rows: list[Row]) -> None:
    """As the writer thread writes: one bad row costs only itself (see writebehind)."""
    write_isolating(db, rows, _write_rows, _failed_row)


class CodeInDatabase(dict):
    """An action's exec without its code, which stays in the database row of ``origin``."""

    def __init__(self, exec_: dict[str, Any], origin: tuple[str, str]) -> None:
        super().__init__((k, v) for k, v in exec_.items() if k != "code")
        self.origin = origin


def _head(entity: Entity) -> Entity:
    """What stays in memory: the entity, an action's code left out."""
    if isinstance(entity, Action) and not isinstance(entity.exec, CodeInDatabase):
        return replace(entity, exec=CodeInDatabase(entity.exec, (entity.namespace, entity.name)))
    return entity


PAGE_BYTES = 4096  # what an entity write counts as rows toward a checkpoint


class Store:
    def __init__(self, path: Path, wal_limit: int = WAL_LIMIT_BYTES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = _connect(path)
        for statement in SCHEMA:
            self._db.execute(statement)
        self._entities: dict[tuple[str, str], Entity] = {}
        for path_, name, collection, doc in self._db.execute(
            "select path, name, collection, json_remove(doc, '$.exec.code') from entities"
        ):
            entity = ENTITY_TYPES[collection](**codec.loads_stored(doc))
            self._entities[(path_, name)] = _head(entity)
        self._pending: dict[str, Activation] = {}  # deferred, not yet handed to the writer
        self._held: dict[str, Activation] = {}  # put with ``hold``: written only when needed
        self._unwritten: dict[str, tuple[Activation, Row]] = {}  # handed over, not committed
        self._waiters: list[asyncio.Future[None]] = []
        # Waiters of the newest batch with the writer: batches commit in order, so a
        # caller needing everything so far durable can join it instead of queueing one.
        self._last_batch: list[asyncio.Future[None]] | None = None
        self._flush_scheduled = False
        self._checkpointer = Checkpointer(partial(_connect, path), wal_limit)
        self.apis = ApiTable(self._db, self._checkpointer.note)  # the API gateway's
        self.recovered = self._fail_interrupted()
        self._writer = Writer(partial(_connect, path), _write_rows, self._checkpointer, _failed_row)

    def close(self) -> None:
        self._release_held()
        self.flush()
        self._writer.close()
        self._checkpointer.close()
        self._db.close()

    # -- entities ------------------------------------------------------------------

    def get(self, path: str, name: str) -> Entity | None:
        return self._entities.get((path, name))

    def code(self, path: str, name: str) -> str | None:
        """The stored code of action ``path/name`` (None: no such action, or no code)."""
        row = self._db.execute(
            "select json_extract(doc, '$.exec.code') from entities where path = ? and name = ?",
            (path, name),
        ).fetchone()
        return row[0] if row else None

    def with_code(self, action: Action) -> Action:
        """``action`` with its code (read from the database when it is a ``get`` result)."""
        if not isinstance(action.exec, CodeInDatabase):
            return action
        code = self.code(*action.exec.origin)
        return replace(
            action, exec=dict(action.exec) if code is None else {**action.exec, "code": code}
        )

    def put(self, entity: Entity) -> None:
        """Write ``entity``; an action's ``CodeInDatabase`` exec gets its code back first
        (in ``entity`` too: the caller answers with the whole action)."""
        if isinstance(entity, Action) and isinstance(entity.exec, CodeInDatabase):
            entity.exec = self.with_code(entity).exec
        doc = _encode(vars(entity))
        self._db.execute(
            "insert or replace into entities (path, name, collection, doc) values (?, ?, ?, ?)",
            (entity.namespace, entity.name, entity.COLLECTION, doc),
        )
        self._entities[(entity.namespace, entity.name)] = _head(entity)
        # A 40 MB action is 40 MB of log: it counts toward the next checkpoint like rows.
        self._checkpointer.note(1 + len(doc) // PAGE_BYTES)

    def delete(self, path: str, name: str) -> None:
        self._db.execute("delete from entities where path = ? and name = ?", (path, name))
        self._entities.pop((path, name), None)
        self._checkpointer.note(1)

    def entities(self, collection: str, namespace: str, path: str | None = None) -> list[Entity]:
        """Entities of a collection under a root namespace (or exactly at ``path``), newest first."""
        found = [
            e
            for e in self._entities.values()
            if e.COLLECTION == collection
            and (e.namespace == path if path is not None else e.root_namespace == namespace)
        ]
        found.sort(key=lambda e: e.updated, reverse=True)
        return found

    # -- namespace settings --------------------------------------------------------

    def get_log_forwarding(self, namespace: str) -> LogForwarding | None:
        """The namespace's log forwarding as last put, or None (it keeps the default)."""
        row = self._db.execute(
            "select doc from log_forwarding where namespace = ?", (namespace,)
        ).fetchone()
        return LogForwarding(**codec.loads_stored(row[0])) if row else None

    def put_log_forwarding(self, forwarding: LogForwarding) -> None:
        self._db.execute(
            "insert or replace into log_forwarding (namespace, doc) values (?, ?)",
            (forwarding.namespace, _encode(vars(forwarding))),
        )
        self._checkpointer.note(1)

    # -- activations ---------------------------------------------------------------

    def put_activation(self, act: Activation, *, defer: bool = False, hold: bool = False) -> None:
        """Write a record now, or (``defer``) behind, from the end of this event-loop turn.

        ``hold`` keeps a deferred record in memory until it is put again, ``durable()``
        or ``sync()``: for a state no caller has been told about, so a crash may lose it.
        """
        self._held.pop(act.activation_id, None)
        if not defer:
            if act.activation_id in self._unwritten:
                self.sync()  # an older version still queued must not land after this one
            self._pending.pop(act.activation_id, None)
            _write_safely(self._db, [_row(act)])
            self._checkpointer.note(1)
            return
        if hold:
            self._held[act.activation_id] = act
            return
        self._pending[act.activation_id] = act  # the object: its latest state is written
        self._schedule()

    def _release_held(self) -> None:
        if self._held:
            self._pending.update(self._held)
            self._held.clear()

    async def durable(self) -> None:
        """Return once every record put so far is committed."""
        self._release_held()
        if not self._unwritten:
            if not self._pending:
                return
            if len(self._pending) <= INLINE_ROWS:
                # The writer holds nothing: a few rows commit here in tens of
                # microseconds, less than the two thread hand-offs would take. Under
                # load the writer is busy and batches keep going to it.
                self._write_pending()
                return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._pending:
            self._waiters.append(waiter)
            self.flush()
        elif self._last_batch is not None:
            self._last_batch.append(waiter)  # committed with the newest batch
        else:
            # Everything is with the writer already: an empty batch queues behind it.
            self._waiters.append(waiter)
            self._hand_over([])
        await waiter

    def _write_pending(self) -> None:
        rows = [_row(act) for act in self._pending.values()]
        self._pending.clear()
        _write_safely(self._db, rows)
        self._checkpointer.note(len(rows))

    def _schedule(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            self.sync()
            return
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Hand deferred records to the writer thread (one transaction)."""
        self._flush_scheduled = False
        if not self._pending:
            return
        entries = [(act, _row(act)) for act in self._pending.values()]
        self._pending.clear()
        for act, row in entries:
            self._unwritten[act.activation_id] = (act, row)
        self._hand_over(entries)

    def _hand_over(self, entries: list[tuple[Activation, Row]]) -> None:
        waiters, self._waiters = self._waiters, []
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None

        def done() -> None:  # runs on the writer thread
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._committed, entries, waiters)
            else:
                self._committed(entries, waiters)

        self._last_batch = waiters if loop is not None else None
        self._writer.submit([row for _, row in entries], done)

    def _committed(
        self, entries: list[tuple[Activation, Row]], waiters: list[asyncio.Future[None]]
    ) -> None:
        if self._last_batch is waiters:
            self._last_batch = None
        for act, row in entries:
            current = self._unwritten.get(act.activation_id)
            if current is not None and current[1] is row:  # a newer version may be in flight
                del self._unwritten[act.activation_id]
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def sync(self) -> None:
        """Block until everything put so far is committed (lists, counts, shutdown)."""
        self._release_held()
        self.flush()
        if not self._unwritten:
            return
        event = threading.Event()
        self._writer.submit([], event.set)
        event.wait()
        self._unwritten.clear()  # all committed; late callbacks find nothing to remove

    def get_activation(self, activation_id: str) -> Activation | None:
        pending = self._pending.get(activation_id) or self._held.get(activation_id)
        if pending is not None:
            return pending
        unwritten = self._unwritten.get(activation_id)
        if unwritten is not None:
            return unwritten[0]
        row = self._db.execute(
            "select doc from activations where id = ?", (activation_id,)
        ).fetchone()
        return Activation(**codec.loads_stored(row[0])) if row else None

    def put_activations(self, acts: list[Activation]) -> None:
        """Write many finished records now, in one transaction (imports, benchmarks)."""
        self.sync()
        _write_safely(self._db, [_row(act) for act in acts])
        self._checkpointer.note(len(acts))

    def list_plan(self, namespace: str, entity_key: str | None = None) -> str:
        """SQLite's query plan for ``list_activations`` (shows the index it uses)."""
        where, args = self._where(namespace, entity_key, None, None)
        rows = self._db.execute(
            "explain query plan select doc from activations"
            f" where {where} order by start desc limit ? offset ?",
            (*args, 30, 0),
        ).fetchall()
        return "; ".join(str(row[-1]) for row in rows)

    def _where(
        self, namespace: str, entity_key: str | None, since: int | None, upto: int | None
    ) -> tuple[str, list[Any]]:
        clauses, args = ["namespace = ?", "running = 0"], [namespace]
        if entity_key is not None:
            clauses.append("entity_key = ?")
            args.append(entity_key)
        if since is not None:
            clauses.append("start >= ?")
            args.append(since)
        if upto is not None:
            clauses.append("start <= ?")
            args.append(upto)
        return " and ".join(clauses), args

    def list_activations(
        self,
        namespace: str,
        entity_key: str | None = None,
        since: int | None = None,
        upto: int | None = None,
        skip: int = 0,
        limit: int = 30,
    ) -> list[Activation]:
        self.sync()
        where, args = self._where(namespace, entity_key, since, upto)
        rows = self._db.execute(
            f"select doc from activations where {where} order by start desc limit ? offset ?",
            (*args, limit, skip),
        )
        return [Activation(**codec.loads_stored(doc)) for (doc,) in rows]

    def caused_by(self, namespace: str, activation_id: str, limit: int) -> list[Activation]:
        """Finished records of ``namespace`` whose trace names ``activation_id`` as cause."""
        self.sync()
        rows = self._db.execute(
            # By the cause's index: the planner, without statistics, would walk the
            # namespace's whole history by start instead.
            "select doc from activations indexed by activations_by_cause"
            " where json_extract(doc, '$.trace.by') = ?"
            " and namespace = ? and running = 0 order by start limit ?",
            (activation_id, namespace, limit),
        )
        return [Activation(**codec.loads_stored(doc)) for (doc,) in rows]

    def count_activations(
        self,
        namespace: str,
        entity_key: str | None = None,
        since: int | None = None,
        upto: int | None = None,
    ) -> int:
        self.sync()
        where, args = self._where(namespace, entity_key, since, upto)
        return self._db.execute(f"select count(*) from activations where {where}", args).fetchone()[
            0
        ]

    def prune_activations(self, older_than_ms: int) -> int:
        self.sync()
        cursor = self._db.execute(
            "delete from activations where running = 0 and start < ?", (older_than_ms,)
        )
        self._checkpointer.note(cursor.rowcount)
        return cursor.rowcount

    def _fail_interrupted(self) -> int:
        """Activations a previous process left running end as whisk errors, not silence."""
        rows = self._db.execute("select doc from activations where running = 1").fetchall()
        now = int(time.time() * 1000)
        for (doc,) in rows:
            act = Activation(**codec.loads_stored(doc))
            fail_activation(act, now)
            self.put_activation(act)
        return len(rows)


def fail_activation(act: Activation, now_ms: int, message: str = INTERRUPTED) -> None:
    """Turn a running record into a finished whisk internal error."""
    act.running = False
    act.status = WHISK_ERROR
    act.result = {"error": message}
    act.end = max(now_ms, act.start)
