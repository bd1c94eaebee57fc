"""Career guidance and profile education of the demo region (extracts.md ``career``).

One CSV (UTF-8, ``;``) per year, one row per active school that teaches any of grades 6–11.
``Уровень профминимума``: about half of the schools at ``базовый``, a third ``основной``,
a tenth ``продвинутый``, the rest ``не реализуется`` (schools keep their level from year to
year with some moves up). ``Участников «Билет в будущее»``: a school-specific share of its
students of grades 6–11. Schools with grades 10–11 offer one to three profiles (``Профили``,
names separated by ``, ``; empty for schools without a senior stage) and put most of their
senior students in profile classes; ``универсальный`` alone counts as a profile too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.records import FileRecord

SOURCE = "career"
COLUMNS = ["Код ОО", "Уровень профминимума", "Обучающихся 6-11 классов",
           "Участников «Билет в будущее»", "Обучающихся 10-11 классов",
           "Из них в профильных классах", "Профили"]
LEVELS = ("не реализуется", "базовый", "основной", "продвинутый")
LEVEL_P = (0.1, 0.5, 0.3, 0.1)


def simulate_career(region, year: int) -> pd.DataFrame:
    schools = region.schools_in(year)
    schools = schools[schools["max_grade"] >= 6].sort_values("school_code").reset_index(drop=True)
    n = len(schools)
    lo, hi = schools["min_grade"].to_numpy(), schools["max_grade"].to_numpy()
    junior = np.clip(np.minimum(hi, 9) - np.maximum(lo, 6) + 1, 0, None)
    senior = np.clip(hi - np.maximum(lo, 10) + 1, 0, None)
    spg = schools["students_per_grade"].to_numpy(dtype=np.int64)
    sen = schools["students_per_senior_grade"].to_numpy(dtype=np.int64)
    students_6_11 = spg * junior + sen * senior
    students_10_11 = sen * senior
    # a school's level and profile offer are persistent (a stream per school, not per year);
    # with every year a school may move one level up
    persistent = region.rng(SOURCE, "persistent")
    u_level = persistent.random(len(region.schools["school_code"].unique()))
    index = {c: i for i, c in enumerate(sorted(region.schools["school_code"].unique()))}
    idx = np.array([index[c] for c in schools["school_code"]], dtype=np.int64)
    level = np.searchsorted(np.cumsum(LEVEL_P), u_level[idx], side="right").clip(0, 3)
    rng = region.rng(SOURCE, year)
    level = np.minimum(3, level + (rng.random(n) < 0.08 * (year - region.years[0])))
    bilet_share = np.clip(rng.beta(3, 4, n), 0.05, 0.95)
    bilet = np.rint(students_6_11 * bilet_share).astype(np.int64)
    profiles_seed = ref.load("ref_career_profiles")["profile"].tolist()
    p_profiles = np.array([0.25, 0.2, 0.15, 0.15, 0.1, 0.04, 0.04, 0.04, 0.03])
    p_profiles = p_profiles / p_profiles.sum()
    profile_texts = []
    profile_students = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if students_10_11[i] == 0:
            profile_texts.append("")
            continue
        k = int(rng.integers(1, 4))
        pick = rng.choice(len(profiles_seed), k, replace=False, p=p_profiles)
        profile_texts.append(", ".join(profiles_seed[j] for j in sorted(pick)))
        profile_students[i] = int(np.rint(students_10_11[i] * rng.uniform(0.5, 1.0)))
    return pd.DataFrame({
        "Код ОО": schools["school_code"].to_numpy(),
        "Уровень профминимума": np.asarray(LEVELS, dtype=object)[level],
        "Обучающихся 6-11 классов": students_6_11,
        "Участников «Билет в будущее»": bilet,
        "Обучающихся 10-11 классов": students_10_11,
        "Из них в профильных классах": profile_students,
        "Профили": profile_texts,
    })


def generate_career(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write one career CSV per year under ``<out_dir>/career/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    for year in years:
        df = simulate_career(region, year)
        rel = Path(SOURCE) / str(year) / f"Профориентация_{year}.csv"
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(path, sep=";", index=False, encoding="utf-8", lineterminator="\n")
        records.append(FileRecord(source=SOURCE, academic_year=year, path=rel, rows=len(df),
                                  slice={}, quirks=("empty_profiles_without_senior_grades",)))
    return records
