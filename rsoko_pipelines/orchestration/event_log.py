"""The local Dagster event log (SQLite) with its connections kept open.

Dagster's `SqliteEventLogStorage` creates an engine and opens a connection for every event it
stores and closes them after (`NullPool`). In WAL mode, closing the last connection to a
database checkpoints the WAL and removes it, with fsyncs: about four connections per event.
A night stores about 2,000 events (every dbt test is an asset check result: an output event
and an evaluation event), and that cost about 20 s of an incremental night at tier S.

This storage keeps one engine, with one open connection, per database file ("shard": the
index and each run) and process, for the few most recently used shards, so SQLite checkpoints
on its own schedule. Everything else is Dagster's: the schema, the locking (`_db_lock`), the
watchers of the UI. `rsoko nightly` writes it into a new local `dagster.yaml`
(night/command.py); production uses PostgreSQL (deploy/dagster.yaml), where none of this
applies.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

ENGINES_KEPT = 8     # the index, tonight's run and a few the UI looks at


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose engines (one open connection each) outlive an event."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, object] = OrderedDict()   # before Dagster's init:
        self._engines_pid = os.getpid()                          # it connects already
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str):
        if self._engines_pid != os.getpid():   # a forked process: never share a connection
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.get(shard)
        if engine is None:
            # one connection stays open; overflow ones (Dagster's schema check opens a second
            # while the first is open) are closed when returned
            engine = create_engine(self.conn_string_for_shard(shard), poolclass=QueuePool,
                                   pool_size=1, max_overflow=4,
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            while len(self._engines) > ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
        self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator:
        with self._db_lock:
            with self._engine(shard).connect() as conn:
                with conn.begin():
                    yield conn

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()
