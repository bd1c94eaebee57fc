"""The file registry: one row per distinct file (by sha256) ever seen in the inbox.

Status: `loaded` (its rows are in the landing table), `superseded` (a corrected file for
the same slice replaced it; its rows were removed, the original stays archived),
`quarantined` (it failed parsing or validation; none of its rows were loaded).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from rsoko_pipelines.ingest.warehouse import first_row

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw._file_registry (
    file_id        VARCHAR PRIMARY KEY,   -- sha256 of the file bytes
    source         VARCHAR NOT NULL,
    academic_year  INTEGER NOT NULL,
    inbox_path     VARCHAR NOT NULL,      -- where it was found (relative to the inbox)
    file_name      VARCHAR NOT NULL,
    size_bytes     BIGINT NOT NULL,
    mtime_ns       BIGINT NOT NULL,
    archive_path   VARCHAR,               -- the unchanged original, for tracing
    slice_key      VARCHAR,               -- canonical JSON of the slice it fills
    rows           BIGINT,
    status         VARCHAR NOT NULL,      -- loaded | superseded | quarantined
    message        VARCHAR,               -- why it was quarantined / parser warnings
    report_path    VARCHAR,
    superseded_by  VARCHAR,
    first_seen_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    loaded_at      TIMESTAMP
);
COMMENT ON TABLE raw._file_registry IS
  'Реестр файлов выгрузок / Registry of every extract file seen: checksum, slice, rows, status';
"""


def ensure_registry(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def file_id_of(path: Path) -> str:
    """sha256 of the file's bytes; for a symbolic link (never followed, see landing), of
    its target path, so the same link is recognised when it is seen again."""
    if path.is_symlink():
        return hashlib.sha256(b"symlink:" + str(path.readlink()).encode()).hexdigest()
    return sha256_of(path)


def slice_key(source: str, academic_year: int, slice_: dict) -> str:
    return json.dumps({"source": source, "academic_year": academic_year, **slice_},
                      ensure_ascii=False, sort_keys=True, default=str)


def is_registered(con: duckdb.DuckDBPyConnection, file_id: str) -> bool:
    """Whether these bytes were seen before, under any name and with any outcome."""
    return first_row(con, "SELECT 1 FROM raw._file_registry WHERE file_id = ?", [file_id]) is not None
