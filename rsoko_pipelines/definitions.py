"""The one Dagster code location. Built lazily by `@dg.definitions`: importing this
module costs nothing; the dbt manifest and assets are only built when Dagster loads it."""

from __future__ import annotations

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    from rsoko_pipelines.assets.dbt import build_marts_assets, build_dbt_assets, build_reference_assets
    from rsoko_pipelines.assets.publish import build_publish_asset
    from rsoko_pipelines.assets.raw import build_raw_assets
    from rsoko_pipelines.jobs import nightly_job, publish_job, reference_job
    from rsoko_pipelines.resources.dbt import dbt_resource
    from rsoko_pipelines.schedules import nightly_schedule
    from rsoko_pipelines.sensors import inbox_sensor, publish_sensor

    file_registry = dg.AssetSpec(
        ["raw", "file_registry"], group_name="raw", kinds={"duckdb"},
        description="raw._file_registry: every extract file seen (sha256, slice, rows, "
                    "status); written by the raw landing assets.")
    marts = build_marts_assets()
    return dg.Definitions(
        assets=[*build_raw_assets(), file_registry, build_reference_assets(),
                build_dbt_assets(), marts, build_publish_asset(marts.keys)],
        jobs=[reference_job, nightly_job, publish_job],
        schedules=[nightly_schedule],
        sensors=[inbox_sensor, publish_sensor],
        resources={"dbt": dbt_resource()},
    )
