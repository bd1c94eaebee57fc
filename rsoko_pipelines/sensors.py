"""The inbox sensor and the publish sensor (the daemon evaluates them; `scripts/ui.sh` or
the production services run the daemon).

- `inbox_sensor` (every 2 minutes): requests a `nightly_load` run for each academic year
  whose inbox folders changed (rsoko_pipelines.planning) — files delivered during the day
  are loaded within minutes; a quiet inbox requests nothing.
- `publish_sensor` (every minute): once no load is running and every year loaded since the
  last publication ended in success, requests `publish_marts`. A failed year keeps the
  previous published version until a later run of that year succeeds.
Both are on by default (DefaultSensorStatus.RUNNING): a fresh deployment works unattended.
"""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.jobs import nightly_job, publish_job
from rsoko_pipelines.partitions import ACADEMIC_YEARS
from rsoko_pipelines.planning import IN_FLIGHT, NIGHTLY_JOB, PUBLISH_JOB, PARTITION_TAG


def year_run_requests(instance: dg.DagsterInstance, asset_graph) -> tuple[list, list[str]]:
    """RunRequests for every stale year (shared with the 02:00 schedule), and a log line."""
    from rsoko_pipelines.planning import inbox_fingerprints, plan_night, run_selection
    from rsoko_pipelines.settings import Settings

    settings = Settings.from_env()
    years = sorted(inbox_fingerprints(settings))
    known = set(instance.get_dynamic_partitions(ACADEMIC_YEARS.name))
    new_years = [y for y in years if y not in known]
    if new_years:
        instance.add_dynamic_partitions(ACADEMIC_YEARS.name, new_years)
    plan = plan_night(instance, settings)
    requests = [
        dg.RunRequest(
            run_key=year.run_key(plan.seeds),
            partition_key=year.academic_year,
            asset_selection=sorted(run_selection(year).resolve(asset_graph),
                                   key=lambda k: k.to_user_string()),
            tags=year.tags(plan.seeds),
        )
        for year in plan.years
    ]
    return requests, [plan.describe()] + (
        [f"already running: {', '.join(plan.in_flight)}"] if plan.in_flight else [])


@dg.sensor(job=nightly_job, minimum_interval_seconds=120,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Requests a nightly_load run for each academic year whose inbox "
                       "folders have new or changed files.")
def inbox_sensor(context: dg.SensorEvaluationContext):
    requests, notes = year_run_requests(context.instance, context.repository_def.asset_graph)
    if not requests:
        return dg.SkipReason("; ".join(notes))
    context.log.info("; ".join(notes))
    return requests


@dg.sensor(job=publish_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Publishes the marts once the loads since the last publication "
                       "have all succeeded and none is running.")
def publish_sensor(context: dg.SensorEvaluationContext):
    run_key, why = publish_decision(context.instance)
    return dg.RunRequest(run_key=run_key) if run_key else dg.SkipReason(why)


def publish_decision(instance: dg.DagsterInstance) -> tuple[str | None, str]:
    """(run key, why): the run key is the newest load's run id when a publication is due,
    None otherwise. Shared with `rsoko nightly`, so a night killed between its loads and
    its publication publishes on the next start even when the inbox has nothing new."""
    for job in (NIGHTLY_JOB, PUBLISH_JOB):
        if instance.get_run_ids(dg.RunsFilter(job_name=job, statuses=IN_FLIGHT), limit=1):
            return None, f"a {job} run is in progress"
    published = instance.get_run_records(
        dg.RunsFilter(job_name=PUBLISH_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    since = published[0].create_timestamp if published else None
    loads = instance.get_run_records(dg.RunsFilter(
        job_name=NIGHTLY_JOB, statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
                                        dg.DagsterRunStatus.CANCELED],
        created_after=since))
    newest: dict[str, object] = {}
    for record in loads:   # newest first
        newest.setdefault(record.dagster_run.tags.get(PARTITION_TAG, "?"), record)
    if not newest:
        return None, "no load since the last publication"
    failed = [(year, r.dagster_run.run_id) for year, r in newest.items()
              if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
    if failed:
        return None, ("published version kept: the latest load of " + ", ".join(
            f"{year} (run {run_id[:8]})" for year, run_id in sorted(failed)) + " failed")
    newest_run = max(newest.values(), key=lambda r: r.create_timestamp).dagster_run
    return newest_run.run_id, f"{len(newest)} academic year(s) loaded since the last publication"
