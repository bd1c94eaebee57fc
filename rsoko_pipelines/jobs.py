"""Jobs an operator (the schedule, the sensors, or the nightly command) runs.

- `nightly_load`: one academic year — its new raw files → GX checks → dbt staging →
  intermediate → core; the reference seeds too when they changed. The schedule and the
  inbox sensor select only the changed sources and what is downstream of them
  (rsoko_pipelines.planning). A blocking check on a raw asset stops that year's models.
- `publish_marts`: the marts over every year, their dbt tests, then the published copy;
  requested once the night's year runs have all succeeded (publish sensor / nightly command).
- `reference_data`: the reference seeds alone (an operator's manual refresh)."""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.partitions import ACADEMIC_YEARS

REFERENCE = dg.AssetSelection.groups("reference")
YEAR_ASSETS = dg.AssetSelection.groups("reference", "raw", "staging", "intermediate", "core")
PUBLISH_ASSETS = dg.AssetSelection.groups("marts", "published")

reference_job = dg.define_asset_job(
    "reference_data", selection=REFERENCE,
    description="Reference data (dbt seeds): score scales, mark boundaries, subjects, catalogue.")

nightly_job = dg.define_asset_job(
    "nightly_load",
    selection=YEAR_ASSETS,
    partitions_def=ACADEMIC_YEARS,
    description="Ingest, validate and transform one academic year (changed sources only "
                "when started by the schedule, the inbox sensor or `rsoko nightly`).")

publish_job = dg.define_asset_job(
    "publish_marts",
    selection=PUBLISH_ASSETS,
    description="Rebuild the marts over every year, test them, publish a new read-only "
                "version for analysts (DuckDB + Parquet).")
