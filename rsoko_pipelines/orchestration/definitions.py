"""The one Dagster Definitions object: inbox → raw → release → staging → intermediate →
core → marts → published, the jobs, the schedule and the sensor."""

from __future__ import annotations

import dagster as dg


def build_definitions() -> dg.Definitions:
    from rsoko_pipelines.orchestration.dbt_assets import (build_marts_asset, build_models_asset,
                                                          build_reference_asset)
    from rsoko_pipelines.orchestration.jobs import (EXECUTOR, nightly_job, publish_job,
                                                    reference_job)
    from rsoko_pipelines.orchestration.publish_asset import build_publish_asset
    from rsoko_pipelines.orchestration.raw_assets import build_inbox_specs, build_raw_assets
    from rsoko_pipelines.orchestration.release_asset import build_release_asset
    from rsoko_pipelines.orchestration.resources import dbt_resource
    from rsoko_pipelines.orchestration.schedules import nightly_schedule
    from rsoko_pipelines.orchestration.sensors import inbox_sensor

    marts = build_marts_asset()
    return dg.Definitions(
        assets=[*build_inbox_specs(), *build_raw_assets(), build_release_asset(),
                build_reference_asset(), build_models_asset(), marts,
                build_publish_asset(marts.keys)],
        jobs=[nightly_job, publish_job, reference_job],
        schedules=[nightly_schedule],
        sensors=[inbox_sensor],
        resources={"dbt": dbt_resource()},
        executor=EXECUTOR,
    )
