#!/usr/bin/env bash
# The Dagster UI of the local deployment: the webserver and the daemon (so the schedule and
# the sensor run too), on the same instance as `rsoko nightly` (DAGSTER_HOME, default
# $RSOKO_DATA_DIR/dagster_home = var/dagster_home). Writes the local dagster.yaml if missing.
#   bash scripts/ui.sh                  # http://localhost:3000
#   RSOKO_UI_PORT=3100 bash scripts/ui.sh
# Stops within seconds on Ctrl-C or SIGTERM: both processes and their code servers get
# SIGTERM, the webserver closes the browsers' open connections after RSOKO_UI_SHUTDOWN_GRACE s
# (default 2, scripts/webserver.py; `dagster dev` waited for them for over a minute), and
# whatever still runs after RSOKO_UI_STOP_TIMEOUT s (default 7) is killed.
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
# Create the instance storage once, before the two processes open it: started together on
# an empty DAGSTER_HOME they race to create its tables (`dagster dev` did this in its parent).
.venv/bin/python -c '
import os
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef
DagsterInstance.from_ref(InstanceRef.from_dir(os.environ["DAGSTER_HOME"])).dispose()'
host="${RSOKO_UI_HOST:-0.0.0.0}"
port="${RSOKO_UI_PORT:-3000}"
stop_timeout="${RSOKO_UI_STOP_TIMEOUT:-7}"
export RSOKO_UI_SHUTDOWN_GRACE="${RSOKO_UI_SHUTDOWN_GRACE:-2}"
echo "rsoko ui: DAGSTER_HOME=$DAGSTER_HOME, http://localhost:$port (pid $$; Ctrl-C stops)"

.venv/bin/python scripts/webserver.py -w workspace.yaml -h "$host" -p "$port" &
webserver=$!
.venv/bin/dagster-daemon run -w workspace.yaml &
daemon=$!

# The two processes and their children (each starts a code server), by parent id.
family() { echo "$webserver" "$daemon" $(pgrep -P "$webserver,$daemon" 2>/dev/null || true); }
# Still running: not gone and not a zombie (an exited child of this script stays one until
# the `wait` below reaps it; `kill -0` would count it as alive until the deadline).
alive() {
  local pid state
  for pid in "$@"; do
    state="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
    if [ -n "$state" ] && [ "${state:0:1}" != Z ]; then echo "$pid"; fi
  done
  true
}

stop() {
  trap '' TERM INT
  local pids left deadline
  # a wall-clock deadline (µs): on a busy machine each round of the loop takes longer than
  # its 0.1 s sleep, so counting rounds overshot the timeout by seconds
  deadline=$(( ${EPOCHREALTIME//[!0-9]/} + stop_timeout * 1000000 ))
  # the code servers too, at once: each needs seconds to stop, in parallel that is seconds
  # in all (the daemon would ask its own only once its threads are down)
  pids="$(family)"
  kill -TERM $pids 2>/dev/null || true
  while left="$(alive $pids)" && [ -n "$left" ]; do
    if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$deadline" ]; then
      # by then the code servers have stopped serving and hold nothing: what may remain is
      # their interpreter's teardown on a busy machine
      echo "rsoko ui: still running after ${stop_timeout} s, killing:" >&2
      ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" >&2 || true
      kill -KILL $left 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  wait "$webserver" "$daemon" 2>/dev/null || true
}

# Background processes of a script ignore SIGINT: the trap turns Ctrl-C into SIGTERM for them.
trap 'echo "rsoko ui: stopping"; stop; echo "rsoko ui: stopped"; exit 0' TERM INT
status=0
wait -n "$webserver" "$daemon" || status=$?
echo "rsoko ui: a process ended by itself (exit $status); stopping the other" >&2
stop
exit 1
