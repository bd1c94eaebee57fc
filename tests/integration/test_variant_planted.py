"""The truths planted in the `variant` demo region, found in a database built from it
(issue 13 item 5, issue 21). The pipeline cannot load the variant region yet (optional
sources, per-school literacy codes: other work in progress), so this test runs only when
pointed at a database and its region's manifest:

    RSOKO_VARIANT_DB=<published or warehouse .duckdb> \\
    RSOKO_VARIANT_MANIFEST=<inbox>/manifest.json \\
    .venv/bin/python -m pytest tests/integration/test_variant_planted.py -s

Same figures as `rsoko demo evaluate` and as test_marts_planted.py on tier S."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from rsoko_pipelines.demo.evaluate import inflating_resilient, planted_figures

DB = os.environ.get("RSOKO_VARIANT_DB")
MANIFEST = os.environ.get("RSOKO_VARIANT_MANIFEST")
pytestmark = pytest.mark.skipif(not (DB and MANIFEST),
                                reason="set RSOKO_VARIANT_DB and RSOKO_VARIANT_MANIFEST")

CHECKED = ("ВПР objectivity (is_flagged)", "leaked answers (task inversion)",
           "ВПР not confirmed by the ОГЭ", "low results (is_low_results)",
           "resilient (results_group)", "olympiad school stage (is_flagged)")


@pytest.fixture(scope="module")
def evaluated():
    manifest = json.loads(Path(MANIFEST).read_text(encoding="utf-8"))
    assert manifest["profile"] == "variant"
    con = duckdb.connect(DB, read_only=True)
    try:
        figures = planted_figures(con, manifest)
        extra = inflating_resilient(con, manifest)
    finally:
        con.close()
    for f in figures.values():
        print("\n" + f.line())
    return figures, extra


@pytest.mark.parametrize("name", CHECKED)
def test_planted_truth_found(evaluated, name):
    f = evaluated[0][name]
    assert f.planted, name
    assert f.recall >= 0.9 and f.precision >= 0.8, f.line()


def test_no_inflating_school_is_resilient(evaluated):
    assert evaluated[1]["inflating_resilient"] == set()
