"""Broken extracts dropped into an already-ingested inbox are quarantined with a report that
names the file, the check, the rows and columns; nothing already loaded changes; through
Dagster the blocking check fails and stops downstream assets of the same run."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import link_tree
from tests.integration import _broken_files as bf

YEAR = 2025
SOURCES = ["schools", "ege", "oge", "vpr"]


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """A small generated region, its 2025 files ingested once into a baseline deployment."""
    gen = tmp_path_factory.mktemp("gen")
    bf.generate_region(gen, sources=SOURCES, n_schools=40)
    base = tmp_path_factory.mktemp("baseline") / "data"
    with pytest.MonkeyPatch.context() as mp:
        settings = bf.use_deployment(mp, base)
        bf.link_year(gen, settings.inbox_dir, YEAR)
        first = bf.ingest(settings, SOURCES, YEAR)
    for source, result in first.items():
        assert result.files and result.count("loaded") == len(result.files), source
    broken_dir = tmp_path_factory.mktemp("broken")
    return dict(gen=gen, base=base, inbox=settings.inbox_dir, broken_dir=broken_dir,
                loaded={s: r.count("loaded") for s, r in first.items()})


@pytest.fixture()
def deployment(region, tmp_path, monkeypatch):
    """A fresh copy of the baseline: its warehouse, and its inbox as hard links (same size
    and mtime, so every file is 'unchanged' for the ingest)."""
    settings = bf.use_deployment(monkeypatch, tmp_path / "data")
    shutil.copyfile(Path(region["base"]) / "warehouse" / "rsoko.duckdb", settings.warehouse_path)
    link_tree(region["inbox"], settings.inbox_dir)
    return settings


def _landing(checksums: dict) -> dict:
    return {t: c for t, c in checksums.items() if not t.startswith("_")}


def _drop(settings, broken: bf.Broken) -> tuple[Path, str, bytes]:
    target = settings.inbox_dir / broken.source / str(YEAR) / broken.path.name
    shutil.copyfile(broken.path, target)
    return target, f"{broken.source}/{YEAR}/{broken.path.name}", broken.path.read_bytes()


@pytest.mark.parametrize("case", list(bf.CASES))
def test_broken_file_is_quarantined_with_a_report(case, region, deployment, tmp_path):
    settings = deployment
    broken = bf.make(case, region["inbox"], YEAR, tmp_path / "made")
    before = bf.warehouse_checksums(settings)
    target, rel, data = _drop(settings, broken)
    file_id = hashlib.sha256(data).hexdigest()

    result = bf.ingest(settings, [broken.source], YEAR)[broken.source]

    # only the broken file was new, and it was quarantined; the others stayed as they were
    assert [(f.inbox_path, f.status) for f in result.files if f.status != "unchanged"] == [
        (rel, "quarantined")]
    assert result.count("unchanged") == region["loaded"][broken.source]
    assert result.rows_loaded == 0

    # moved out of the inbox into <quarantine>/<source>/<year>/, unchanged, with its reports
    folder = settings.quarantine_dir / broken.source / str(YEAR)
    moved = folder / broken.path.name
    assert not target.exists()
    assert moved.read_bytes() == data
    report_json = folder / f"{broken.path.name}.report.json"
    report_html = folder / f"{broken.path.name}.report.html"
    assert report_json.is_file() and report_html.is_file()
    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert report["file"] == rel and report["file_id"] == file_id
    assert report["source"] == broken.source and report["academic_year"] == YEAR
    assert report["size_bytes"] == len(data)
    checks = [p["check"] for p in report["problems"]]
    assert broken.check in checks, checks
    problem = report["problems"][checks.index(broken.check)]
    if broken.rows:
        n = len(problem["rows"])
        assert n and problem["rows"] == broken.rows[:n], (problem["rows"], broken.rows)
        assert n == min(len(broken.rows), 50)
    if broken.columns:
        assert set(broken.columns) <= set(problem["columns"]), problem["columns"]
    assert problem["hint"] and report["what_to_do"]
    html = report_html.read_text(encoding="utf-8")
    assert broken.check in html and rel in html

    # the registry remembers it as quarantined, with a message naming the problem
    row, = bf.registry_rows(settings, "file_id = ?", [file_id])
    assert row["status"] == "quarantined" and row["rows"] == 0
    assert row["inbox_path"] == rel and Path(row["report_path"]) == report_html
    assert broken.check in row["message"] and rel in row["message"]
    if broken.message_contains:
        assert broken.message_contains in row["message"], row["message"]
    if broken.rows:
        assert f"rows {broken.rows[0]}" in row["message"], row["message"]

    # nothing already loaded changed
    after = bf.warehouse_checksums(settings)
    assert _landing(after) == _landing(before)
    assert after["_file_registry"][0] == before["_file_registry"][0] + 1

    # the same bytes dropped again are not retried
    shutil.copyfile(broken.path, settings.inbox_dir / broken.source / str(YEAR) / "again.bin")
    again = bf.ingest(settings, [broken.source], YEAR)[broken.source]
    assert [f.status for f in again.files if f.status != "unchanged"] == ["duplicate"]


def test_rewritten_workbook_without_changes_still_passes(region, deployment, tmp_path):
    """Control for the XLSX cases: the read-and-rewrite alone breaks nothing."""
    from rsoko_pipelines.ingest.checking import problems_for_file

    src = bf.largest_vpr_file(region["inbox"], YEAR)
    copy = bf.write_sheet(tmp_path / "vpr" / str(YEAR) / "rewritten.xlsx", bf.read_sheet(src))
    problems, rows = problems_for_file(copy, "vpr", YEAR)
    assert problems == []
    assert rows == len([r for r in bf.read_sheet(src)[4:] if any(v not in ("", None) for v in r)])


def test_blocking_check_fails_and_downstream_is_skipped_in_dagster(region, deployment,
                                                                   tmp_path):
    from rsoko_pipelines.assets.raw import build_raw_asset, raw_key
    from rsoko_pipelines.partitions import ACADEMIC_YEARS

    settings = deployment
    ran = []

    @dg.asset(deps=[raw_key("ege")], partitions_def=ACADEMIC_YEARS)
    def ege_downstream():
        ran.append("ege_downstream")

    @dg.asset(deps=[raw_key("oge")], partitions_def=ACADEMIC_YEARS)
    def oge_downstream():
        ran.append("oge_downstream")

    broken = bf.make("score_out_of_range", region["inbox"], YEAR, tmp_path / "made")
    before = bf.warehouse_checksums(settings)
    _, rel, _ = _drop(settings, broken)
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions("academic_year", [str(YEAR)])
    assets = [build_raw_asset("ege"), build_raw_asset("oge"), ege_downstream, oge_downstream]
    result = dg.materialize(assets, partition_key=str(YEAR), instance=instance,
                            raise_on_error=False)

    assert not result.success
    evaluations = {tuple(e.asset_key.path): e for e in result.get_asset_check_evaluations()}
    failed = evaluations[("raw", "ege")]
    assert failed.check_name == "great_expectations" and failed.passed is False
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert rel in failed.description and "ege.test_score.range" in failed.description
    assert f"rows {broken.rows[0]}" in failed.description
    assert failed.metadata["files_quarantined"].value == 1
    assert failed.metadata["files_checked"].value == 1
    assert "ege.test_score.range" in failed.metadata["first_failure"].value
    assert evaluations[("raw", "oge")].passed is True
    # blocking: the asset downstream of raw/ege did not run; the one of raw/oge did
    assert ran == ["oge_downstream"]
    materialized = {tuple(m.asset_key.path) for m in result.get_asset_materialization_events()}
    assert ("ege_downstream",) not in materialized
    assert ("oge_downstream",) in materialized
    assert [e.step_key for e in result.get_step_failure_events()] == ["raw__ege"]
    # raw/ege itself reports what is in the warehouse, which did not change
    assert _landing(bf.warehouse_checksums(settings)) == _landing(before)
