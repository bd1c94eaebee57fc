"""The nightly schedule: 02:00 Moscow time, the same plan as the inbox sensor (only the
academic years with new or changed files; a quiet night requests nothing). The publish
sensor publishes once those runs have succeeded."""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.jobs import nightly_job

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/Moscow"


@dg.schedule(cron_schedule=NIGHTLY_CRON, execution_timezone=TIMEZONE, job=nightly_job,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Nightly load at 02:00 Europe/Moscow of every changed source × "
                         "academic-year partition.")
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    from rsoko_pipelines.sensors import year_run_requests

    requests, notes = year_run_requests(context.instance, context.repository_def.asset_graph)
    return requests or dg.SkipReason("; ".join(notes))
