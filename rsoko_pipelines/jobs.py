"""Jobs an operator (or the nightly command) runs.

- `reference_data`: the reference seeds (not partitioned; rebuilt when the seeds change);
- `nightly_load`: raw landing → dbt staging → intermediate → core, one run per academic
  year partition. Blocking checks on the raw assets stop a year's models when a file of
  that night was quarantined."""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.partitions import ACADEMIC_YEARS

REFERENCE = dg.AssetSelection.groups("reference")

reference_job = dg.define_asset_job(
    "reference_data", selection=REFERENCE,
    description="Reference data (dbt seeds): score scales, mark boundaries, subjects, catalogue.")

nightly_job = dg.define_asset_job(
    "nightly_load",
    selection=dg.AssetSelection.all() - REFERENCE,
    partitions_def=ACADEMIC_YEARS,
    description="Ingest, validate and transform one academic year.")
