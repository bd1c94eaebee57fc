"""Publishing the marts (rsoko_pipelines.publish.publisher): a faithful, atomic, pruned copy.

The warehouse here is hand-made (two small marts with comments and the real file
registry DDL), so every test runs in well under a second."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from rsoko_pipelines.ingest import registry

T0 = dt.datetime(2021, 11, 23, 2, 5, 12, tzinfo=dt.timezone.utc)

LOADED = [
    # file_id, source, year, inbox_path, rows
    ("a" * 64, "ege", 2024, "ege/2024/ege_01.csv", 120),
    ("b" * 64, "ege", 2025, "ege/2025/ege_01.csv", 130),
    ("c" * 64, "schools", 2025, "schools/2025/schools.csv", 4),
]


def build_warehouse(path: Path, indicator_rows: int = 6) -> Path:
    """A warehouse with marts.indicators (partitioned by academic_year), marts.school_context,
    a commented view, a raw file registry with loaded, superseded and quarantined files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        registry.ensure_registry(con)
        con.execute("""
        CREATE SCHEMA marts;
        CREATE TABLE marts.indicators (indicator_code VARCHAR, academic_year INTEGER,
            level VARCHAR, value DOUBLE, meets_target BOOLEAN);
        COMMENT ON TABLE marts.indicators IS 'Показатели / the regional scorecard';
        COMMENT ON COLUMN marts.indicators.value IS 'Значение / value';
        COMMENT ON COLUMN marts.indicators.academic_year IS 'Учебный год (2025 = 2024/25)';
        CREATE TABLE marts.school_context (school_code VARCHAR, social_index DOUBLE);
        COMMENT ON TABLE marts.school_context IS 'It''s the context';
        INSERT INTO marts.school_context VALUES ('070101', -1.25), ('070102', NULL),
                                                ('070102', NULL);
        CREATE VIEW marts.region_indicators AS
            SELECT * FROM marts.indicators WHERE level = 'region';
        COMMENT ON VIEW marts.region_indicators IS 'Region rows only';
        CREATE SCHEMA core;
        CREATE TABLE core.secret (participant_key VARCHAR);
        CREATE SCHEMA reference;
        CREATE TABLE reference.indicator_catalogue AS SELECT * FROM (VALUES
            ('EGE_FAIL_PCT', 'Доля результатов ЕГЭ ниже минимального балла', 1, 2.0))
            t(indicator_code, name_ru, direction, target);
        COMMENT ON TABLE reference.indicator_catalogue IS 'Каталог показателей / catalogue';
        COMMENT ON COLUMN reference.indicator_catalogue.name_ru IS 'Название / name';
        """)
        con.execute("INSERT INTO marts.indicators SELECT 'EGE_FAIL_PCT', 2023 + i % 3, "
                    "CASE WHEN i % 2 = 0 THEN 'region' ELSE 'school' END, i * 1.5, i % 2 = 0 "
                    "FROM range(?) t(i)", [indicator_rows])
        for file_id, source, year, rel, rows in LOADED:
            con.execute(
                "INSERT INTO raw._file_registry (file_id, source, academic_year, inbox_path, "
                "file_name, size_bytes, mtime_ns, archive_path, slice_key, rows, status, "
                "loaded_at) VALUES (?, ?, ?, ?, ?, 1000, 1, ?, '{}', ?, 'loaded', ?)",
                [file_id, source, year, rel, Path(rel).name, "archive/" + rel, rows,
                 dt.datetime(2026, 11, 22, 2, 0)])
        # not behind the marts: a superseded file whose correction is released (committed),
        # a quarantined file, and a landed file that the release step has not let through
        # (its source × year is held back: the models do not read it)
        con.execute(
            "INSERT INTO raw._file_registry (file_id, source, academic_year, inbox_path, "
            "file_name, size_bytes, mtime_ns, rows, status, released) VALUES "
            "('d', 'ege', 2025, 'ege/2025/old.csv', 'old.csv', 1, 1, 5, 'superseded', false), "
            "('e', 'oge', 2025, 'oge/2025/bad.csv', 'bad.csv', 1, 1, 0, 'quarantined', false), "
            "('f', 'oge', 2025, 'oge/2025/held.csv', 'held.csv', 1, 1, 7, 'loaded', false)")
    finally:
        con.close()
    return path


# ---------------------------------------------------------------------------- helpers

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from rsoko_pipelines.publish import versions as v  # noqa: E402
from rsoko_pipelines.publish.publisher import publish_marts, table_checksum  # noqa: E402
from rsoko_pipelines.settings import REPO_ROOT  # noqa: E402

MARTS = ("indicators", "region_indicators", "school_context")


def quiet(_msg: str) -> None:
    pass


@pytest.fixture()
def warehouse(tmp_path) -> Path:
    return build_warehouse(tmp_path / "warehouse" / "rsoko.duckdb")


@pytest.fixture()
def published(tmp_path) -> Path:
    return tmp_path / "published"


def publish(warehouse, published, at=T0, keep=7):
    return publish_marts(warehouse, published, keep=keep, now=at, log=quiet)


def assert_complete(published: Path) -> dict:
    """`current` is a finished version: manifest present, database opens, checksums agree."""
    manifest = v.current_manifest(published)
    assert manifest is not None
    con = duckdb.connect(str(v.published_database(published)), read_only=True)
    try:
        for name, table in manifest["tables"].items():
            assert table_checksum(con, f"marts.{name}") == table["checksum"]
    finally:
        con.close()
    return manifest


# ------------------------------------------------------------------------------ tests

def test_published_database_is_a_faithful_copy(warehouse, published):
    manifest = publish(warehouse, published)
    assert manifest["version"] == "20211123T020512Z"
    wh = duckdb.connect(str(warehouse), read_only=True)
    pub = duckdb.connect(str(published / v.DB_FILE), read_only=True)  # the stable path
    try:
        assert sorted(manifest["tables"]) == list(MARTS)
        for name in MARTS:
            expected = table_checksum(wh, f"marts.{name}")
            assert table_checksum(pub, f"marts.{name}") == expected
            assert manifest["tables"][name]["checksum"] == expected
        assert manifest["tables"]["indicators"]["rows"] == 6
        assert manifest["tables"]["school_context"]["rows"] == 3  # duplicates kept
        comments = dict(pub.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'"
        ).fetchall())
        assert comments["indicators"] == "Показатели / the regional scorecard"
        assert comments["school_context"] == "It's the context"
        assert comments["region_indicators"] == "Region rows only"  # the view became a table
        undocumented = pub.execute("SELECT table_name, column_name FROM duckdb_columns() "
                                   "WHERE schema_name = 'marts' AND table_name = '_publication' "
                                   "AND comment IS NULL").fetchall()
        assert undocumented == []
        columns = dict(pub.execute(
            "SELECT column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'marts' AND table_name = 'indicators'").fetchall())
        assert columns["value"] == "Значение / value"
        assert columns["academic_year"] == "Учебный год (2025 = 2024/25)"
        types = pub.execute("SELECT data_type FROM duckdb_columns() WHERE schema_name = 'marts' "
                            "AND table_name = 'indicators' ORDER BY column_index").fetchall()
        assert [t for (t,) in types] == ["VARCHAR", "INTEGER", "VARCHAR", "DOUBLE", "BOOLEAN"]
        # nothing but the marts and the reference data: no core, no raw, no participant keys
        assert pub.execute("SELECT DISTINCT schema_name FROM duckdb_tables() ORDER BY 1"
                           ).fetchall() == [("marts",), ("reference",)]
        assert pub.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = "
                           "'reference' AND column_name = 'name_ru'").fetchall() == [
            ("Название / name",)]
        assert manifest["reference_tables"]["indicator_catalogue"]["rows"] == 1
        assert table_checksum(pub, "reference.indicator_catalogue") == table_checksum(
            wh, "reference.indicator_catalogue")
        # the oldest storage format that keeps the comments (readable by DuckDB >= 0.10.1)
        assert pub.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchone() == ("v1.0.0+",)
        assert (manifest["storage_version"], manifest["readable_by"]) == (
            "v1.0.0", "DuckDB >= 0.10.1")
        version, at, commit, _pkg, files = pub.execute(
            "SELECT * FROM marts._publication").fetchall()[0]
        assert (version, at, files) == ("20211123T020512Z", dt.datetime(2021, 11, 23, 2, 5, 12), 3)
        assert commit == manifest["git_commit"]
    finally:
        wh.close()
        pub.close()
    db_file = published / "versions" / manifest["version"] / v.DB_FILE
    assert oct(db_file.stat().st_mode & 0o777) == "0o444"
    assert not list(db_file.parent.glob("*.wal"))


def test_parquet_one_file_per_year_typed_and_described_like_the_tables(warehouse, published):
    manifest = publish(warehouse, published)
    root = published / "versions" / manifest["version"]
    assert sorted(p.name for p in (root / "parquet" / "indicators").iterdir()) == [
        "indicators_2023.parquet", "indicators_2024.parquet", "indicators_2025.parquet"]
    assert (root / "parquet" / "school_context" / "school_context.parquet").is_file()
    assert (root / "parquet" / "reference" / "indicator_catalogue.parquet").is_file()
    con = duckdb.connect(str(root / v.DB_FILE), read_only=True)
    try:
        # the read pattern of docs/analysts.md, with DuckDB's defaults: same columns, same
        # order, same types (academic_year INTEGER in its place), same rows
        for name in ("indicators", "school_context"):
            con.execute(f"CREATE TEMP VIEW pq_{name} AS SELECT * FROM read_parquet("
                        f"'{published}/parquet/{name}/*.parquet')")
            assert table_checksum(con, f"pq_{name}") == manifest["tables"][name]["checksum"]
        described = con.execute("DESCRIBE pq_indicators").fetchall()
        assert [(c[0], c[1]) for c in described][:2] == [("indicator_code", "VARCHAR"),
                                                          ("academic_year", "INTEGER")]
        per_year = con.execute(f"SELECT count(*) FROM read_parquet('{root}/parquet/indicators/"
                               "indicators_2025.parquet')").fetchall()
        assert per_year == [(2,)]
        kv = dict(con.execute(
            "SELECT decode(key), decode(value) FROM parquet_kv_metadata("
            f"'{root}/parquet/indicators/indicators_2024.parquet')").fetchall())
        assert kv["table"] == "marts.indicators"
        assert kv["description"] == "Показатели / the regional scorecard"
        assert json.loads(kv["column_descriptions"]) == {
            "academic_year": "Учебный год (2025 = 2024/25)", "value": "Значение / value"}
    finally:
        con.close()
    import pyarrow.parquet as pq

    # pyarrow (pandas, polars) with its defaults: academic_year int32, in its place
    table = pq.read_table(root / "parquet" / "indicators")
    assert table.schema.names == ["indicator_code", "academic_year", "level", "value",
                                  "meets_target"]
    assert str(table.schema.field("academic_year").type) == "int32" and table.num_rows == 6
    assert table.schema.metadata[b"description"].decode() == "Показатели / the regional scorecard"
    files = sorted(p.relative_to(root).as_posix() for p in (root / "parquet").rglob("*.parquet"))
    assert sorted(manifest["parquet_files"]) == files
    import hashlib

    for rel, info in manifest["parquet_files"].items():
        data = (root / rel).read_bytes()
        assert info == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_manifest_names_the_loaded_source_files(warehouse, published):
    manifest = publish(warehouse, published)
    on_disk = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest == v.current_manifest(published)
    assert manifest["published_at"] == "2021-11-23T02:05:12Z"
    assert manifest["rsoko_version"] == "0.1.0"
    assert manifest["git_commit"] is None or len(manifest["git_commit"]) == 40
    files = manifest["source_files"]
    assert [(f["source"], f["academic_year"], f["inbox_path"]) for f in files] == [
        (s, y, p) for _id, s, y, p, _rows in LOADED]  # superseded, quarantined, unreleased left out
    first = files[0]
    assert first["file_id"] == "a" * 64 and first["rows"] == 120
    assert first["loaded_at"] == "2026-11-22T02:00:00"
    assert first["archive_path"] == "archive/ege/2024/ege_01.csv"
    assert manifest["tables"]["indicators"]["columns"][1] == {"name": "academic_year",
                                                            "type": "INTEGER"}


def test_held_mart_keeps_its_previous_version_and_data_status_reaches_the_manifest(
        warehouse, published):
    """A mart that failed a test tonight (transform.py writes raw._held_marts) is copied from
    the current published version, the others from tonight's warehouse; the manifest says
    which and why, and carries marts.data_status row by row."""
    first = publish(warehouse, published)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("DELETE FROM marts.school_context")
        con.execute("INSERT INTO marts.school_context VALUES ('070999', 9.5)")
        con.execute("UPDATE marts.indicators SET value = value + 100")
        con.execute("INSERT INTO raw._held_marts (mart, reason) VALUES "
                    "('school_context', 'school_context: social_index within [-5, 5] — 1 row')")
        con.execute("""
            CREATE TABLE marts.data_status (source VARCHAR, academic_year INTEGER,
                is_held_back BOOLEAN, held_back_reason VARCHAR);
            INSERT INTO marts.data_status VALUES ('ege', 2025, false, NULL),
                ('oge', 2025, true, 'файл в карантине / file quarantined: bad.csv');""")
    finally:
        con.close()
    second = publish(warehouse, published, at=T0 + dt.timedelta(seconds=1))
    assert second["version"] != first["version"]
    assert second["marts_kept_from_previous"] == {
        "school_context": "previous version kept (school_context: social_index within "
                          "[-5, 5] — 1 row)"}
    assert second["tables"]["school_context"]["checksum"] == \
        first["tables"]["school_context"]["checksum"]
    assert second["tables"]["indicators"]["checksum"] != first["tables"]["indicators"]["checksum"]
    assert second["data_status"] == [
        {"source": "ege", "academic_year": 2025, "is_held_back": False,
         "held_back_reason": None},
        {"source": "oge", "academic_year": 2025, "is_held_back": True,
         "held_back_reason": "файл в карантине / file quarantined: bad.csv"}]
    pub = duckdb.connect(str(v.published_database(published)), read_only=True)
    try:
        assert pub.execute("SELECT * FROM marts.school_context ORDER BY ALL").fetchall() == [
            ("070101", -1.25), ("070102", None), ("070102", None)]
        assert pub.execute("SELECT min(value) FROM marts.indicators").fetchone()[0] == 100.0
    finally:
        pub.close()
    assert first["marts_kept_from_previous"] == {} and first["data_status"] == []


def test_swap_is_atomic_and_old_readers_keep_reading(warehouse, published):
    first = publish(warehouse, published, keep=1)
    analyst = duckdb.connect(str(published / v.DB_FILE), read_only=True)  # opened on v1
    try:
        assert analyst.execute("SELECT count(*) FROM marts.indicators").fetchall() == [(6,)]
        build_warehouse(warehouse.with_name("other.duckdb"), indicator_rows=9)
        os.replace(warehouse.with_name("other.duckdb"), warehouse)
        second = publish(warehouse, published, at=T0 + dt.timedelta(days=1), keep=1)
        assert os.readlink(published / "current") == f"versions/{second['version']}"
        assert os.readlink(published / v.DB_FILE) == f"current/{v.DB_FILE}"
        assert not (published / "versions" / first["version"]).exists()  # pruned (keep=1)
        # the analyst's connection still reads the version it opened, even after pruning
        assert analyst.execute("SELECT count(*) FROM marts.indicators").fetchall() == [(6,)]
        assert analyst.execute("SELECT version FROM marts._publication").fetchall() == [
            (first["version"],)]
    finally:
        analyst.close()
    fresh = duckdb.connect(str(v.published_database(published)), read_only=True)
    try:
        assert fresh.execute("SELECT count(*) FROM marts.indicators").fetchall() == [(9,)]
    finally:
        fresh.close()


def test_keep_prunes_old_versions_but_never_current(warehouse, published):
    names = [publish(warehouse, published, at=T0 + dt.timedelta(hours=h), keep=3)["version"]
             for h in range(5)]
    assert v.version_names(published) == names[-3:]
    listed = v.list_versions(published)
    assert [x["version"] for x in listed] == names[-3:][::-1]
    assert [x["current"] for x in listed] == [True, False, False]
    assert listed[0]["tables"] == 3 and listed[0]["rows"] == 12 and listed[0]["source_files"] == 3
    # an operator points `current` back at an older version: pruning must not delete it
    v.activate(published, names[2])
    publish(warehouse, published, at=T0 + dt.timedelta(hours=9), keep=1)
    assert names[2] not in v.version_names(published)  # no longer current when pruned
    v.activate(published, v.version_names(published)[-1])
    assert v.prune(published, 0, quiet) == []  # keep < 1 still keeps the current one


def test_same_second_gets_a_suffix(warehouse, published):
    a = publish(warehouse, published)["version"]
    b = publish(warehouse, published)["version"]
    c = publish(warehouse, published)["version"]
    assert (a, b, c) == ("20211123T020512Z", "20211123T020512Z-2", "20211123T020512Z-3")
    assert v.current_version(published) == c


def test_stale_tmp_dirs_are_removed_by_the_next_publish(warehouse, published):
    publish(warehouse, published)
    stale = published / "versions" / ".tmp-20211101T000000Z"
    (stale / "parquet").mkdir(parents=True)
    (stale / v.DB_FILE).write_bytes(b"half written")
    os.chmod(stale / v.DB_FILE, 0o444)
    (published / ".current.swap-999").symlink_to("versions/nowhere")
    publish(warehouse, published, at=T0 + dt.timedelta(hours=1))
    assert not stale.exists()
    assert not (published / ".current.swap-999").is_symlink()
    assert_complete(published)


def test_failed_publish_leaves_current_and_no_debris(warehouse, published, tmp_path):
    """A load holding the warehouse's write lock: the publish fails, nothing changes."""
    before = publish(warehouse, published)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(60)", str(warehouse)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(duckdb.Error, match="lock"):
            publish(warehouse, published, at=T0 + dt.timedelta(hours=1))
    finally:
        holder.kill()
        holder.wait()
    assert v.current_version(published) == before["version"]
    assert [p.name for p in (published / "versions").iterdir()] == [before["version"]]


CRASHER = """
import datetime as dt, sys, time
from pathlib import Path
from rsoko_pipelines.publish.publisher import publish_marts
print("ready", flush=True)
for i in range(1000):
    publish_marts(Path(sys.argv[1]), Path(sys.argv[2]), keep=2, log=lambda m: None,
                  now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i))
"""


@pytest.mark.parametrize("delay", [0.05, 0.13, 0.21, 0.34])
def test_sigkill_at_any_moment_leaves_a_complete_current_version(warehouse, published, delay):
    publish(warehouse, published)
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(warehouse), str(published)],
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert_complete(published)
    later = T0 + dt.timedelta(days=400)
    publish(warehouse, published, at=later)  # and life goes on
    assert not list((published / "versions").glob(".tmp-*"))
    assert assert_complete(published)["version"] == later.strftime("%Y%m%dT%H%M%SZ")


def test_a_warehouse_without_marts_never_replaces_the_published_ones(warehouse, published):
    before = publish(warehouse, published)
    con = duckdb.connect(str(warehouse))
    con.execute("DROP SCHEMA marts CASCADE")
    con.close()
    with pytest.raises(ValueError, match="no tables in schema marts"):
        publish(warehouse, published, at=T0 + dt.timedelta(hours=1))
    assert v.version_names(published) == [before["version"]]
    assert not list((published / "versions").glob(".tmp-*"))
    assert_complete(published)


def test_missing_warehouse_is_a_clear_error(tmp_path, published):
    with pytest.raises(FileNotFoundError, match="no warehouse"):
        publish(tmp_path / "nope.duckdb", published)
    assert v.current_manifest(published) is None


def test_data_dictionary_is_published_with_the_same_descriptions(warehouse, published):
    manifest = publish(warehouse, published)
    assert manifest["dictionary"] == "dictionary.html"
    page = (published / "dictionary.html").read_text(encoding="utf-8")  # the stable link
    assert page == (published / "versions" / manifest["version"] / "dictionary.html").read_text(
        encoding="utf-8")
    for text in ("<code>marts.indicators</code>", "Показатели / the regional scorecard",
                 "<td><code>value</code></td><td class='t'>DOUBLE</td><td>Значение / value</td>",
                 "It&#x27;s the context",  # escaped
                 "<code>reference.indicator_catalogue</code>", "Каталог показателей / catalogue",
                 "parquet/indicators/indicators_&lt;год/year&gt;.parquet",
                 "parquet/reference/indicator_catalogue.parquet",
                 "DuckDB &gt;= 0.10.1", manifest["version"]):
        assert text in page, text
    assert page.index("<code>marts.indicators</code>") < page.index(
        "<code>reference.indicator_catalogue</code>")
    assert "<script" not in page and "http" not in page  # opens from a file share, offline
