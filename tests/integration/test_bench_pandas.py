"""The analyst's alternative (`bench/pandas_analyst.py`, issue 16) on tier XS: one pandas
process over the raw files of the generated tier computes assessment_results, task_mastery,
vpr_objectivity and vpr_objectivity_schools, and `--check` finds them equal, cell by cell, to
the marts the session's reference night published from the same files."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from rsoko_pipelines.settings import REPO_ROOT
from tests.conftest import generated_tier
from tests.integration import _nightly as n

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return n.reference_night(tmp_path_factory)


def test_pandas_script_agrees_with_the_published_marts(reference, tmp_path):
    tier_dir = generated_tier("XS")
    db = reference.data / "published" / "rsoko_marts.duckdb"
    assert db.exists()
    out = tmp_path / "pandas-out"
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "pandas_analyst.py"), str(tier_dir),
         "--out", str(out), "--check", str(db)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    text = proc.stdout
    figures = {k: int(v) for k, v in
               re.findall(r"^(cells compared|equal|different): (\d+)$", text, re.M)}
    only = re.search(r"^rows only in the script: (\d+); rows only in the mart: (\d+)$", text,
                     re.M)
    assert proc.returncode == 0, text[-4000:] + proc.stderr[-2000:]
    assert figures["cells compared"] > 100, text
    assert figures["different"] == 0, text
    assert figures["equal"] == figures["cells compared"]
    assert only and only.groups() == ("0", "0"), text
    for table in ("assessment_results", "task_mastery", "vpr_objectivity",
                  "vpr_objectivity_schools"):
        assert (out / f"{table}.parquet").exists()
        # every table took part in the comparison
        assert re.search(rf"^{table}\s+cells compared\s+[1-9]", text, re.M), text
