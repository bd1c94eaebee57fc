#!/usr/bin/env bash
# The Dagster UI of the local deployment: webserver + daemon (`dagster dev`), so the schedule
# and the sensors run too, on the same instance as `rsoko nightly` (DAGSTER_HOME, default
# $RSOKO_DATA_DIR/dagster_home = var/dagster_home). Writes the local dagster.yaml if missing.
#   bash scripts/ui.sh                  # http://localhost:3000
#   RSOKO_UI_PORT=3100 bash scripts/ui.sh
# Production runs the webserver and the daemon as services instead: docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/dagster ] || bash scripts/setup.sh
DAGSTER_HOME="$(.venv/bin/python -c '
from rsoko_pipelines.night.command import prepare_dagster_home
from rsoko_pipelines.settings import Settings
settings = Settings.from_env().ensure_dirs()
prepare_dagster_home(settings)
print(settings.dagster_home)')"
export DAGSTER_HOME
echo "rsoko ui: DAGSTER_HOME=$DAGSTER_HOME, http://localhost:${RSOKO_UI_PORT:-3000}"
exec .venv/bin/dagster dev -w workspace.yaml -h "${RSOKO_UI_HOST:-0.0.0.0}" -p "${RSOKO_UI_PORT:-3000}"
