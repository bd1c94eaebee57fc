#!/usr/bin/env bash
# README command 1: set up, then run the nightly load on the built-in demo region.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/rsoko nightly --demo "$@"
