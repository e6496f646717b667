"""The API gateway's APIs in SQLite: one row per (namespace, base path), kept in memory too.

APIs are few and read on every gateway request, so reads come from memory and
writes go through at once, as entities do (``store``). The connection is the
store's; this module only owns the table and its statements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from localwhisk import codec
from localwhisk.models import GatewayApi

SCHEMA = """create table if not exists apis (
    namespace text not null, base_path text not null, doc text not null,
    primary key (namespace, base_path)) without rowid"""


class ApiTable:
    def __init__(self, db: sqlite3.Connection, note: Callable[[int], None]) -> None:
        self._db = db
        self._note = note  # counts writes toward the next WAL checkpoint
        db.execute(SCHEMA)
        self._apis: dict[str, dict[str, GatewayApi]] = {}
        for (doc,) in db.execute("select doc from apis"):
            api = GatewayApi(**codec.loads_stored(doc))
            self._apis.setdefault(api.namespace, {})[api.base_path] = api

    def of(self, namespace: str) -> list[GatewayApi]:
        """The namespace's APIs, oldest base path first (the order they were created)."""
        return list(self._apis.get(namespace, {}).values())

    def get(self, namespace: str, base_path: str) -> GatewayApi | None:
        return self._apis.get(namespace, {}).get(base_path)

    def put(self, api: GatewayApi) -> None:
        self._db.execute(
            "insert or replace into apis (namespace, base_path, doc) values (?, ?, ?)",
            (api.namespace, api.base_path, codec.storable_text(vars(api))),
        )
        self._apis.setdefault(api.namespace, {})[api.base_path] = api
        self._note(1)

    def delete(self, namespace: str, base_path: str) -> None:
        self._db.execute(
            "delete from apis where namespace = ? and base_path = ?", (namespace, base_path)
        )
        self._apis.get(namespace, {}).pop(base_path, None)
        self._note(1)
