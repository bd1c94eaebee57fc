"""Names shared by the Dagster wiring, the night and the tests: jobs, tags, pools, groups.

One place, so that a job renamed here is renamed everywhere (the UI, the planner, the
reports and the tests all look runs up by these names)."""

from __future__ import annotations

NIGHTLY_JOB = "nightly"            # the night: ingest → release → star → marts → publish
PUBLISH_JOB = "publish_marts"      # marts and publication only (an operator's re-publish)
REFERENCE_JOB = "reference_data"   # the reference seeds only

# DuckDB has one writer: every step that writes (or, to publish, reads) the warehouse runs
# in this pool, limit 1 (dagster.yaml); analysts read the published copy.
WAREHOUSE_POOL = "duckdb_writer"

# Run tags: short, so a run row in the UI stays one line.
TRIGGER_TAG = "rsoko/trigger"      # manual | schedule | sensor
PLAN_TAG = "rsoko/plan"            # the plan's key (a hash of what the night must load)
COMPLETE_TAG = "rsoko/complete"    # set by the night's last step: published <v>
PID_TAG = "rsoko/pid"              # `rsoko nightly` runs the night in its own process:
HOST_TAG = "rsoko/host"            # a run whose process is gone is released (night/launch.py)

# Asset groups, in the order the data flows.
GROUP_INBOX, GROUP_RAW, GROUP_REFERENCE = "inbox", "raw", "reference"
GROUP_STAGING, GROUP_INTERMEDIATE, GROUP_CORE = "staging", "intermediate", "core"
GROUP_MARTS, GROUP_PUBLISHED = "marts", "published"

# Step names (op names of the multi-assets), used by the night report's stages.
DBT_REFERENCE_OP = "rsoko_dbt_reference"
DBT_MODELS_OP = "rsoko_dbt_models"
DBT_MARTS_OP = "rsoko_dbt_marts"

# Materialisation metadata keys the planner reads back.
INBOX_FINGERPRINT_KEY = "inbox_fingerprint"     # raw/<source>: {year: fingerprint} after ingest
STATE_KEY = "night_state"                       # published/marts: what this publication covers
