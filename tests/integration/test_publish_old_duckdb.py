"""The published database opens in an older DuckDB, as BI tools with a bundled driver have
it: a real DuckDB release installed from the package registry into a throwaway venv reads a
table, a table comment and a column comment of a published version. The control: a file in
DuckDB 2.0's default storage format is refused by that release (the reason for writing the
oldest format that keeps the comments, publisher.STORAGE_VERSION).

`RSOKO_OLD_DUCKDB` picks the release (default 1.0.0, the first stable one; 1.2.2 works
too). Skipped, saying why, when the registry cannot be reached."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rsoko_pipelines.publish import versions as v
from rsoko_pipelines.publish.publisher import publish_marts
from tests.conftest import CACHE_DIR
from tests.integration.test_publish_core import T0, build_warehouse

OLD = os.environ.get("RSOKO_OLD_DUCKDB", "1.0.0")

READ = r"""
import duckdb, json, sys
try:
    con = duckdb.connect(sys.argv[1], read_only=True)
except Exception as err:
    print(json.dumps({"error": str(err).splitlines()[0]})); sys.exit(0)
print(json.dumps({
    "version": duckdb.__version__,
    "rows": con.execute("SELECT count(*) FROM marts.indicators").fetchone()[0],
    "sum": con.execute("SELECT sum(value) FROM marts.indicators").fetchone()[0],
    "table_comment": con.execute("SELECT comment FROM duckdb_tables() "
                                 "WHERE table_name = 'indicators'").fetchone()[0],
    "column_comment": con.execute("SELECT comment FROM duckdb_columns() WHERE "
                                  "table_name = 'indicators' AND column_name = 'value'"
                                  ).fetchone()[0],
    "catalogue": con.execute("SELECT name_ru FROM reference.indicator_catalogue").fetchall(),
}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def old_python() -> Path:
    """python of a venv holding duckdb==OLD (built once per machine under the test cache)."""
    venv = CACHE_DIR / f"old-duckdb-{OLD}"
    python = venv / "bin" / "python"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f".old-duckdb-{OLD}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ok = python.is_file() and subprocess.run(
            [str(python), "-c", f"import duckdb; assert duckdb.__version__ == '{OLD}'"],
            capture_output=True).returncode == 0
        if not ok:
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            try:
                pip = subprocess.run(
                    [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                     f"duckdb=={OLD}"], capture_output=True, text=True, timeout=300)
            except subprocess.TimeoutExpired:
                pip = None
            if pip is None or pip.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                reason = "timed out" if pip is None else (pip.stderr.strip().splitlines()
                                                          or ["?"])[-1]
                pytest.skip(f"cannot install duckdb=={OLD} from the package registry "
                            f"({reason}): the old-client check needs the registry")
    return python


def _read_with(python: Path, db: Path) -> dict:
    done = subprocess.run([str(python), "-c", READ, str(db)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_older_duckdb_opens_the_published_file(tmp_path, old_python):
    warehouse = build_warehouse(tmp_path / "warehouse" / "rsoko.duckdb")
    published = tmp_path / "published"
    publish_marts(warehouse, published, now=T0, log=lambda m: None)
    got = _read_with(old_python, v.published_database(published))
    assert got == {"version": OLD, "rows": 6, "sum": 22.5,
                   "table_comment": "Показатели / the regional scorecard",
                   "column_comment": "Значение / value",
                   "catalogue": [["Доля результатов ЕГЭ ниже минимального балла"]]}

    # the control: the same marts in DuckDB 2.0's default storage format are refused
    control = tmp_path / "default_format.duckdb"
    con = duckdb.connect(str(control))
    con.execute(f"ATTACH '{v.published_database(published)}' AS pub (READ_ONLY)")
    con.execute(f"COPY FROM DATABASE pub TO {control.stem}")
    con.close()
    refused = _read_with(old_python, control)
    assert "version number" in refused.get("error", ""), refused
