"""The inbox sensor (the daemon evaluates it every 2 minutes; `scripts/ui.sh` and the
production services run the daemon): files delivered during the day are loaded within
minutes, by the same plan as the night (night/plan.py). A quiet inbox requests nothing; a
plan that already ran (its key) is not requested again, even when its run failed — the
02:00 schedule and `rsoko nightly` retry it."""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.orchestration.jobs import nightly_job


@dg.sensor(job=nightly_job, minimum_interval_seconds=120,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Requests a night when inbox folders have new or changed files.")
def inbox_sensor(context: dg.SensorEvaluationContext):
    from rsoko_pipelines.night.plan import plan_night

    plan = plan_night(context.instance)
    if plan.empty or plan.in_flight or not plan.sources:
        return dg.SkipReason(plan.describe())
    context.log.info(plan.describe())
    return plan.run_request(trigger="sensor", run_key=plan.key,
                            asset_graph=context.repository_def.asset_graph)
