#!/usr/bin/env bash
# README command 2 (and CI): set up, then run the whole test suite on 2 workers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RSOKO_DATA_DIR="${RSOKO_DATA_DIR:-$PWD/var/test}"
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
