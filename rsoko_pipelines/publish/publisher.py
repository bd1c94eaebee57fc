"""Copy the warehouse's `marts` schema into a new, immutable published version.

Pure Python + DuckDB, no Dagster: the Dagster asset calls :func:`publish_marts` while it
holds the single-writer pool, and an operator can run the same thing by hand. The
warehouse is only attached READ_ONLY.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable

import duckdb

from rsoko_pipelines.ingest.warehouse import first_row
from rsoko_pipelines.publish.dictionary import write_dictionary
from rsoko_pipelines.publish import versions as v
from rsoko_pipelines.settings import REPO_ROOT

YEAR_COLUMN = "academic_year"
# The oldest DuckDB storage format that keeps table and column comments: 'v1.0.0' (format
# 64) is read by every DuckDB from 0.10.1 to 2.x, so BI tools with an older bundled driver
# open the file (the 2.0 default format is refused by DuckDB 1.x). Older targets are
# mapped to it by DuckDB itself ('v0.10.0' also writes 'v1.0.0+'), and DuckDB 0.10.0 and
# 0.9 cannot read column comments (tested: tests/integration/test_publish_old_duckdb.py).
STORAGE_VERSION = "v1.0.0"
READABLE_BY = "DuckDB >= 0.10.1"
# Schemas of the warehouse that are published: the marts, and the reference data (rules,
# scales, the indicator catalogue: the documentation of the formulas) when present.
MARTS, REFERENCE = "marts", "reference"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_checksum(con: duckdb.DuckDBPyConnection, qualified_table: str) -> str:
    """`<rows>:<hex>`: the row count and the sum of per-row hashes over all columns.
    Independent of row order, sensitive to duplicates (a sum, not a xor), equal for two
    tables with the same column order, types and rows — so a copy can be verified.
    DuckDB's hash may change between DuckDB versions: the manifest records the version."""
    n, total = first_row(
        con, f"SELECT count(*), coalesce(sum(hash(*COLUMNS(*))::HUGEINT), 0) "
             f"FROM {qualified_table}")
    return f"{n}:{int(total):x}"


def git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def package_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rsoko")
    except PackageNotFoundError:
        return None


def _json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _relations(con, schema: str) -> list[tuple[str, str | None]]:
    """(name, comment) of every table and view in the warehouse's `schema`."""
    return con.execute(
        "SELECT table_name, comment FROM duckdb_tables() "
        "WHERE database_name = 'wh' AND schema_name = ? "
        "UNION ALL SELECT view_name, comment FROM duckdb_views() "
        "WHERE database_name = 'wh' AND schema_name = ? AND NOT internal "
        "ORDER BY 1", [schema, schema]).fetchall()


def _held_marts(con) -> dict[str, str]:
    """{mart: why}: marts that failed a test tonight (transform.py writes raw._held_marts)."""
    if not first_row(con, "SELECT 1 FROM duckdb_tables() WHERE database_name = 'wh' "
                          "AND schema_name = 'raw' AND table_name = '_held_marts'"):
        return {}
    return dict(con.execute("SELECT mart, reason FROM wh.raw._held_marts").fetchall())


def _copy_schema(con, db: str, schema: str, held: dict[str, str] | None = None,
                 kept: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """CTAS every table and view of the warehouse's `schema` (views become tables: the copy
    must not depend on the warehouse) and re-apply the COMMENTs that CTAS drops. A mart in
    `held` (it failed a test tonight) is copied from the previous published version (attached
    as `prev`) when that has it; `kept` records what was done. Returns {table: [{name, type}]}."""
    relations = _relations(con, schema)
    if schema == MARTS and not relations:  # never replace good marts with an empty publication
        raise ValueError("the warehouse has no tables in schema marts: nothing to publish")
    if not relations:
        return {}
    held, kept = held or {}, kept if kept is not None else {}
    con.execute(f"CREATE SCHEMA {_ident(schema)}")
    columns: dict[str, list[dict]] = {}
    for name, comment in relations:
        target = f"{_ident(db)}.{_ident(schema)}.{_ident(name)}"
        origin = "wh"
        if name in held:
            in_previous = first_row(
                con, "SELECT 1 FROM duckdb_tables() WHERE database_name = 'prev' AND "
                     "schema_name = ? AND table_name = ?", [schema, name]) is not None
            origin = "prev" if in_previous else "wh"
            kept[name] = (f"previous version kept ({held[name]})" if in_previous else
                          f"no previous version: tonight's table published ({held[name]})")
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM "
                    f"{origin}.{_ident(schema)}.{_ident(name)}")
        if comment:
            con.execute(f"COMMENT ON TABLE {target} IS {_lit(comment)}")
        cols = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = ? AND table_name = ? "
            "ORDER BY column_index", [origin, schema, name]).fetchall()
        for col, _type, col_comment in cols:
            if col_comment:
                con.execute(f"COMMENT ON COLUMN {target}.{_ident(col)} IS {_lit(col_comment)}")
        columns[name] = [{"name": c, "type": t} for c, t, _ in cols]
    return columns


def _data_status(con, db: str) -> list[dict]:
    """marts.data_status as published (per source × year: what is in use, what is held
    back and why), for the manifest."""
    if not first_row(con, f"SELECT 1 FROM duckdb_tables() WHERE database_name = "
                          f"{_lit(db)} AND schema_name = 'marts' AND table_name = 'data_status'"):
        return []
    cur = con.execute(f"SELECT * FROM {_ident(db)}.marts.data_status ORDER BY ALL")
    names = [d[0] for d in cur.description]
    return [{k: _json_value(x) for k, x in zip(names, row)} for row in cur.fetchall()]


# Registry columns that only describe files that were not loaded.
NOT_FOR_LOADED = {"status", "message", "report_path", "superseded_by", "released",
                  "resolved_at", "resolution"}


def _source_files(con) -> list[dict]:
    """Every file the marts are built from (released in `raw._file_registry`) with all its
    columns (whatever they are by now), so an analyst can name the exact files behind a
    publication."""
    if not first_row(con, "SELECT 1 FROM duckdb_tables() WHERE database_name = 'wh' "
                          "AND schema_name = 'raw' AND table_name = '_file_registry'"):
        return []
    released = first_row(con, "SELECT 1 FROM duckdb_columns() WHERE database_name = 'wh' AND "
                              "table_name = '_file_registry' AND column_name = 'released'")
    where = ("released AND status <> 'quarantined'" if released else "status = 'loaded'")
    cur = con.execute(f"SELECT * FROM wh.raw._file_registry WHERE {where}")
    names = [d[0] for d in cur.description]
    files = [{k: _json_value(x) for k, x in zip(names, row) if k not in NOT_FOR_LOADED}
             for row in cur.fetchall()]
    return sorted(files, key=lambda f: tuple(str(f.get(k)) for k in (
        "source", "academic_year", "inbox_path", "file_name", "file_id")))


PUBLICATION_COLUMNS = {  # marts._publication: every column described, like the marts
    "version": ("VARCHAR", "Версия публикации / Published version (UTC time: 20261123T020512Z)"),
    "published_at": ("TIMESTAMP", "Время публикации, UTC / Publication time, UTC"),
    "git_commit": ("VARCHAR", "Коммит кода платформы / Code commit of the platform (git)"),
    "rsoko_version": ("VARCHAR", "Версия пакета rsoko / rsoko package version"),
    "source_files": ("INTEGER", "Число загруженных файлов выгрузок (список: manifest.json) / "
                                "Loaded extract files behind this version (see manifest.json)"),
}


def _write_publication(con, db: str, info: dict) -> None:
    target = f"{_ident(db)}.marts._publication"
    con.execute(f"CREATE TABLE {target} (" + ", ".join(
        f"{name} {type_}" for name, (type_, _) in PUBLICATION_COLUMNS.items()) + ")")
    con.execute(f"INSERT INTO {target} VALUES (?, ?, ?, ?, ?)", [
        info["version"], info["published_at_dt"], info["git_commit"], info["rsoko_version"],
        info["source_files"]])
    con.execute(f"COMMENT ON TABLE {target} IS 'Сведения о публикации / This publication: "
                "one row; the loaded source files are listed in manifest.json of the version'")
    for name, (_, comment) in PUBLICATION_COLUMNS.items():
        con.execute(f"COMMENT ON COLUMN {target}.{name} IS {_lit(comment)}")


def _descriptions(con, db: str, schema: str, name: str) -> dict[str, str]:
    """Key-value metadata of a table's Parquet files: its description and a JSON object of
    its column descriptions (the same texts as the COMMENTs of the database)."""
    table = first_row(con, "SELECT comment FROM duckdb_tables() WHERE database_name = ? "
                           "AND schema_name = ? AND table_name = ?", [db, schema, name])
    cols = con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE "
                       "database_name = ? AND schema_name = ? AND table_name = ? "
                       "ORDER BY column_index", [db, schema, name]).fetchall()
    return {"table": f"{schema}.{name}", "description": (table[0] if table else None) or "",
            "column_descriptions": json.dumps({c: d for c, d in cols if d},
                                              ensure_ascii=False)}


def _copy_parquet(con, query: str, path: Path, metadata: dict[str, str]) -> None:
    kv = ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in metadata.items())
    con.execute(f"COPY ({query}) TO {_lit(str(path))} "
                f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv}}})")


def _export_parquet(con, db: str, columns: dict[str, list[dict]], root: Path,
                    schema: str = MARTS) -> None:
    """One file per academic year, `parquet/<table>/<table>_<year>.parquet`, where the table
    has an academic_year column and rows; otherwise `parquet/<table>/<table>.parquet`
    (reference tables: `parquet/reference/<table>.parquet`). Not a hive layout
    (`academic_year=2025/`): there the year lives only in the folder name and readers make it
    a trailing BIGINT (DuckDB) or a dictionary (pyarrow); here every file keeps academic_year
    as the INTEGER column it is in the database, in its place, with any reader's defaults,
    and DuckDB still skips the other years' files by their statistics.
    Every file carries the table and column descriptions in its key-value metadata."""
    for name, cols in columns.items():
        folder = root / v.PARQUET / (REFERENCE if schema == REFERENCE else name)
        folder.mkdir(parents=True, exist_ok=True)
        source = f"{_ident(db)}.{_ident(schema)}.{_ident(name)}"
        metadata = _descriptions(con, db, schema, name)
        years = []  # reference tables are small: one file each
        if schema == MARTS and any(c["name"] == YEAR_COLUMN for c in cols):
            years = [r[0] for r in con.execute(
                f"SELECT DISTINCT {YEAR_COLUMN} FROM {source} ORDER BY 1").fetchall()]
        if not years:
            _copy_parquet(con, f"FROM {source}", folder / f"{name}.parquet", metadata)
        for year in years:
            where = f"{YEAR_COLUMN} IS NULL" if year is None else f"{YEAR_COLUMN} = {int(year)}"
            _copy_parquet(con, f"FROM {source} WHERE {where}",
                          folder / f"{name}_{'no_year' if year is None else int(year)}.parquet",
                          metadata)


def _file_digest(path: Path) -> dict:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def _build(warehouse_path: Path, root: Path, version: str, now: datetime,
           previous: Path | None = None) -> dict:
    """Write the database and the Parquet files into `root`; return the manifest.
    `previous`: the database of the current version (for the marts held back tonight)."""
    info = {"version": version, "published_at_dt": now.replace(tzinfo=None),
            "git_commit": git_commit(), "rsoko_version": package_version(),
            "storage_version": STORAGE_VERSION, "readable_by": READABLE_BY}
    con = duckdb.connect(str(root / v.DB_FILE),
                         config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        db = first_row(con, "SELECT current_database()")[0]
        con.execute(f"ATTACH {_lit(str(warehouse_path))} AS wh (READ_ONLY)")
        held, kept = _held_marts(con), {}
        if held and previous is not None and previous.is_file():
            con.execute(f"ATTACH {_lit(str(previous))} AS prev (READ_ONLY)")
        columns = _copy_schema(con, db, MARTS, held, kept)
        reference = _copy_schema(con, db, REFERENCE)
        if held and previous is not None and previous.is_file():
            con.execute("DETACH prev")
        source_files = _source_files(con)
        con.execute("DETACH wh")
        info["source_files"] = len(source_files)
        _write_publication(con, db, info)
        tables = {}
        for name, cols in columns.items():
            checksum = table_checksum(con, f"{_ident(db)}.marts.{_ident(name)}")
            tables[name] = {"rows": int(checksum.split(":")[0]), "checksum": checksum,
                            "columns": cols}
        data_status = _data_status(con, db)
        reference_tables = {}
        for name, cols in reference.items():
            checksum = table_checksum(con, f"{_ident(db)}.{REFERENCE}.{_ident(name)}")
            reference_tables[name] = {"rows": int(checksum.split(":")[0]),
                                      "checksum": checksum, "columns": cols}
        _export_parquet(con, db, columns, root)
        _export_parquet(con, db, reference, root, schema=REFERENCE)
        write_dictionary(con, db, root / v.DICTIONARY, info)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    parquet = {p.relative_to(root).as_posix(): _file_digest(p)
               for p in sorted((root / v.PARQUET).rglob("*.parquet"))}
    return {
        "version": version,
        "published_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": info["git_commit"],
        "rsoko_version": info["rsoko_version"],
        "duckdb_version": duckdb.__version__,
        "database": v.DB_FILE,
        "storage_version": STORAGE_VERSION,
        "readable_by": READABLE_BY,
        "dictionary": v.DICTIONARY,
        "warehouse": str(warehouse_path),
        "tables": tables,
        "reference_tables": reference_tables,
        "parquet_files": parquet,
        "source_files": source_files,
        "data_status": data_status,
        "marts_kept_from_previous": kept,
    }


def _freeze(root: Path) -> None:
    """Files of a version never change once published: make them read-only on disk."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o444)


def publish_marts(warehouse_path: Path, published_dir: Path, keep: int = 7, *,
                  now: datetime | None = None, log: Callable[[str], None] = print) -> dict:
    """Publish the warehouse's `marts` schema as a new version, make it current, prune to
    the newest `keep` versions and return its manifest (see `versions.py` for the layout
    and why each step is crash-safe)."""
    warehouse_path, published_dir = Path(warehouse_path), Path(published_dir)
    if not warehouse_path.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse_path}: nothing to publish")
    now = (now or datetime.now(timezone.utc))
    now = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    now = now.replace(microsecond=0)  # the same instant in the name, manifest and table
    root = v.versions_dir(published_dir)
    root.mkdir(parents=True, exist_ok=True)
    with v.publish_lock(published_dir):
        v.remove_stale(published_dir, log)
        version = v.new_version_name(published_dir, now)
        tmp = root / f"{v.TMP_PREFIX}{version}"
        tmp.mkdir()
        try:
            previous = v.current_version(published_dir)
            previous_db = root / previous / v.DB_FILE if previous else None
            manifest = _build(warehouse_path, tmp, version, now, previous_db)
            (tmp / v.MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            _freeze(tmp)
            v.fsync_tree(tmp)
        except BaseException:  # warehouse locked by a load, no marts, …: leave no debris
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        os.rename(tmp, root / version)
        v.fsync_dir(root)
        v.activate(published_dir, version)
        v.prune(published_dir, keep, log)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    log(f"published version {version}: {len(manifest['tables'])} tables, {rows:,} rows, "
        f"{len(manifest['parquet_files'])} Parquet files, {len(manifest['source_files'])} "
        f"source files → {published_dir / v.DB_FILE}")
    return manifest
