"""The pure parts of publishing: version names, links, pruning, lookups, checksums, and
the CSV/JSON forms of `rsoko sql` (no warehouse needed)."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal

import duckdb
import pytest

from rsoko_pipelines.publish import versions as v
from rsoko_pipelines.publish.publisher import table_checksum
from rsoko_pipelines.publish.query import as_csv, as_json

UTC = dt.timezone.utc
T = dt.datetime(2026, 11, 23, 2, 5, 12, tzinfo=UTC)


def fake_version(published, name, tables=1):
    folder = published / "versions" / name
    (folder / "parquet").mkdir(parents=True)
    (folder / v.DB_FILE).write_bytes(b"")
    manifest = {"version": name, "published_at": name, "tables": {f"t{i}": {"rows": 10}
                                                                  for i in range(tables)},
                "source_files": [{}, {}], "git_commit": "abc"}
    (folder / v.MANIFEST).write_text(json.dumps(manifest))
    return name


def test_version_names_are_utc_and_unique(tmp_path):
    moscow = dt.timezone(dt.timedelta(hours=3))
    assert v.new_version_name(tmp_path, T.astimezone(moscow)) == "20261123T020512Z"
    fake_version(tmp_path, "20261123T020512Z")
    (tmp_path / "versions" / ".tmp-20261123T020512Z-2").mkdir()
    assert v.new_version_name(tmp_path, T) == "20261123T020512Z-3"


def test_versions_sort_by_time_then_suffix(tmp_path):
    for name in ("20261123T020512Z-10", "20261123T020512Z", "20261123T020512Z-2",
                 "20261122T235959Z"):
        fake_version(tmp_path, name)
    (tmp_path / "versions" / ".tmp-20261124T000000Z").mkdir()   # unfinished: not a version
    (tmp_path / "versions" / "20261125T000000Z").mkdir()        # no manifest: not a version
    assert v.version_names(tmp_path) == ["20261122T235959Z", "20261123T020512Z",
                                         "20261123T020512Z-2", "20261123T020512Z-10"]


def test_activate_swaps_current_and_creates_stable_links_once(tmp_path):
    a, b = fake_version(tmp_path, "20261101T000000Z"), fake_version(tmp_path, "20261102T000000Z")
    v.activate(tmp_path, a)
    link_inode = os.lstat(tmp_path / v.DB_FILE).st_ino
    v.activate(tmp_path, b)
    assert v.current_version(tmp_path) == b
    assert os.lstat(tmp_path / v.DB_FILE).st_ino == link_inode  # untouched the second time
    for name in v.STABLE_LINKS:
        assert os.readlink(tmp_path / name) == f"current/{name}"
    assert (tmp_path / v.DB_FILE).resolve() == tmp_path / "versions" / b / v.DB_FILE
    assert not list(tmp_path.glob(".*swap*"))


def test_prune_keeps_the_newest_and_the_current(tmp_path):
    names = [fake_version(tmp_path, f"2026110{d}T000000Z") for d in range(1, 7)]
    v.activate(tmp_path, names[1])
    assert v.prune(tmp_path, 2, lambda m: None) == [names[0], names[2], names[3]]
    assert v.version_names(tmp_path) == [names[1], names[4], names[5]]


def test_lookups(tmp_path):
    assert v.current_manifest(tmp_path) is None and v.list_versions(tmp_path) == []
    with pytest.raises(v.NothingPublished, match="nothing published yet"):
        v.published_database(tmp_path)
    a, b = fake_version(tmp_path, "20261101T000000Z", 2), fake_version(tmp_path, "20261102T000000Z")
    v.activate(tmp_path, b)
    assert v.current_manifest(tmp_path)["version"] == b
    assert v.published_database(tmp_path) == tmp_path / "versions" / b / v.DB_FILE
    assert v.published_database(tmp_path, a) == tmp_path / "versions" / a / v.DB_FILE
    with pytest.raises(v.NothingPublished, match=f"kept: {b}, {a}"):
        v.published_database(tmp_path, "../..")
    listed = v.list_versions(tmp_path)
    assert [(x["version"], x["current"], x["tables"], x["rows"], x["source_files"])
            for x in listed] == [(b, True, 1, 10, 2), (a, False, 2, 20, 2)]


def test_keep_from_env(monkeypatch):
    monkeypatch.delenv("RSOKO_PUBLISH_KEEP", raising=False)
    assert v.keep_from_env() == 7
    monkeypatch.setenv("RSOKO_PUBLISH_KEEP", "3")
    assert v.keep_from_env() == 3
    monkeypatch.setenv("RSOKO_PUBLISH_KEEP", "0")
    assert v.keep_from_env() == 1
    monkeypatch.setenv("RSOKO_PUBLISH_KEEP", "seven")
    with pytest.raises(ValueError, match="whole number"):
        v.keep_from_env()


def test_table_checksum_ignores_order_but_not_content():
    con = duckdb.connect()
    con.execute("CREATE TABLE a AS SELECT * FROM (VALUES (1, 'x', NULL), (2, 'y', 1.5), "
                "(2, 'y', 1.5)) t(i, s, d)")
    con.execute("CREATE TABLE b AS SELECT * FROM a ORDER BY i DESC")
    con.execute("CREATE TABLE c AS SELECT DISTINCT * FROM a")              # a duplicate less
    con.execute("CREATE TABLE d AS SELECT i, s, coalesce(d, 0) AS d FROM a")  # NULL → 0
    assert table_checksum(con, "a") == table_checksum(con, "b")
    assert table_checksum(con, "a").startswith("3:")
    assert table_checksum(con, "c") != table_checksum(con, "a")
    assert table_checksum(con, "d") != table_checksum(con, "a")
    con.execute("CREATE TABLE e (i INTEGER)")
    assert table_checksum(con, "e") == "0:0"


def test_csv_and_json_forms():
    columns = ["code", "n", "share", "ok", "day", "tags", "none"]
    rows = [("07", 3, Decimal("12.50"), True, dt.date(2025, 6, 1), ["a", "б"], None)]
    assert as_csv(columns, rows) == (
        "code,n,share,ok,day,tags,none\n07,3,12.5,true,2025-06-01,\"[\"\"a\"\", \"\"б\"\"]\",\n")
    assert json.loads(as_json(columns, rows)) == [
        {"code": "07", "n": 3, "share": 12.5, "ok": True, "day": "2025-06-01",
         "tags": ["a", "б"], "none": None}]
    assert as_csv(["x"], []) == "x\n" and json.loads(as_json(["x"], [])) == []


def test_rsoko_help_imports_neither_duckdb_nor_dagster():
    import subprocess
    import sys

    code = ("import sys, rsoko_pipelines.cli; "
            "print(sorted(m for m in ('duckdb', 'dagster') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
