#!/usr/bin/env bash
# README command 2 (and CI): set up, then run the whole test suite on 2 workers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The UI test (tests/e2e/test_ui_chromium.py) drives Debian's chromium through Playwright (no
# browser download). Install it when missing and apt-get is there; otherwise that test skips.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
  echo "rsoko test: installing chromium (apt-get) for the UI test"
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
         || { $sudo apt-get update -qq >/dev/null 2>&1 \
              && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
                   >/dev/null 2>&1; }; }; then
    echo "rsoko test: could not install chromium; the UI test will be skipped"
  fi
fi
export RSOKO_DATA_DIR="${RSOKO_DATA_DIR:-$PWD/var/test}"
# --durations: the slowest tests, so that CI logs show where the suite spends its time
exec .venv/bin/python -m pytest -n 2 --dist loadfile --durations=40 "$@"
