"""Smoke run of the benchmark (`bench/run.py`) on the tests' tier XS: every case runs
through `rsoko nightly` and is reported stage by stage, with the parse floor, the machine's
facts, the JSON and the Markdown. Not timed: the figures are not checked, only that they
are there (the benchmark itself is run by hand on tiers S, M, F)."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from rsoko_pipelines.settings import REPO_ROOT
from tests.conftest import CACHE_DIR, DEMO_SEED, generated_tier

pytestmark = pytest.mark.slow

STAGES = {"reference", "ingest", "validate", "release", "transform", "marts", "publish"}
CASES = ("cold", "noop", "incremental", "correction")


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    tier_dir = generated_tier("XS")          # shared cache: the bench finds it generated
    root = tmp_path_factory.mktemp("bench")
    work, results = root / "work", root / "results"
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "run.py"), "--tier", "XS",
         "--seed", str(DEMO_SEED), "--cache", str(CACHE_DIR), "--work", str(work),
         "--results", str(results), "--parse-workers", "1", "--progress", "60"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-4000:]
    manifest = json.loads((tier_dir / "manifest.json").read_text(encoding="utf-8"))
    result = json.loads((results / "XS.json").read_text(encoding="utf-8"))
    return dict(proc=proc, work=work, results=results, result=result, manifest=manifest,
                latest=str(max(manifest["years"])))


def _jobs(case: dict) -> list[str]:
    return [r["job"] for r in case["runs"]]


def _raw_steps(case: dict) -> set[str]:
    return {step for r in case["runs"] for step in r["steps"] if step.startswith("raw__")}


def test_every_case_is_reported_stage_by_stage(bench):
    cases = bench["result"]["cases"]
    assert set(cases) == set(CASES)
    for name, case in cases.items():
        assert case["exit_code"] == 0, (name, case["log"])
        assert case["wall_s"] > 0 and case["cpu_s"] > 0 and case["peak_mb"] > 0, name
        assert set(case["stages"]) == STAGES, name
        assert set(case["stage_peak_mb"]) >= STAGES | {"other"}, name
        assert case["other_s"] is not None, name
    cold = cases["cold"]
    assert {s for s, v in cold["stages"].items() if v > 0} >= {
        "reference", "ingest", "release", "transform", "marts", "publish"}
    for stage in ("ingest", "release", "transform", "marts", "publish"):   # while its steps ran
        assert cold["stage_peak_mb"][stage], stage
    assert cold["peak_mb"] >= max(v for v in cold["stage_peak_mb"].values() if v)


def test_cold_loads_every_source_in_one_run_and_publishes(bench):
    cold = bench["result"]["cases"]["cold"]
    assert _jobs(cold) == ["nightly"]                 # one run, every year
    assert all(r["success"] for r in cold["runs"])
    sources = {f["source"] for f in bench["manifest"]["files"]}
    assert _raw_steps(cold) == {f"raw__{s}" for s in sources} | {"raw__file_registry"}
    assert {"rsoko_dbt_reference", "rsoko_dbt_models", "rsoko_dbt_marts",
            "published__marts"} <= set(cold["runs"][0]["steps"])
    published = bench["work"] / "data" / "published"
    assert any(published.rglob("*.duckdb"))


def test_noop_runs_nothing(bench):
    noop = bench["result"]["cases"]["noop"]
    assert noop["runs"] == []
    assert "nothing new" in noop["plan"]


def test_incremental_loads_only_the_new_vpr_file(bench):
    incremental = bench["result"]["cases"]["incremental"]
    held = bench["result"]["incremental_file"]
    assert held["path"].startswith(f"vpr/{bench['latest']}/")
    assert _jobs(incremental) == ["nightly"] and incremental["runs"][0]["success"]
    # the landing step of ВПР only, then the release step and everything after it
    assert _raw_steps(incremental) == {"raw__vpr", "raw__file_registry"}
    assert {"rsoko_dbt_models", "rsoko_dbt_marts", "published__marts"} <= set(
        incremental["runs"][0]["steps"])
    assert "rsoko_dbt_reference" not in incremental["runs"][0]["steps"]


def test_correction_replaces_the_ege_file(bench):
    correction = bench["result"]["cases"]["correction"]
    assert _jobs(correction) == ["nightly"] and correction["runs"][0]["success"]
    assert _raw_steps(correction) == {"raw__ege", "raw__file_registry"}
    info = bench["result"]["correction_file"]
    original = next(f for f in bench["manifest"]["files"] if f["path"] == info["path"])
    con = duckdb.connect(str(bench["work"] / "data" / "warehouse" / "rsoko.duckdb"),
                         read_only=True)
    try:
        rows = con.execute("SELECT status, superseded_by, released FROM raw._file_registry "
                           "WHERE file_id = ?", [original["sha256"]]).fetchall()
        # the correction was released and committed: the original's rows left the landing
        left = con.execute("SELECT count(*) FROM raw.ege WHERE _file_id = ?",
                           [original["sha256"]]).fetchone()[0]
        replacement = con.execute("SELECT status, released, released_at IS NOT NULL FROM "
                                  "raw._file_registry WHERE file_id = ?",
                                  [rows[0][1]]).fetchall() if rows else []
    finally:
        con.close()
    assert len(rows) == 1 and rows[0][0] == "superseded" and rows[0][1], rows
    assert rows[0][2] is False and left == 0
    assert replacement == [("loaded", True, True)]


def test_parse_floor_and_ratios(bench):
    result = bench["result"]
    floor = result["parse_floor"]["1"]
    assert floor["files"] == len(bench["manifest"]["files"])
    assert floor["seconds"] > 0 and floor["peak_mb"] > 0
    assert result["ratios"]["cold_over_parse_floor"] > 0
    assert result["ratios"]["incremental_pct_of_cold"] > 0
    targets = {t["target"]: t for t in result["targets"]}
    assert {"nightly no-op ≤ 3 s", "incremental (one new ВПР file) ≤ 10 % of cold",
            "correction (one corrected ЕГЭ file) ≤ 10 % of cold"} <= set(targets)
    assert all(t["informative"] and t["result"] in ("pass", "miss") for t in targets.values())


def test_machine_facts(bench):
    machine = bench["result"]["machine"]
    assert machine["cores"] >= 1 and machine["memory_gb"] > 0 and machine["cpu_model"]
    assert machine["python"] and len(machine["git_commit"]) >= 7
    for package in ("duckdb", "dagster", "dbt-core", "great_expectations"):
        assert machine["versions"][package], package


def test_json_and_markdown_written(bench):
    results = bench["results"]
    page = (results / "XS.md").read_text(encoding="utf-8")
    for word in (*CASES, "Parse floor", "Targets", "Peak memory by stage", "Machine"):
        assert word in page, word
    summary = (results / "README.md").read_text(encoding="utf-8")
    assert "[XS](XS.md)" in summary
    assert "Tier XS" in bench["proc"].stdout           # the summary table at the end


def test_a_partial_run_keeps_the_other_cases_and_the_notes_added_by_hand(bench):
    """`--cases noop` on the deployment left behind re-measures that case only: the other
    cases and a note written into the JSON by hand (how a figure was obtained) stay."""
    path = bench["results"] / "XS.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    hand_note = "no-op measured again after the page cache was emptied (by hand)"
    result["notes"].append(hand_note)
    path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "run.py"), "--tier", "XS",
         "--seed", str(DEMO_SEED), "--cache", str(CACHE_DIR), "--work", str(bench["work"]),
         "--results", str(bench["results"]), "--cases", "noop", "--progress", "60"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    again = json.loads(path.read_text(encoding="utf-8"))
    assert hand_note in again["notes"] and again["notes"].count(hand_note) == 1
    assert again["cases"]["noop"]["measured_at"] > result["cases"]["noop"]["measured_at"]
    for case in ("cold", "incremental", "correction"):
        assert again["cases"][case] == result["cases"][case], case
