"""Children by age and municipality (Росстат) of the demo region (extracts.md ``population``).

CSV UTF-8, ``;``, one file per year (state on 1 January of the academic year's end year):
``Код МСУ``, ``Муниципалитет``, ``Возраст`` (0–18), ``Численность``. A municipality's
single-year cohort is its schools' children per grade (the registry), a few per cent more
(children in schools outside the registry, home schooling), shaped by a gentle demographic
curve (the 2010s birth peak, fewer 0–3-year-olds); 18-year-olds are fewer (some have left).
This is the denominator of the additional-education coverage, so the enrolment generator
(demo/additional_ed.py) draws its children from exactly these counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.records import FileRecord

SOURCE = "population"
AGES = np.arange(19)
COLUMNS = ["Код МСУ", "Муниципалитет", "Возраст", "Численность"]


def _curve(year: int) -> np.ndarray:
    """Relative size of each age 0..18 in ``year``: birth cohorts peaked around 2014."""
    birth = (year - 1) - AGES
    return np.clip(1.0 - 0.018 * np.abs(birth - 2014), 0.7, None) * np.where(AGES == 18, 0.9, 1.0)


def simulate_population(region, year: int) -> pd.DataFrame:
    """One row per municipality × age: msu_code, msu_name, age, population (cached)."""
    key = ("population", year)
    if key in region._cache:
        return region._cache[key]
    rng = region.rng(SOURCE, year)
    schools = region.schools_in(year)
    per_grade = schools.groupby("msu_code")["students_per_grade"].sum()
    msu = region.municipalities.set_index("msu_code")
    codes = list(msu.index)
    base = per_grade.reindex(codes).fillna(0).to_numpy(dtype=float)
    base = np.maximum(base, 20.0) * rng.uniform(1.02, 1.08, len(codes))
    counts = np.rint(base[:, None] * _curve(year)[None, :]
                     * rng.uniform(0.97, 1.03, (len(codes), len(AGES)))).astype(np.int64)
    df = pd.DataFrame({
        "msu_code": np.repeat(codes, len(AGES)),
        "msu_name": np.repeat(msu["msu_name"].to_numpy(), len(AGES)),
        "age": np.tile(AGES, len(codes)),
        "population": counts.ravel(),
    })
    region._cache[key] = df
    return df


def generate_population(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write one population CSV per year under ``<out_dir>/population/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    for year in years:
        df = simulate_population(region, year)
        out = pd.DataFrame({"Код МСУ": df["msu_code"], "Муниципалитет": df["msu_name"],
                            "Возраст": df["age"], "Численность": df["population"]})
        rel = Path(SOURCE) / str(year) / f"Росстат_дети_0-18_на_01.01.{year}.csv"
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(path, sep=";", index=False, encoding="utf-8", lineterminator="\n")
        records.append(FileRecord(source=SOURCE, academic_year=year, path=rel, rows=len(out),
                                  slice={}, quirks=()))
    return records
