"""The file registry: one row per distinct file (by sha256) ever seen in the inbox, and the
release state that decides which landed rows the models read.

Status of a file:
- `loaded`: its rows are in the landing table; it is the newest version of its slice;
- `superseded`: a corrected file for the same slice (same source, year and slice fields)
  replaced it; its rows stay in the landing table until the replacement is released, then
  they are removed (the original stays archived);
- `quarantined`: it failed parsing or validation; none of its rows were loaded.

`released` says whether the models read the file's rows. A newly landed file is not released
until the night's release step (rsoko_pipelines.ingest.release) lets its source × year
through; until then the models keep reading the previous version of the slice — the last
good data. `released_at` is when a file's release was committed (NULL while it is only a
candidate of the running night). `build_slice` is the unit the models rebuild when the
file's release changes (rsoko_pipelines.ingest.release.build_slice_id).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb


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

# Columns added after the first release of the registry (existing warehouses get them with
# ALTER TABLE; a file registered before had its rows read by the models: released).
RELEASE_COLUMNS = (
    ("released", "BOOLEAN DEFAULT true",
     "Читают ли модели строки файла / Whether the models read the file's rows"),
    ("released_at", "TIMESTAMP",
     "Когда выпуск файла подтверждён / When the file's release was committed"),
    ("build_slice", "VARCHAR",
     "Единица перестроения моделей (источник|год|…) / Unit the models rebuild (source|year|…)"),
    ("resolved_at", "TIMESTAMP",
     "Карантин: когда проблема снята (исправленный файл или решение оператора) / "
     "Quarantine: when the problem was resolved (a corrected file or an operator's decision)"),
    ("resolution", "VARCHAR",
     "Карантин: чем снята проблема / Quarantine: how the problem was resolved"),
)

STATE_DDL = """
CREATE TABLE IF NOT EXISTS raw._build_scope (
    build_slice VARCHAR PRIMARY KEY,
    reason      VARCHAR,
    added_at    TIMESTAMP DEFAULT current_timestamp
);
COMMENT ON TABLE raw._build_scope IS
  'Срезы, которые модели должны перестроить / Build slices the models must rebuild (''*'' = all)';
CREATE TABLE IF NOT EXISTS raw._slice_status (
    source         VARCHAR NOT NULL,
    academic_year  INTEGER NOT NULL,
    state          VARCHAR NOT NULL,   -- current | held_back
    reason         VARCHAR,
    held_since     TIMESTAMP,
    checked_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, academic_year)
);
CREATE TABLE IF NOT EXISTS raw._build_state (
    key VARCHAR PRIMARY KEY, value VARCHAR, updated_at TIMESTAMP DEFAULT current_timestamp
);
COMMENT ON TABLE raw._build_state IS
  'Что модели построены из (отпечаток проекта dbt) / What the models were built from (dbt project fingerprint)';
CREATE TABLE IF NOT EXISTS raw._held_marts (
    mart VARCHAR PRIMARY KEY, reason VARCHAR, held_at TIMESTAMP DEFAULT current_timestamp
);
COMMENT ON TABLE raw._held_marts IS
  'Витрины, не прошедшие тесты этой ночью: публикуется их прежняя версия / Marts that failed a test tonight: their previous published version is kept';
COMMENT ON TABLE raw._slice_status IS
  'Состояние источника × года: текущие данные или задержаны (и почему) / '
  'State of each source × year: current, or held back (and why)';
"""


def ensure_registry(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    existing = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' "
        "AND table_name = '_file_registry'").fetchall()}
    for name, type_, doc in RELEASE_COLUMNS:
        if name not in existing:
            con.execute(f"ALTER TABLE raw._file_registry ADD COLUMN {name} {type_}")
            quoted = doc.replace("'", "''")
            con.execute(f"COMMENT ON COLUMN raw._file_registry.{name} IS '{quoted}'")
            if name == "released":   # rows of superseded files were deleted at once before
                con.execute("UPDATE raw._file_registry SET released = (status = 'loaded')")
    con.execute(STATE_DDL)


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
