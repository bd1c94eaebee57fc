"""The code location loads the way `dagster dev` / `dagster-webserver` load it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from rsoko_pipelines.settings import REPO_ROOT, SOURCES

DAGSTER = str(Path(sys.executable).parent / "dagster")


def test_import_is_cheap():
    """Importing the module must not build dbt or touch the warehouse (checked by what it
    imports, not by a timing that depends on the machine's load)."""
    code = ("import sys; import rsoko_pipelines.definitions; "
            "print('dagster_dbt' in sys.modules, 'great_expectations' in sys.modules, "
            "'duckdb' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO_ROOT).stdout.split()
    assert out == ["False", "False", "False", "False"]


def test_definitions_have_every_layer():
    from rsoko_pipelines.definitions import defs

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for source in SOURCES:
        assert f"raw/{source}" in keys
    assert {"staging/stg_ege", "core/fct_assessment_result", "core/dim_school",
            "reference/ref_subjects"} <= keys
    # dbt sources are wired onto the raw landing assets: one lineage graph
    stg_vpr = graph.get(dg.AssetKey(["staging", "stg_vpr"]))
    assert dg.AssetKey(["raw", "vpr"]) in stg_vpr.parent_keys
    checks = {c.name for c in graph.asset_check_keys if c.asset_key == dg.AssetKey(["raw", "ege"])}
    assert checks == {"great_expectations"}
    assert {j.name for j in definitions.jobs} >= {"nightly_load", "reference_data",
                                                  "publish_marts"}
    # marts: not partitioned, fed by core, feeding the published copy, with freshness
    indicators = graph.get(dg.AssetKey(["marts", "indicators"]))
    assert indicators.partitions_def is None
    assert indicators.freshness_policy is not None
    published = graph.get(dg.AssetKey(["published", "marts"]))
    assert dg.AssetKey(["marts", "indicators"]) in published.parent_keys
    assert len(published.parent_keys) == 9 + 7    # + the 7 marts of directions 4 and 9
    # the 02:00 Moscow schedule and the two sensors, on by default
    schedule = definitions.resolve_schedule_def("nightly_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Europe/Moscow")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert {s.name for s in definitions.sensors} == {"inbox_sensor", "publish_sensor"}
    # every warehouse writer shares the single-writer pool
    for key in (dg.AssetKey(["raw", "ege"]), dg.AssetKey(["core", "fct_assessment_result"]),
                dg.AssetKey(["marts", "indicators"]), dg.AssetKey(["published", "marts"])):
        assert graph.get(key).pools == {"duckdb_writer"}, key


def test_workspace_validates_with_the_dagster_cli(tmp_path):
    started = time.perf_counter()
    result = subprocess.run(
        [DAGSTER, "definitions", "validate", "-w", str(REPO_ROOT / "workspace.yaml")],
        capture_output=True, text=True, cwd=REPO_ROOT,
        env={**__import__("os").environ, "DAGSTER_HOME": str(tmp_path)})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "All code locations passed validation" in output
    assert time.perf_counter() - started < 120
