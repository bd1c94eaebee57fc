"""Opening the DuckDB warehouse. DuckDB allows one writer process at a time: writers retry
briefly on a lock (Dagster's `duckdb_writer` pool already serialises our own writers);
readers open read-only."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

LOCK_RETRY_SECONDS = 120.0
# DuckDB's own default is 80 % of the machine's RAM; the nightly's peak (whole process
# tree) must stay well inside the box, so the warehouse gets a fixed budget and spills to
# `<warehouse>.tmp/` beyond it. The dbt profile reads the same variable.
DEFAULT_MEMORY_LIMIT = "7GB"


def duckdb_config() -> dict[str, str]:
    return {"memory_limit": os.environ.get("RSOKO_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)}


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
        except duckdb.IOException as err:  # "Could not set lock on file": another writer
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextmanager
def writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first row of a query, or None. Fetches the whole result: DuckDB 2.0 refuses
    further work on a connection whose previous result was only partly fetched."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
