"""The local event log with open connections (orchestration/event_log.py) writes what Dagster's
own SQLite event log writes: a run of many check results is read back in full by the plain
storage, the checks' latest evaluations are indexed, and the storage keeps a bounded number of
open databases."""

from __future__ import annotations

import dagster as dg
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from rsoko_pipelines.orchestration.event_log import ENGINES_KEPT, PooledSqliteEventLogStorage

CHECKS = 60


@dg.asset(check_specs=[dg.AssetCheckSpec(name=f"rule_{i}", asset="mart") for i in range(CHECKS)])
def mart():
    yield dg.Output(1)
    for i in range(CHECKS):
        yield dg.AssetCheckResult(check_name=f"rule_{i}", passed=i % 7 != 3, metadata={"i": i})


def test_events_are_dagsters_own_and_connections_bounded(tmp_path):
    runs_dir = tmp_path / "history" / "runs"
    (tmp_path / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\nevent_log_storage:\n"
        "  module: rsoko_pipelines.orchestration.event_log\n"
        "  class: PooledSqliteEventLogStorage\n"
        f"  config:\n    base_dir: \"{runs_dir}\"\n", encoding="utf-8")
    job = dg.Definitions(assets=[mart]).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path))) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        run_ids = [job.execute_in_process(instance=instance).run_id for _ in range(ENGINES_KEPT)]
        written = len(instance.get_records_for_run(run_ids[0], limit=10_000).records)
        assert len(storage._engines) == ENGINES_KEPT   # noqa: SLF001 (index + newest runs)
        assert "index" in storage._engines             # noqa: SLF001

    plain = SqliteEventLogStorage(str(runs_dir))
    try:
        assert len(plain.get_records_for_run(run_ids[0], limit=10_000).records) == written
        checks = plain.get_records_for_run(
            run_ids[-1], of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=1000).records
        failed = [r.event_log_entry.dagster_event.event_specific_data.check_name for r in checks
                  if not r.event_log_entry.dagster_event.event_specific_data.passed]
        assert len(checks) == CHECKS
        assert sorted(failed) == sorted(f"rule_{i}" for i in range(CHECKS) if i % 7 == 3)
        latest = plain.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("mart"), "rule_3")])
        assert latest[dg.AssetCheckKey(dg.AssetKey("mart"), "rule_3")].run_id == run_ids[-1]
    finally:
        plain.dispose()
