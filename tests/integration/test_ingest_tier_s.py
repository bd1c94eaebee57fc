"""The whole demo tier S (600 schools, 2023-2025, ~3.1M rows) through the raw landing
assets in Dagster, checked against the generator's manifest; then a second ingest of the
same inbox must change nothing."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import link_tree
from tests.integration._broken_files import (ingest, registry_rows, use_deployment,
                                             warehouse_checksums)

pytestmark = pytest.mark.slow


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak_rss() -> None:
    try:   # Linux: "5" resets the peak RSS (VmHWM) of this process
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


@pytest.fixture(scope="module")
def loaded(tier_s, tmp_path_factory):
    from rsoko_pipelines.orchestration.raw_assets import build_raw_assets
    from rsoko_pipelines.settings import SOURCES

    manifest = json.loads((tier_s / "manifest.json").read_text(encoding="utf-8"))
    root = tmp_path_factory.mktemp("tier_s")
    with pytest.MonkeyPatch.context() as mp:
        settings = use_deployment(mp, root / "data")
        link_tree(tier_s, settings.inbox_dir)
        (settings.inbox_dir / "manifest.json").unlink()
        years = [str(y) for y in manifest["years"]]
        instance = dg.DagsterInstance.get()
        _reset_peak_rss()
        rss_before = _rss_mb("VmRSS")
        started = time.perf_counter()
        # one run, one step per source, every year of it (as a night lands the sources)
        result = dg.materialize(build_raw_assets(), instance=instance)
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        seconds = time.perf_counter() - started
        peak = _rss_mb("VmHWM")
        print(f"\ntier S first ingest (Dagster, one run, {len(SOURCES)} raw assets × "
              f"{len(years)} years): {seconds:.1f} s wall, peak RSS {peak:.0f} MB (RSS before "
              f"{rss_before:.0f} MB), "
              f"{sum(t['rows'] for t in manifest['totals'].values()):,} rows, "
              f"{len(manifest['files']):,} files")
        checksums_1 = warehouse_checksums(settings)
        registry_1 = registry_rows(settings)
        # the second ingest, year by year, straight through ingest_partition (no release:
        # the landing alone must change nothing)
        second = {(s, int(y)): r for y in years
                  for s, r in ingest(settings, SOURCES, int(y), release=False).items()}
        checksums_2 = warehouse_checksums(settings)
        yield dict(manifest=manifest, settings=settings, evaluations=evaluations,
                   result=result, checksums_1=checksums_1, checksums_2=checksums_2,
                   registry=registry_1, second=second, years=years)


def test_every_manifest_file_loaded_with_its_row_count(loaded):
    manifest, registry = loaded["manifest"], loaded["registry"]
    by_path = {r["inbox_path"]: r for r in registry}
    assert len(manifest["files"]) > 4000
    missing = [f["path"] for f in manifest["files"] if f["path"] not in by_path]
    assert not missing, missing[:10]
    wrong = [(f["path"], by_path[f["path"]]["status"], by_path[f["path"]]["rows"], f["rows"])
             for f in manifest["files"]
             if by_path[f["path"]]["status"] != "loaded" or by_path[f["path"]]["rows"] != f["rows"]]
    assert not wrong, wrong[:10]
    # and the registry knows each file by the manifest's checksum, nothing more
    assert {r["file_id"] for r in registry} == {f["sha256"] for f in manifest["files"]}
    assert Counter(r["status"] for r in registry) == Counter(loaded=len(manifest["files"]))


def test_landing_rows_per_source_and_year_equal_the_manifest(loaded):
    from rsoko_pipelines.ingest.warehouse import connect

    expected = Counter()
    for f in loaded["manifest"]["files"]:
        expected[(f["source"], f["academic_year"])] += f["rows"]
    con = connect(loaded["settings"].warehouse_path, read_only=True)
    try:
        actual = Counter()
        for source in {s for s, _ in expected}:
            for year, n in con.execute(f"SELECT academic_year, count(*) FROM raw.{source} "
                                       "GROUP BY ALL").fetchall():
                actual[(source, year)] = n
        # every landing row traces back to a registered file
        orphans = {source: con.execute(
            f"SELECT count(*) FROM raw.{source} WHERE _file_id NOT IN "
            "(SELECT file_id FROM raw._file_registry WHERE status='loaded')").fetchone()[0]
            for source in {s for s, _ in expected}}
    finally:
        con.close()
    assert actual == expected
    assert sum(actual.values()) == sum(t["rows"] for t in loaded["manifest"]["totals"].values())
    assert set(orphans.values()) == {0}, orphans


def test_nothing_quarantined_and_every_check_passed(loaded):
    from rsoko_pipelines.quality.check_groups import check_groups
    from rsoko_pipelines.settings import SOURCES

    quarantine = loaded["settings"].quarantine_dir
    assert not [p for p in quarantine.rglob("*") if p.is_file()]
    evaluations = loaded["evaluations"]
    # one check per file column of each source, each evaluated once for all its years
    expected = {(f"raw/{s}", g.name) for s in SOURCES for g in check_groups(s)}
    assert len(evaluations) == len(expected) > 7 * 10
    assert {(e.asset_key.to_user_string(), e.check_name) for e in evaluations} == expected
    failed = [(e.asset_key.to_user_string(), e.check_name, e.description) for e in evaluations
              if not e.passed]
    assert not failed, failed
    years = {s: sorted({str(f["academic_year"]) for f in loaded["manifest"]["files"]
                        if f["source"] == s}) for s in SOURCES}
    assert all(e.metadata["academic_years"].value == ", ".join(years[e.asset_key.path[-1]])
               for e in evaluations)
    # the materialisation metadata counts what was loaded, every year of the source
    mats = {m.asset_key.path[-1]: m for m in loaded["result"].get_asset_materialization_events()}
    assert set(mats) == set(SOURCES)
    n_files = Counter(f["source"] for f in loaded["manifest"]["files"])
    for source, event in mats.items():
        meta = event.materialization.metadata
        assert meta["files_new"].value == n_files[source], source
        assert meta["files_quarantined"].value == 0
        assert meta["academic_years"].value == ", ".join(years[source])
        # what the planner compares the next night with: one fingerprint per year folder
        assert set(meta["inbox_fingerprint"].value) == set(years[source])


def test_second_ingest_changes_nothing(loaded):
    assert loaded["checksums_2"] == loaded["checksums_1"]
    tables = set(loaded["checksums_1"])
    assert {"ege", "oge", "vpr", "vpr_tasks", "rpr", "rpr_tasks", "schools", "olympiad",
            "literacy", "_file_registry"} <= tables
    statuses = Counter(f.status for r in loaded["second"].values() for f in r.files)
    assert statuses == Counter(unchanged=len(loaded["manifest"]["files"]))
    assert sum(r.rows_loaded for r in loaded["second"].values()) == 0
