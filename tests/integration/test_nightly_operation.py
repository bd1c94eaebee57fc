"""Nightly operation on the demo tier XS, through the operators' entry points: the plan,
`rsoko nightly`, the inbox sensor, the 02:00 schedule and the publish sensor, all against
one real Dagster instance, real DuckDB and real dbt.

One deployment goes through the nights in order (the tests of this module depend on each
other's state, so they run in file order on one xdist worker):
cold → quiet night → a new ВПР file → a broken ЕГЭ file → the night after."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import pytest

from tests.conftest import generated_tier, link_tree
from tests.integration import _broken_files as broken

LATEST = "2025"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    mp = pytest.MonkeyPatch()
    settings = broken.use_deployment(mp, root)
    link_tree(generated_tier("XS"), settings.inbox_dir)
    yield settings
    mp.undo()


def _instance():
    return dg.DagsterInstance.get()


def _runs(instance) -> list:
    return [r.dagster_run for r in instance.get_run_records()]


def _materializations(instance) -> int:
    return len(instance.get_event_records(dg.EventRecordsFilter(
        event_type=dg.DagsterEventType.ASSET_MATERIALIZATION)))


def _nightly() -> int:
    from rsoko_pipelines.nightly import run_nightly

    return run_nightly()


def _report(settings) -> dict:
    return json.loads((settings.reports_dir / "nightly" / "latest.json").read_text())


def _current(settings) -> dict:
    from rsoko_pipelines.publish import current_manifest

    return current_manifest(settings.published_dir)


def _defs():
    from rsoko_pipelines.definitions import defs

    return defs()


def _evaluate_sensor(name: str, instance):
    definitions = _defs()
    sensor = definitions.resolve_sensor_def(name)
    context = dg.build_sensor_context(instance=instance,
                                      repository_def=definitions.get_repository_def())
    # the daemon validates requested partition keys against the instance's partitions
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        return sensor.evaluate_tick(context)


def test_cold_night_loads_every_year_and_publishes(deployment):
    assert _nightly() == 0
    instance = _instance()
    runs = _runs(instance)
    loads = sorted(r.tags["dagster/partition"] for r in runs if r.job_name == "nightly_load")
    assert loads == ["2024", "2025"]
    assert [r.job_name for r in runs].count("publish_marts") == 1
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # the first year's run loaded the reference seeds; each run carries its fingerprints
    first = min((r for r in runs if r.job_name == "nightly_load"),
                key=lambda r: r.tags["dagster/partition"])
    assert "rsoko/seeds" in first.tags and "rsoko/inbox_vpr" in first.tags
    report = _report(deployment)
    assert {s for s, v in report["stages"].items() if v > 0} >= {
        "reference", "ingest", "validate", "transform", "marts", "publish"}
    # the published copy equals the warehouse marts, table by table
    manifest = _current(deployment)
    from rsoko_pipelines.publish import published_database, table_checksum

    warehouse = duckdb.connect(str(deployment.warehouse_path), read_only=True)
    published = duckdb.connect(str(published_database(deployment.published_dir)),
                               read_only=True)
    try:
        tables = [t for (t,) in warehouse.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()]
        assert len(tables) == 16   # 9 + 5 (issue 17) + recommendations, measure_effects (issue 19)
        for table in tables:
            assert (table_checksum(published, f"marts.{table}")
                    == table_checksum(warehouse, f"marts.{table}")), table
            assert manifest["tables"][table]["rows"] == warehouse.execute(
                f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
    finally:
        warehouse.close()
        published.close()
    assert len(manifest["source_files"]) == len(json.loads(
        (generated_tier("XS") / "manifest.json").read_text())["files"])


def test_quiet_night_materialises_nothing(deployment):
    instance = _instance()
    runs_before, events_before = len(_runs(instance)), _materializations(instance)
    version_before = _current(deployment)["version"]
    assert _nightly() == 0
    assert len(_runs(instance)) == runs_before
    assert _materializations(instance) == events_before
    assert _report(deployment)["runs"] == []
    assert _current(deployment)["version"] == version_before
    # the daemon's view of the same night: nothing to request
    for name in ("inbox_sensor", "publish_sensor"):
        result = _evaluate_sensor(name, instance)
        assert result.run_requests == [], name
        assert result.skip_message, name
    definitions = _defs()
    schedule = definitions.resolve_schedule_def("nightly_schedule")
    with dg.build_schedule_context(instance=instance,
                                   repository_def=definitions.get_repository_def()) as context:
        data = schedule.evaluate_tick(context)
    assert data.run_requests == []
    assert "nothing new" in data.skip_message


def test_new_vpr_file_requests_only_its_year_and_source(deployment):
    instance = _instance()
    folder = deployment.inbox_dir / "vpr" / LATEST
    source = sorted(p for p in folder.rglob("*.xlsx"))[0]
    shutil.copy(source, folder / ("extra_" + source.name))   # same bytes, new name
    result = _evaluate_sensor("inbox_sensor", instance)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.partition_key == LATEST
    keys = {k.to_user_string() for k in request.asset_selection}
    assert {"raw/vpr", "staging/stg_vpr", "core/fct_assessment_result"} <= keys
    assert not keys & {"raw/ege", "raw/schools", "staging/stg_ege", "reference/ref_subjects"}
    assert not any(k.startswith(("marts/", "published/")) for k in keys)
    assert request.tags["rsoko/inbox_vpr"]

    version_before = _current(deployment)["version"]
    runs_before = len(_runs(instance))
    assert _nightly() == 0
    new_runs = _runs(instance)[: len(_runs(instance)) - runs_before]
    assert sorted((r.job_name, r.tags.get("dagster/partition")) for r in new_runs) == [
        ("nightly_load", LATEST), ("publish_marts", None)]
    assert _current(deployment)["version"] != version_before
    # the copy was recognised as a duplicate of a loaded file: no rows added
    con = duckdb.connect(str(deployment.warehouse_path), read_only=True)
    try:
        statuses = con.execute(
            "SELECT count(*) FROM raw._file_registry WHERE file_name LIKE 'extra\\_%' "
            "ESCAPE '\\'").fetchall()[0][0]
    finally:
        con.close()
    assert statuses <= 1


def test_broken_file_fails_the_night_and_keeps_the_published_version(deployment, tmp_path):
    instance = _instance()
    case = broken.ege_score_out_of_range(deployment.inbox_dir, int(LATEST), tmp_path)
    target = deployment.inbox_dir / "ege" / LATEST / case.path.name
    shutil.copy(case.path, target)
    version_before = _current(deployment)["version"]

    assert _nightly() == 1
    runs = _runs(instance)
    failed = runs[0]
    assert (failed.job_name, failed.status) == ("nightly_load", dg.DagsterRunStatus.FAILURE)
    evaluations = [e for e in instance.get_event_records(dg.EventRecordsFilter(
        event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=50)
        if e.run_id == failed.run_id]
    failing = [e.event_log_entry.dagster_event.event_specific_data for e in evaluations
               if not e.event_log_entry.dagster_event.event_specific_data.passed]
    assert [(f.asset_key.to_user_string(), f.check_name) for f in failing] == [
        ("raw/ege", "great_expectations")]
    assert case.path.name in failing[0].description        # the check names the file
    assert _current(deployment)["version"] == version_before
    from rsoko_pipelines.sensors import publish_decision

    run_key, why = publish_decision(instance)
    assert run_key is None and "failed" in why and LATEST in why
    assert not target.exists()                               # quarantined, out of the inbox
    assert list((deployment.quarantine_dir / "ege" / LATEST).glob(case.path.name))


def test_night_after_the_failure(deployment, tmp_path):
    """The quarantined file left the inbox, so the inbox is again what was loaded: a quiet
    night, the published version kept. The corrected file then loads and publishes."""
    instance = _instance()
    version_before = _current(deployment)["version"]
    runs_before = len(_runs(instance))
    assert _nightly() == 0
    assert len(_runs(instance)) == runs_before
    assert _current(deployment)["version"] == version_before

    fixed = broken.ege_score_out_of_range(deployment.inbox_dir, int(LATEST), tmp_path, score=77)
    shutil.copy(fixed.path, deployment.inbox_dir / "ege" / LATEST / "ege_corrected.csv")
    assert _nightly() == 0
    latest = _runs(instance)[:2]
    assert sorted((r.job_name, r.tags.get("dagster/partition"), r.status) for r in latest) == [
        ("nightly_load", LATEST, dg.DagsterRunStatus.SUCCESS),
        ("publish_marts", None, dg.DagsterRunStatus.SUCCESS)]
    assert _current(deployment)["version"] != version_before
    con = duckdb.connect(str(deployment.warehouse_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw._file_registry WHERE file_name = "
                           "'ege_corrected.csv' AND status = 'loaded'").fetchall() == [(1,)]
    finally:
        con.close()
