"""The jobs an operator, the schedule, the sensor or `rsoko nightly` runs.

- `nightly`: the night — the changed sources' landing steps, the release step, the models
  (only the build slices in scope), the marts, the publication. One run per night, whatever
  the number of academic years. The night's plan (night/plan.py) selects the landing steps of
  the sources whose inbox folders changed; every later step decides from the warehouse's state
  what it has to do, so a run started from the UI ("Materialize", "Re-execute") does the same.
- `publish_marts`: the marts and a new publication (an operator's re-publish).
- `reference_data`: the reference seeds alone.

Every job runs its steps in one process (they share the single DuckDB writer anyway), and a
step's failure does not stop the steps after it once its output is recorded: a quarantined
file fails its landing step, yet the rest of the night is released and published.
"""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.orchestration.names import (GROUP_CORE, GROUP_INTERMEDIATE, GROUP_MARTS,
                                                 GROUP_PUBLISHED, GROUP_RAW, GROUP_REFERENCE,
                                                 GROUP_STAGING, NIGHTLY_JOB, PUBLISH_JOB,
                                                 REFERENCE_JOB)

# The executor of every job (also the UI's ad-hoc asset runs, via Definitions(executor=…)).
EXECUTOR = dg.in_process_executor.configured(
    {"step_dependency_config": {"require_upstream_step_success": False}},
    name="in_process_going_on")

NIGHT_ASSETS = dg.AssetSelection.groups(GROUP_REFERENCE, GROUP_RAW, GROUP_STAGING,
                                        GROUP_INTERMEDIATE, GROUP_CORE, GROUP_MARTS,
                                        GROUP_PUBLISHED)
AFTER_LANDING = dg.AssetSelection.groups(GROUP_STAGING, GROUP_INTERMEDIATE, GROUP_CORE,
                                         GROUP_MARTS, GROUP_PUBLISHED) | \
    dg.AssetSelection.assets(dg.AssetKey(["raw", "file_registry"]))

nightly_job = dg.define_asset_job(
    NIGHTLY_JOB, selection=NIGHT_ASSETS, executor_def=EXECUTOR,
    description="The night: landing of the changed sources → release → models → marts → "
                "publication (see night/plan.py for what a night selects).")

publish_job = dg.define_asset_job(
    PUBLISH_JOB, selection=dg.AssetSelection.groups(GROUP_MARTS, GROUP_PUBLISHED),
    executor_def=EXECUTOR,
    description="Rebuild the marts over every year, test them, publish a new read-only "
                "version for analysts (DuckDB + Parquet).")

reference_job = dg.define_asset_job(
    REFERENCE_JOB, selection=dg.AssetSelection.groups(GROUP_REFERENCE), executor_def=EXECUTOR,
    description="Reference data (dbt seeds): score scales, mark boundaries, subjects, catalogue.")
