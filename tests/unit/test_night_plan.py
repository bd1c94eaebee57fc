"""The night's planner (rsoko_pipelines/night/plan.py) on an ephemeral Dagster instance: what
`rsoko nightly`, the 02:00 schedule and the inbox sensor decide from the inbox and from what
the landing and publish steps recorded in the instance."""

from __future__ import annotations

import datetime
import os
import time

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from rsoko_pipelines import inbox
from rsoko_pipelines.night.plan import plan_night
from rsoko_pipelines.orchestration.names import (COMPLETE_TAG, INBOX_FINGERPRINT_KEY,
                                                 NIGHTLY_JOB, PLAN_TAG, STATE_KEY, TRIGGER_TAG)
from rsoko_pipelines.orchestration.resources import project_fingerprint
from rsoko_pipelines.settings import SOURCES, Settings

PUBLISHED = dg.AssetKey(["published", "marts"])


@pytest.fixture(scope="module")
def definitions():
    from rsoko_pipelines.definitions import defs

    return defs()


@pytest.fixture()
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("RSOKO_DATA_DIR", str(tmp_path / "data"))
    for var in ("RSOKO_INBOX_DIR", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    s = Settings.from_env().ensure_dirs()
    for rel in ("ege/2024/01.csv", "ege/2025/01.csv", "ege/2025/02.csv", "vpr/2025/rus4.xlsx"):
        path = s.inbox_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rel.encode())
    return s


@pytest.fixture()
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def _landed(instance, settings, *sources) -> None:
    """What a landing step records after its ingest: the folder's fingerprints per year."""
    for source in sources:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key=dg.AssetKey(["raw", source]), metadata={
                INBOX_FINGERPRINT_KEY: dg.MetadataValue.json(
                    inbox.source_fingerprints(settings.inbox_dir, source))}))


def _published(instance, settings, dbt_project: str | None = None) -> None:
    """What the publish step records: the state the publication covers."""
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=PUBLISHED, metadata={
        STATE_KEY: dg.MetadataValue.json({"inbox": {}, "dbt_project": dbt_project
                                          or project_fingerprint()})}))


def _night(instance, status, tags=None) -> str:
    return create_run_for_test(instance, job_name=NIGHTLY_JOB, status=status,
                               tags=tags or {}).run_id


def _keys(plan, definitions) -> set[str]:
    graph = definitions.resolve_asset_graph()
    return {k.to_user_string() for k in plan.asset_selection().resolve(graph)}


def test_nothing_delivered_nothing_recorded_plans_nothing(instance, settings):
    for child in settings.inbox_dir.iterdir():
        os.rename(child, settings.data_dir / child.name)
    plan = plan_night(instance, settings)
    assert plan.empty and not plan.project_changed and plan.retry is None
    assert plan.describe() == "nothing new in the inbox"


def test_cold_night_loads_every_delivered_source_and_the_reference(instance, settings,
                                                                   definitions):
    plan = plan_night(instance, settings)
    assert set(plan.sources) == {"ege", "vpr"}
    assert plan.sources["ege"] == inbox.source_fingerprints(settings.inbox_dir, "ege")
    assert set(plan.sources["ege"]) == {"2024", "2025"}
    assert plan.changed_years == {"ege": ["2024", "2025"], "vpr": ["2025"]}
    assert plan.project_changed and plan.retry is None and not plan.in_flight
    assert plan.describe() == (
        "new or changed files: ege (2024, 2025), vpr (2025); the models or the reference "
        "data changed: reference data reloaded, every model rebuilt")
    keys = _keys(plan, definitions)
    assert {"raw/ege", "raw/vpr", "raw/file_registry", "reference/ref_subjects",
            "staging/stg_vpr", "core/fct_assessment_result", "marts/indicators",
            "published/marts"} <= keys
    assert not keys & {f"raw/{s}" for s in SOURCES if s not in ("ege", "vpr")}
    assert not any(k.startswith("inbox/") for k in keys)
    assert plan.tags("manual") == {TRIGGER_TAG: "manual", PLAN_TAG: plan.key}


def test_changed_sources_come_from_the_recorded_fingerprints(instance, settings, definitions):
    _landed(instance, settings, "ege", "vpr")
    _published(instance, settings)
    quiet = plan_night(instance, settings)
    assert quiet.empty and quiet.describe() == "nothing new in the inbox"
    # files that are not extracts change nothing
    (settings.inbox_dir / "ege" / "2025" / "~$01.csv").write_bytes(b"lock")
    (settings.inbox_dir / "vpr" / "2025" / "rus5.xlsx.part").write_bytes(b"half")
    assert plan_night(instance, settings).empty
    # a new ВПР file: ВПР only, and only its year changed; no reference, no other source
    (settings.inbox_dir / "vpr" / "2025" / "math5.xlsx").write_bytes(b"new")
    plan = plan_night(instance, settings)
    assert list(plan.sources) == ["vpr"] and plan.changed_years == {"vpr": ["2025"]}
    assert not plan.project_changed and plan.retry is None
    keys = _keys(plan, definitions)
    assert "raw/vpr" in keys and "raw/ege" not in keys
    assert not any(k.startswith("reference/") for k in keys)
    assert {"raw/file_registry", "core/fct_assessment_result", "published/marts"} <= keys
    # a touched ЕГЭ file of 2024 (same name and size, new mtime): ЕГЭ 2024 changed
    path = settings.inbox_dir / "ege" / "2024" / "01.csv"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    plan = plan_night(instance, settings)
    assert plan.changed_years == {"ege": ["2024"], "vpr": ["2025"]}
    # the landing records the folders as they are after its ingest: quiet again
    _landed(instance, settings, "ege", "vpr")
    assert plan_night(instance, settings).empty


def test_a_deploy_that_changes_the_dbt_project_rebuilds_and_reloads_the_reference(
        instance, settings, definitions):
    _landed(instance, settings, "ege", "vpr")
    _published(instance, settings, dbt_project="0" * 20)
    plan = plan_night(instance, settings)
    assert plan.project_changed and not plan.sources and not plan.empty
    assert plan.describe() == ("the models or the reference data changed: reference data "
                               "reloaded, every model rebuilt")
    keys = _keys(plan, definitions)
    assert "reference/ref_subjects" in keys and not any(
        k in keys for k in (f"raw/{s}" for s in SOURCES))


def test_an_incomplete_night_is_retried_a_complete_one_is_not(instance, settings):
    _landed(instance, settings, "ege", "vpr")
    _published(instance, settings)
    ok = _night(instance, dg.DagsterRunStatus.SUCCESS, {COMPLETE_TAG: "published v1"})
    assert plan_night(instance, settings).empty
    failed = _night(instance, dg.DagsterRunStatus.FAILURE)
    plan = plan_night(instance, settings)
    assert plan.retry == f"retry: the night {failed[:8]} (failure) did not complete"
    assert not plan.empty and not plan.sources and plan.describe() == plan.retry
    # a night that succeeded without reaching its last step (killed publish) is retried too
    _night(instance, dg.DagsterRunStatus.CANCELED)
    assert "(canceled) did not complete" in plan_night(instance, settings).retry
    # only the latest finished night counts
    _night(instance, dg.DagsterRunStatus.SUCCESS, {COMPLETE_TAG: "published v2"})
    assert plan_night(instance, settings).retry is None
    # runs of other jobs are not nights
    create_run_for_test(instance, job_name="publish_marts", status=dg.DagsterRunStatus.FAILURE)
    assert plan_night(instance, settings).empty
    assert ok


def test_a_night_in_flight_plans_nothing_else(instance, settings, definitions):
    running = _night(instance, dg.DagsterRunStatus.STARTED)
    plan = plan_night(instance, settings)
    assert plan.in_flight == [running] and not plan.sources
    assert plan.describe() == f"a night is already running ({running[:8]})"
    starting = _night(instance, dg.DagsterRunStatus.NOT_STARTED)
    assert sorted(plan_night(instance, settings).in_flight) == sorted([running, starting])
    sensor = definitions.resolve_sensor_def("inbox_sensor")
    result = sensor.evaluate_tick(dg.build_sensor_context(
        instance=instance, repository_def=definitions.get_repository_def()))
    assert result.run_requests == [] and result.skip_message.startswith(
        "a night is already running")


def test_plan_key_is_stable_and_names_the_work(instance, settings):
    first, again = plan_night(instance, settings), plan_night(instance, settings)
    assert first.key == again.key and len(first.key) == 16
    (settings.inbox_dir / "vpr" / "2025" / "math5.xlsx").write_bytes(b"new")
    changed = plan_night(instance, settings)
    assert changed.key != first.key
    # a failed night to retry is part of the work, the run that failed is not
    _night(instance, dg.DagsterRunStatus.FAILURE)
    retry_1 = plan_night(instance, settings)
    _night(instance, dg.DagsterRunStatus.FAILURE)
    retry_2 = plan_night(instance, settings)
    assert retry_1.key != changed.key and retry_1.key == retry_2.key


def _sensor(definitions, instance):
    sensor = definitions.resolve_sensor_def("inbox_sensor")
    return sensor.evaluate_tick(dg.build_sensor_context(
        instance=instance, repository_def=definitions.get_repository_def()))


def test_the_inbox_sensor_requests_the_same_night_under_a_stable_run_key(
        instance, settings, definitions):
    _landed(instance, settings, "ege", "vpr")
    _published(instance, settings)
    quiet = _sensor(definitions, instance)
    assert quiet.run_requests == [] and quiet.skip_message == "nothing new in the inbox"
    (settings.inbox_dir / "vpr" / "2025" / "math5.xlsx").write_bytes(b"new")
    first = _sensor(definitions, instance)
    time.sleep(0.01)
    second = _sensor(definitions, instance)
    [request] = first.run_requests
    plan = plan_night(instance, settings)
    # the same delivery gives the same run key on every tick: the daemon launches it once
    assert request.run_key == second.run_requests[0].run_key == plan.key
    assert request.tags == {TRIGGER_TAG: "sensor", PLAN_TAG: plan.key,
                            "dagster/sensor_name": "inbox_sensor"}
    assert request.job_name in (None, NIGHTLY_JOB)
    # the same keys as the plan's selection (what `rsoko nightly` would run)
    keys = {k.to_user_string() for k in request.asset_selection}
    assert keys == _keys(plan, definitions)
    assert "raw/vpr" in keys and "raw/ege" not in keys and "published/marts" in keys
    # another file: another key
    (settings.inbox_dir / "vpr" / "2025" / "bio5.xlsx").write_bytes(b"newer")
    assert _sensor(definitions, instance).run_requests[0].run_key != request.run_key


def test_the_sensor_leaves_retries_and_deploys_to_the_schedule(settings, definitions):
    """A failing night would be requested every two minutes: the sensor only reacts to
    deliveries; the 02:00 schedule (and `rsoko nightly`) retry and rebuild after a deploy."""
    with dg.instance_for_test() as instance:     # a schedule context needs a persistent one
        _schedule_retries(instance, settings, definitions)


def _schedule_retries(instance, settings, definitions):
    _landed(instance, settings, "ege", "vpr")
    _published(instance, settings, dbt_project="0" * 20)
    _night(instance, dg.DagsterRunStatus.FAILURE)
    plan = plan_night(instance, settings)
    assert plan.project_changed and plan.retry and not plan.sources
    skipped = _sensor(definitions, instance)
    assert skipped.run_requests == [] and skipped.skip_message == plan.describe()
    schedule = definitions.resolve_schedule_def("nightly_schedule")
    at = datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.timezone.utc)
    with dg.build_schedule_context(instance=instance,
                                   repository_def=definitions.get_repository_def(),
                                   scheduled_execution_time=at) as context:
        data = schedule.evaluate_tick(context)
    [request] = data.run_requests
    # one request per plan and night: the schedule retries a failing night once a night
    assert request.run_key == f"{plan.key}:20261201"
    assert "reference/ref_subjects" in {k.to_user_string() for k in request.asset_selection}
    assert request.tags == {TRIGGER_TAG: "schedule", PLAN_TAG: plan.key,
                            "dagster/schedule_name": "nightly_schedule"}
