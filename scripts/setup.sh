#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs the pinned dependency tree and the package.
# Idempotent: re-running on a set-up machine takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "rsoko setup: creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.rsoko-installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "rsoko setup: installing pinned packages (requirements.lock)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi
# RSOKO_PRODUCTION=1: also the production packages (PostgreSQL storage of deploy/dagster.yaml)
if [ "${RSOKO_PRODUCTION:-0}" = 1 ] && ! .venv/bin/python -c "import dagster_postgres" 2>/dev/null; then
  echo "rsoko setup: installing production packages (deploy/requirements-production.txt)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r deploy/requirements-production.txt
fi
# dbt: the project uses no dbt packages (the dbt hub is unreachable from our machines), so
# `dbt deps` has nothing to install; it runs only if a packages.yml ever appears.
if [ -f dbt_project/packages.yml ]; then
  (cd dbt_project && ../.venv/bin/dbt deps --profiles-dir .)
fi
echo "rsoko setup: ready (.venv)"
