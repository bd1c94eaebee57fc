"""Every indicator of the catalogue is computed by a part of models/marts/indicators/ (the
dbt test marts_indicators_cover_catalogue only sees that each has a region row, and a code
no part computes would still get one: value NULL, «not computable for this year»)."""

from __future__ import annotations

import csv
import re

from rsoko_pipelines.settings import DBT_PROJECT_DIR


def test_every_catalogue_code_is_computed_by_a_part():
    seeds = DBT_PROJECT_DIR / "seeds" / "reference" / "indicator_catalogue.csv"
    with open(seeds, encoding="utf-8") as f:
        codes = [r["indicator_code"] for r in csv.DictReader(f)]
    parts = sorted((DBT_PROJECT_DIR / "models" / "marts" / "indicators").glob("indicators__*.sql"))
    computed = set()
    for part in parts:
        computed |= set(re.findall(r"'([A-Z][A-Z0-9_]+)'", part.read_text(encoding="utf-8")))
    assert len(codes) >= 38 and not [c for c in codes if c not in computed]
    # and every part is in the union of marts.indicators
    union = (DBT_PROJECT_DIR / "models" / "marts" / "indicators.sql").read_text(encoding="utf-8")
    assert [p.stem for p in parts if f"'{p.stem}'" not in union] == []
