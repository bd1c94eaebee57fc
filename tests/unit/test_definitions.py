"""The code location loads the way `dagster dev` / `dagster-webserver` load it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from tests._project import mart_names

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
    from rsoko_pipelines.orchestration.names import WAREHOUSE_POOL
    from rsoko_pipelines.quality.check_groups import check_groups

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for source in SOURCES:
        assert {f"inbox/{source}", f"raw/{source}"} <= keys
        raw = graph.get(dg.AssetKey(["raw", source]))
        # the inbox folder is where the lineage starts; results are checked against schools
        assert dg.AssetKey(["inbox", source]) in raw.parent_keys
        assert (dg.AssetKey(["raw", "schools"]) in raw.parent_keys) == (source != "schools")
        assert raw.partitions_def is None                 # one step per source, every year
        inbox = graph.get(dg.AssetKey(["inbox", source]))
        assert inbox.is_external and not inbox.parent_keys
        # one check per file column (quality/check_groups.py), never an opaque suite check
        checks = {c.name for c in graph.asset_check_keys
                  if c.asset_key == dg.AssetKey(["raw", source])}
        assert checks == {g.name for g in check_groups(source)}, source
        assert "great_expectations" not in checks and "file_contract" in checks
    assert {"staging/stg_ege", "core/fct_assessment_result", "core/dim_school",
            "reference/ref_subjects", "raw/file_registry", "marts/data_status"} <= keys
    ege_checks = {c.name for c in graph.asset_check_keys
                  if c.asset_key == dg.AssetKey(["raw", "ege"])}
    assert {"file_contract", "title_line", "test_score", "gia_school_code",
            "unique_rows"} <= ege_checks
    # the release step is a real asset between every landing and the models
    registry = graph.get(dg.AssetKey(["raw", "file_registry"]))
    assert registry.is_materializable
    assert registry.parent_keys == {dg.AssetKey(["raw", s]) for s in SOURCES}
    # dbt sources are wired onto the raw landing assets: one lineage graph
    stg_vpr = graph.get(dg.AssetKey(["staging", "stg_vpr"]))
    assert {dg.AssetKey(["raw", "vpr"]), dg.AssetKey(["raw", "file_registry"])} <= \
        stg_vpr.parent_keys
    assert {j.name for j in definitions.jobs} == {"nightly", "reference_data", "publish_marts"}
    # nothing is partitioned any more
    assert not any(graph.get(k).partitions_def for k in graph.get_all_asset_keys())
    # marts: fed by core, feeding the published copy, with freshness
    indicators = graph.get(dg.AssetKey(["marts", "indicators"]))
    assert indicators.freshness_policy is not None
    published = graph.get(dg.AssetKey(["published", "marts"]))
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert {k.path[-1] for k in marts} == mart_names() and published.parent_keys == marts
    stg_deficits_elements = graph.get(dg.AssetKey(["staging", "stg_deficits_elements"]))
    assert dg.AssetKey(["raw", "deficits"]) in stg_deficits_elements.parent_keys
    # the 02:00 Moscow schedule and the inbox sensor, on by default (no publish sensor:
    # publishing is the night's last step)
    schedule = definitions.resolve_schedule_def("nightly_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Europe/Moscow")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "nightly"
    assert {s.name for s in definitions.sensors} == {"inbox_sensor"}
    assert definitions.resolve_sensor_def("inbox_sensor").default_status == \
        dg.DefaultSensorStatus.RUNNING
    # every warehouse writer shares the single-writer pool
    for key in (dg.AssetKey(["raw", "ege"]), dg.AssetKey(["raw", "file_registry"]),
                dg.AssetKey(["core", "fct_assessment_result"]),
                dg.AssetKey(["marts", "indicators"]), dg.AssetKey(["published", "marts"])):
        assert graph.get(key).pools == {WAREHOUSE_POOL}, key


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
