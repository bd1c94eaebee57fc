"""Read-only SQL against a published version (`rsoko sql`).

The connection is read-only and sandboxed: no file access beyond the database itself (so
no ATTACH of the warehouse, no COPY TO, no extension installs) and the setting is locked,
so a query can neither take a write lock nor touch anything but the published copy."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import duckdb

from rsoko_pipelines.publish.versions import published_database

SANDBOX = {"enable_external_access": False, "autoinstall_known_extensions": False,
           "autoload_known_extensions": False, "lock_configuration": True}


def run_query(published_dir: Path, sql: str,
              version: str | None = None) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of the last statement of `sql`. Raises `NothingPublished` or
    `duckdb.Error`."""
    con = duckdb.connect(str(published_database(published_dir, version)), read_only=True,
                         config=SANDBOX)
    try:
        cur = con.execute(sql)
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def plain(value):
    """A JSON-friendly value: dates as ISO text, decimals as numbers, nested types kept."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (timedelta, UUID, bytes)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(x) for x in value]
    return value


def as_json(columns: list[str], rows: list[tuple]) -> str:
    return json.dumps([{c: plain(x) for c, x in zip(columns, row)} for row in rows],
                      ensure_ascii=False, indent=2)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(plain(value), ensure_ascii=False)
    return str(plain(value))


def as_csv(columns: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(x) for x in row] for row in rows)
    return out.getvalue()
