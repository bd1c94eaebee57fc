"""Broken extracts dropped into an already-ingested inbox are quarantined with a report that
names the file, the check, the rows and columns; nothing already loaded changes; the release
holds back only that source × year. Through Dagster the file's column check fails (with its
file and rule), then the landing step — after its output, so the rest of the night runs."""

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
# the check of raw/<source> that a case fails (quality/check_groups.py): the file column the
# failing expectation is about, or `file_contract` for what the parser refuses
FAILED_CHECK = {
    "wrong_encoding_utf8": "file_contract", "missing_column": "file_contract",
    "footer_in_middle": "file_contract", "score_out_of_range": "test_score",
    "unknown_school_gia": "msu_code", "unknown_school_vpr": "fis_login",
    "duplicate_participant": "unique_rows", "truncated_xlsx": "file_contract",
    "empty_file": "file_contract", "unparseable_title": "file_contract",
    # a task cell above its column maximum: the parser refuses it (task_points_above_max)
    "vpr_task_above_max": "file_contract", "utf16": "file_contract",
    "header_only": "file_contract",
    # a name in «Код ОО»: the code's format, and (msu, code) is not a known school
    "name_in_code_column": ("gia_school_code", "msu_code"),
}


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

    # the release holds back this source × year only, naming the file
    held = _query(settings, "SELECT source, academic_year, reason FROM raw._slice_status "
                  "WHERE state = 'held_back'")
    assert [(s, y) for s, y, _ in held] == [(broken.source, YEAR)]
    assert broken.path.name in held[0][2]

    # the raw asset's checks: exactly the column check of the rule, failed as an error with
    # the file, the rule and the rows; every other check passed
    from rsoko_pipelines.orchestration.raw_assets import check_results
    from rsoko_pipelines.quality.check_groups import check_groups

    checks = {c.check_name: c for c in check_results(broken.source, [result])}
    assert set(checks) == {g.name for g in check_groups(broken.source)}
    expected = FAILED_CHECK[case]
    expected = sorted([expected] if isinstance(expected, str) else expected)
    failed = sorted(n for n, c in checks.items() if not c.passed)
    assert failed == expected, failed
    check = checks[expected[0]]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description.startswith(f"1 file(s) quarantined: {rel} ({YEAR}): ")
    findings = check.metadata["findings"].value
    assert rel in findings and "None" not in check.description
    if broken.rows:
        assert str(broken.rows[0]) in findings
    assert all(c.severity == dg.AssetCheckSeverity.WARN for n, c in checks.items()
               if n not in expected)

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


def _query(settings, sql, params=None):
    from rsoko_pipelines.ingest.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_column_check_fails_then_the_step_and_the_rest_of_the_night_goes_on(
        region, deployment, tmp_path):
    """raw/ege, raw/oge and the release step in one real run of the `nightly` job (as the
    night launches it: night/launch.py, the job's own executor): the broken ЕГЭ file fails
    the `test_score` check (its file, rule and row), then the raw/ege step, after raw/ege's
    output is recorded; the release step after it still runs
    (`require_upstream_step_success: false`) and holds back ЕГЭ 2025 only."""
    from rsoko_pipelines.night.launch import run_job
    from rsoko_pipelines.orchestration.raw_assets import raw_key
    from rsoko_pipelines.orchestration.release_asset import HELD_BACK_CHECK, REGISTRY_KEY

    settings = deployment
    broken = bf.make("score_out_of_range", region["inbox"], YEAR, tmp_path / "made")
    before = bf.warehouse_checksums(settings)
    _, rel, _ = _drop(settings, broken)
    instance = dg.DagsterInstance.get()
    selection = dg.AssetSelection.assets(raw_key("ege"), raw_key("oge"), REGISTRY_KEY)
    run = run_job(instance, "nightly", selection, tags={})

    assert run.status == dg.DagsterRunStatus.FAILURE
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in (
        r.event_log_entry.dagster_event.event_specific_data for r in records)}
    failed = {k: e for k, e in evaluations.items() if not e.passed}
    assert set(failed) == {("raw/ege", "test_score"), ("raw/file_registry", HELD_BACK_CHECK)}
    check = failed[("raw/ege", "test_score")]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description == (f"1 file(s) quarantined: {rel} ({YEAR}): 1 row(s) break the "
                                 "rule / нарушено правило: «Балл»: тестовый балл 0–100 / "
                                 "'Балл': test score 0-100")
    assert "ege.test_score.range" in check.metadata["expectations"].value
    findings = check.metadata["findings"].value
    assert f"| ✗ | {YEAR} | {rel} |" in findings and f"| {broken.rows[0]} |" in findings
    assert check.metadata["files_checked"].value == 1
    assert evaluations[("raw/ege", "file_contract")].passed
    assert all(e.passed for (asset, _), e in evaluations.items() if asset == "raw/oge")
    held = failed[("raw/file_registry", HELD_BACK_CHECK)]
    assert held.severity == dg.AssetCheckSeverity.WARN
    assert held.description.startswith(f"held back: ege {YEAR}: ")
    assert broken.path.name in held.description and "oge" not in held.description
    # the landing step failed after its output: raw/ege is materialised (it reports what is
    # in the warehouse), and the release step after it ran
    steps = {s.step_key: s.status.value for s in instance.get_run_step_stats(run.run_id)}
    assert steps == {"raw__ege": "FAILURE", "raw__oge": "SUCCESS",
                     "raw__file_registry": "SUCCESS"}
    failures = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    failure = failures[0].event_log_entry.dagster_event.step_failure_data.user_failure_data
    assert failure.description.startswith("1 file(s) of ege quarantined; held back: ege 2025.")
    materialized = {r.event_log_entry.asset_materialization.asset_key.to_user_string()
                    for r in instance.get_records_for_run(
                        run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records}
    assert materialized == {"raw/ege", "raw/oge", "raw/file_registry"}
    # nothing landed changed; the release step created the landing tables of the sources
    # this region did not deliver, empty (the models never fail on a missing source)
    after = _landing(bf.warehouse_checksums(settings))
    assert {t: c for t, c in after.items() if t in before} == _landing(before)
    # (every landing table of the column maps that the baseline, schools + ege + oge + vpr,
    # did not deliver: literacy, olympiad, rpr and the sources of directions 4-9 …)
    from rsoko_pipelines.extract.schemas import landing_schemas

    undelivered = {t: (0, 0, 0) for t in landing_schemas() if t not in before}
    assert {"literacy", "olympiad", "rpr", "rpr_tasks", "staff", "niko"} <= set(undelivered)
    assert {t: c for t, c in after.items() if t not in before} == undelivered
