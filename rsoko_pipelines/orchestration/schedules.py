"""The nightly schedule: 02:00 Moscow time, the same plan as `rsoko nightly` and the inbox
sensor (night/plan.py). A quiet night requests nothing."""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.orchestration.jobs import nightly_job

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/Moscow"


@dg.schedule(cron_schedule=NIGHTLY_CRON, execution_timezone=TIMEZONE, job=nightly_job,
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="The night at 02:00 Europe/Moscow: every changed source, one run.")
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    from rsoko_pipelines.night.plan import plan_night

    plan = plan_night(context.instance)
    if plan.empty or plan.in_flight:
        return dg.SkipReason(plan.describe())
    return plan.run_request(trigger="schedule",
                            run_key=f"{plan.key}:{context.scheduled_execution_time:%Y%m%d}",
                            asset_graph=context.repository_def.asset_graph)
