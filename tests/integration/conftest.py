"""Fixtures shared by the integration test modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rsoko_pipelines.settings import DBT_PROJECT_DIR

sys.path.insert(0, str(Path(__file__).parent))

DBT = str(Path(sys.executable).parent / "dbt")


def run_dbt(warehouse: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RSOKO_WAREHOUSE": str(warehouse),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run([DBT, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def marts_fixture_built(tmp_path_factory) -> tuple[Path, Path]:
    """The hand-made landing of _marts_fixture.py after a real `dbt build` (seeds, star,
    marts and every data test), built once for every module that reads it."""
    from _marts_fixture import build_landing

    tmp = tmp_path_factory.mktemp("marts")
    warehouse = tmp / "rsoko.duckdb"
    build_landing(warehouse)
    proc = run_dbt(warehouse, tmp, "build")
    assert "ERROR=0" in proc.stdout and "FAIL" not in proc.stdout.split("Done.")[-1]
    return warehouse, tmp
