"""`bench/run.py --sources`: a tier's volumes of some sources alone, measured and reported
under its own label (`F-staff+dpo.json`), without the whole-tier targets of scale.md."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from rsoko_pipelines.settings import REPO_ROOT


def _load(name: str):
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO_ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run():
    return _load("run")


@pytest.fixture(scope="module")
def report():
    return _load("report")


def _file(source, year, rows, path, **slice_):
    return {"source": source, "academic_year": year, "rows": rows, "path": path,
            "bytes": rows * 10, "slice": slice_}


def test_a_subset_gets_its_own_label_work_folder_and_refuses_pandas(run):
    args = run.parse_args(["--tier", "f", "--sources", "schools, staff,dpo", "--cases",
                           "parse,cold"])
    assert args.sources == ["schools", "staff", "dpo"]
    assert args.label == "F-schools+staff+dpo"
    assert args.work.name == "F-schools+staff+dpo"
    whole = run.parse_args(["--tier", "S", "--cases", "cold"])
    assert whole.sources == [] and whole.label == "S" and whole.work.name == "S"
    with pytest.raises(SystemExit):
        run.parse_args(["--tier", "F", "--sources", "staff"])    # pandas is in the default cases


def test_without_vpr_or_ege_nothing_is_held_back_or_corrected(run, tmp_path):
    staff_only = {"years": [2025], "files": [_file("staff", 2025, 100, "staff/2025/a.csv")]}
    assert run.choose_incremental(staff_only) is None
    assert run.choose_correction(staff_only, tmp_path) is None
    with_vpr = {"years": [2024, 2025], "files": [
        _file("vpr", 2025, rows, f"vpr/2025/{rows}.xlsx", subject_code=str(rows), grade=5)
        for rows in (30, 10, 20)] + [_file("vpr", 2024, 99, "vpr/2024/x.xlsx")]}
    assert run.choose_incremental(with_vpr)["path"] == "vpr/2025/20.xlsx"   # the median


def test_a_subset_is_reported_without_targets_next_to_the_whole_tier(report, tmp_path):
    def result(label, sources, cold_s):
        return {"tier": "F", "label": label, "sources": sources, "seed": 1,
                "measured_at": "2026-11-30T15:00:00+00:00", "machine": {"git_commit": "abc"},
                "cases": {"cold": {"wall_s": cold_s, "exit_code": 0, "peak_mb": 900.0,
                                   "stages": {}}},
                "parse_floor": {}, "ratios": {},
                "notes": ["cold: the whole tier.", "incremental: the held-back file."]}

    subset = result("F-schools+staff", ["schools", "staff"], 500.0)
    whole = result("F", "all", 6000.0)
    assert report.evaluate_targets(subset) == []
    targets = {t["target"]: t["result"] for t in report.evaluate_targets(whole)}
    assert targets["tier F cold ≤ 30 min (one night)"] == "miss"
    for r in (subset, whole):
        (tmp_path / f"{r['label']}.json").write_text(json.dumps(r), encoding="utf-8")
    summary = report.summary_markdown(tmp_path)
    assert "[F](F.md)" in summary and "[F-schools+staff](F-schools+staff.md)" in summary
    assert summary.index("[F](F.md)") < summary.index("[F-schools+staff]")
    page = report.tier_markdown(subset)
    assert page.startswith("# Benchmark — tier F (seed 1), sources schools, staff only")
    # how a case is made is told only for the cases measured
    assert "- cold: the whole tier." in page and "incremental:" not in page


def test_assembled_tier_f_and_a_failed_pandas_script_are_not_passed_off(report, tmp_path):
    """A cold F assembled from parts is no one-night figure, and an analyst's script that the
    kernel killed has no time to compare with: both say so instead of a number."""
    f = {"tier": "F", "sources": "all", "cold_assembled_from_parts": True,
         "cases": {"cold": {"wall_s": 6763.2, "exit_code": 0, "peak_mb": 9998.0}}}
    targets = {t["target"]: t["result"] for t in report.evaluate_targets(f)}
    assert targets["tier F cold ≤ 30 min (one night)"].startswith("not measured as one night")
    assert targets["tier F peak memory ≤ 12 GB (largest of the cases)"].startswith("not measured")
    m = {"tier": "M", "seed": 1, "measured_at": "2026-12-01T03:00:00+00:00",
         "machine": {"git_commit": "abc"}, "parse_floor": {}, "ratios": {}, "notes": [],
         "cases": {"cold": {"wall_s": 456.8, "exit_code": 0, "peak_mb": 7588.0, "stages": {}}},
         "pandas": {"exit_code": -9, "wall_s": 374.8, "peak_mb": 23144.6, "log": "pandas.log"}}
    (tmp_path / "M.json").write_text(json.dumps(m), encoding="utf-8")
    assert "374.8 FAILED (exit -9, 23,145 MB)" in report.summary_markdown(tmp_path)
    assert "killed: memory ran out at 23,145 MB" in report.tier_markdown(m)


def test_the_nightly_gets_the_knobs_but_not_the_callers_deployment(run, tmp_path, monkeypatch):
    monkeypatch.setenv("RSOKO_ARCHIVE_LINKS", "1")
    monkeypatch.setenv("RSOKO_DBT_THREADS", "1")
    monkeypatch.setenv("RSOKO_INBOX_DIR", "/somewhere/else")
    env = run.nightly_env(tmp_path / "data")
    assert env["RSOKO_ARCHIVE_LINKS"] == "1" and env["RSOKO_DBT_THREADS"] == "1"
    assert "RSOKO_INBOX_DIR" not in env
    assert env["RSOKO_DATA_DIR"] == str(tmp_path / "data")
