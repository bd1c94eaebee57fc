"""Regional functional-literacy assessment by the PISA model (extracts.md ``literacy``).

CSV, UTF-8, ``;``, one file per academic year. A sample of the schools that teach grades
7–9 takes part (about 30 %); in each, one or two of grades 7–9 and up to a class of
students per grade, every student in two of the six domains. Scores are on the PISA scale
(two decimals, decimal point), driven by the school's ``school_effect`` and the student's
ability, placed per domain so that about a quarter of the region is below level 2 (low-
results schools far more often). ``Уровень`` follows the seed cut scores exactly
([min_score, max_score) ranges of ``ref_literacy_levels``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.records import FileRecord

SOURCE = "literacy"
COLUMNS = ["Код ОО", "Код участника", "Класс", "Направление", "Балл", "Уровень"]
DOMAINS = ("читательская", "математическая", "естественнонаучная", "финансовая",
           "глобальные компетенции", "креативное мышление")
GRADES = (7, 8, 9)
SCHOOL_SHARE = 0.30
MAX_PER_GRADE = 25
DOMAINS_PER_STUDENT = 2
SCALE_SD = 80.0                      # PISA points per unit of latent ability


def level_of(domain: str, scores: np.ndarray) -> np.ndarray:
    """Vectorised ``reference.literacy_level``: [min_score, max_score) ranges of the seed."""
    lv = ref.load("ref_literacy_levels")
    lv = lv[lv["domain"] == domain].sort_values("min_score")
    if lv.empty:
        raise KeyError(f"no literacy levels for {domain!r}")
    lows = lv["min_score"].to_numpy(dtype=float)
    idx = np.searchsorted(lows, np.asarray(scores, dtype=float), side="right") - 1
    if (idx < 0).any() or (np.asarray(scores) >= lv["max_score"].max()).any():
        raise ValueError(f"score outside the scale of {domain!r}")
    return lv["level"].to_numpy().astype(object)[idx]


def _cut(domain: str, level: str) -> float:
    lv = ref.load("ref_literacy_levels")
    row = lv[(lv["domain"] == domain) & (lv["level"] == level)]
    return float(row["min_score"].iloc[0])


def simulate_literacy(region, year: int) -> pd.DataFrame:
    rng = region.rng(SOURCE, year)
    schools = region.schools_in(year)
    teaches = (schools["min_grade"].to_numpy() <= 9) & (schools["max_grade"].to_numpy() >= 7)
    sample = np.flatnonzero(teaches & (rng.random(len(schools)) < SCHOOL_SHARE))
    spg = schools["students_per_grade"].to_numpy(dtype=np.int64)
    rows_school, rows_grade = [], []
    for s in sample:
        grades = [g for g in GRADES if schools["min_grade"].iat[s] <= g <= schools["max_grade"].iat[s]]
        k = min(len(grades), 1 + int(rng.random() < 0.5))
        for g in rng.choice(grades, k, replace=False):
            n = int(min(spg[s], MAX_PER_GRADE) * rng.uniform(0.8, 1.0))
            rows_school.append(np.full(n, s))
            rows_grade.append(np.full(n, int(g)))
    st_school = np.concatenate(rows_school) if rows_school else np.zeros(0, dtype=np.int64)
    st_grade = np.concatenate(rows_grade) if rows_grade else np.zeros(0, dtype=np.int64)
    n = len(st_school)
    effect = schools["school_effect"].to_numpy(dtype=float)
    ability = effect[st_school] + rng.normal(0.0, 1.0, n)
    # two domains per student
    keys = rng.random((n, len(DOMAINS)))
    dom = np.argsort(keys, axis=1)[:, :DOMAINS_PER_STUDENT]
    stud = np.repeat(np.arange(n), DOMAINS_PER_STUDENT)
    dom = dom.ravel()
    latent = ability[stud] + 0.55 * rng.normal(0.0, 1.0, len(stud)) + 0.08 * (st_grade[stud] - 8)
    score = np.empty(len(stud))
    level = np.empty(len(stud), dtype=object)
    for d_i, domain in enumerate(DOMAINS):
        m = dom == d_i
        if not m.any():
            continue
        # place the domain so that a target share of the region is below level 2
        target = rng.uniform(0.20, 0.30)
        cut2 = _cut(domain, "2")
        q = np.quantile(latent[m], target)
        sc = cut2 + SCALE_SD * (latent[m] - q)
        lo_cap = _cut(domain, "ниже 1") + 150.0
        sc = np.clip(sc, lo_cap, 950.0)
        score[m] = np.round(sc, 2)
        level[m] = level_of(domain, score[m])
    codes = rng.permutation(np.arange(100_000, 100_000 + n) if n < 900_000 else
                            np.arange(1_000_000, 1_000_000 + n))
    participant = np.char.add("ФГ", codes.astype(str)).astype(object)
    if region.profile.literacy_codes_per_school:
        participant = _codes_within_school(st_school, region.rng(SOURCE, year, "codes"))
    df = pd.DataFrame({
        "Код ОО": schools["school_code"].to_numpy()[st_school[stud]],
        "Код участника": participant[stud],
        "Класс": st_grade[stud].astype(np.int64),
        "Направление": np.asarray(DOMAINS, dtype=object)[dom],
        "Балл": score,
        "Уровень": level,
    })
    return df.sort_values(["Код ОО", "Класс", "Код участника", "Направление"],
                          kind="stable").reset_index(drop=True)


def _codes_within_school(st_school: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """'001', '002'… numbered within each school in random order: unique within the
    school and year only (extracts.md), so the same code occurs in every school."""
    ranks = pd.Series(rng.random(len(st_school))).groupby(st_school).rank(method="first")
    return np.char.zfill(ranks.to_numpy(dtype=np.int64).astype(str), 3).astype(object)


def generate_literacy(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write one literacy CSV per year under ``<out_dir>/literacy/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    for year in years:
        df = simulate_literacy(region, year)
        rel = Path(SOURCE) / str(year) / f"ФГ_{year}_результаты.csv"
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(path, sep=";", index=False, encoding="utf-8", lineterminator="\n",
                  float_format="%.2f")
        records.append(FileRecord(source=SOURCE, academic_year=year, path=rel, rows=len(df),
                                  slice={}, quirks=("decimal_point",)))
    return records
