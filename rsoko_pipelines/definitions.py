"""The one Dagster code location. Built lazily by `@dg.definitions`: importing this
module costs nothing; the dbt manifest and assets are only built when Dagster loads it."""

from __future__ import annotations

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    from rsoko_pipelines.assets.raw import build_raw_assets

    return dg.Definitions(assets=[*build_raw_assets()])
