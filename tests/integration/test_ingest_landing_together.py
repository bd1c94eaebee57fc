"""A batch of files lands with a few statements in all (ingest/landing.py: `_load_together`)
and leaves the warehouse exactly as landing them one by one (`_load`) does: the same landing
rows, the same registry, the same outcomes — on a first night, and on a night with a
correction (the superseded file's rows and registry row)."""

from __future__ import annotations

import shutil

import pytest

from rsoko_pipelines.ingest import landing
from tests.integration._broken_files import (ege_score_out_of_range, generate_region, ingest,
                                             link_year, registry_rows, use_deployment)

YEAR = 2025
SOURCES = ["schools", "vpr", "ege"]
WAYS = ("together", "file_by_file")
# columns that differ between two deployments by construction, not by what was landed (the
# corrected sheet is written into each inbox at its own moment: its mtime)
VOLATILE = ("loaded_at", "first_seen_at", "released_at", "seen_at", "checked_at", "mtime_ns")


def _content(settings) -> dict:
    """{table: sorted rows} of every raw table except the sightings log, without timestamps;
    archive paths relative to the deployment."""
    from rsoko_pipelines.ingest.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        out = {}
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name='raw' "
            "AND table_name NOT IN ('_file_sightings') ORDER BY 1").fetchall()]
        for table in tables:
            columns = [c for c, t in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name='raw' "
                "AND table_name=? ORDER BY column_index", [table]).fetchall()
                if not t.startswith("TIMESTAMP") and c not in VOLATILE]
            select = ", ".join(
                f"replace(\"{c}\", '{settings.data_dir}', '<data>')" if c == "archive_path"
                else f'"{c}"' for c in columns)
            out[table] = con.execute(f"SELECT {select} FROM raw.{table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def _outcomes(results) -> dict:
    return {source: sorted((f.inbox_path, f.status, f.file_id, f.rows, f.message)
                            for f in r.files)
            for source, r in results.items()}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    gen = tmp_path_factory.mktemp("gen")
    generate_region(gen, sources=SOURCES, n_schools=40)
    made = tmp_path_factory.mktemp("made")
    out = {}
    for way in WAYS:
        with pytest.MonkeyPatch.context() as mp:
            settings = use_deployment(mp, tmp_path_factory.mktemp(way) / "data")
            if way == "file_by_file":
                mp.setattr(landing, "_load_together", lambda *args: None)
            link_year(gen, settings.inbox_dir, YEAR)
            first = ingest(settings, SOURCES, YEAR)
            content_first = _content(settings)
            # the next night: a corrected ЕГЭ sheet (same slice as its original)
            fixed = ege_score_out_of_range(settings.inbox_dir, YEAR, made / way, score=77)
            shutil.copyfile(fixed.path, settings.inbox_dir / "ege" / str(YEAR) / "corrected.csv")
            second = ingest(settings, ["ege"], YEAR)
            statuses = sorted((r["file_name"], r["status"]) for r in registry_rows(
                settings, "source = 'ege' AND status <> 'loaded'"))
            out[way] = dict(first=_outcomes(first), second=_outcomes(second),
                            content_first=content_first, content_second=_content(settings),
                            statuses=statuses, original=fixed.origin.name)
    return out


def test_first_night_lands_the_same_rows_and_registry(nights):
    together, one_by_one = nights["together"], nights["file_by_file"]
    content = together["content_first"]
    assert len(content["vpr"]) > 10_000 and len(content["vpr_tasks"]) > 1000
    assert len(content["ege"]) > 1000
    assert len(content["_file_registry"]) == sum(len(v) for v in together["first"].values())
    assert content == one_by_one["content_first"]
    assert together["first"] == one_by_one["first"]
    assert {s for _, s, _, _, _ in together["first"]["vpr"]} == {"loaded"}


def test_a_correction_supersedes_the_same_way(nights):
    together, one_by_one = nights["together"], nights["file_by_file"]
    assert [s for _, s, _, _, _ in together["second"]["ege"] if s != "unchanged"] == ["replaced"]
    assert together["statuses"] == [(together["original"], "superseded")]
    assert together["content_second"] == one_by_one["content_second"]
    assert together["second"] == one_by_one["second"]
    # the release removed the original's rows: as many ЕГЭ rows as before, one score changed
    before, after = together["content_first"]["ege"], together["content_second"]["ege"]
    assert len(after) == len(before) and after != before
