"""Registry events of the ``variant`` profile that the default region never has.

* Two schools of one municipality merge into a **new** school: in the second academic year
  of the region both are ``реорганизована`` with the new school's code as successor, and the
  new school (a code, login and РИС ГИА code that did not exist before) takes over their
  students from that year on. Their earlier results must roll up to a school that had no
  registry row, and no results, in those years.
* Closed schools leave the registry: a school reorganised or liquidated in year t has its
  row (with the status) in year t and no row in later years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ACTIVE = "действующая"
REORGANISED = "реорганизована"
_COUNT_COLUMNS = ("n_students", "n_students_4_11", "n_teachers", "students_per_grade",
                  "students_per_senior_grade")
_PCT_COLUMNS = ("pct_ovz", "pct_nonnative", "pct_lowincome", "pct_singleparent",
                "pct_parents_higher_ed", "pct_vacancies")
_PLANTED = ("is_inflating_vpr", "is_low_results", "is_resilient")


def _merge_candidates(schools: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Schools active in every year, never planted, no successor of another school, with
    ФИС ОКО login and РИС ГИА code (so they have ВПР and ГИА results before the merger)."""
    planted = schools[list(_PLANTED)].any(axis=1).groupby(schools["school_code"]).any()
    active = (schools["status"] == ACTIVE).groupby(schools["school_code"]).sum()
    ok = (active == len(years)) & ~planted
    successors = set(schools["successor_code"].dropna().astype(str))
    first = schools[schools["academic_year"] == years[0]].set_index("school_code")
    codes = [c for c in ok.index[ok] if c not in successors]
    first = first.loc[codes]
    first = first[first["fis_login"].notna() & first["gia_code"].notna()
                  & (first["max_grade"] == 11) & (first["min_grade"] == 1)]
    return first.reset_index()


def _new_code(taken: set[str], region_code: str, width: int, rng) -> str:
    while True:
        if width == 4:
            code = region_code + f"{int(rng.integers(1, 10_000)):04d}"
        else:
            code = f"{int(rng.integers(0, 1_000_000)):06d}"
        if code not in taken:
            return code


def merge_into_new_school(schools: pd.DataFrame, rng: np.random.Generator,
                          region_code: str) -> pd.DataFrame:
    years = sorted(schools["academic_year"].unique().tolist())
    if len(years) < 2:
        return schools
    year = years[1]
    cand = _merge_candidates(schools, years)
    by_msu = cand.groupby("msu_code")["school_code"].apply(list)
    by_msu = by_msu[by_msu.map(len) >= 2]
    if by_msu.empty:
        return schools
    msu = by_msu.index[int(rng.integers(0, len(by_msu)))]
    pool = sorted(by_msu[msu])
    a, b = (pool[i] for i in rng.choice(len(pool), 2, replace=False))

    codes = set(schools["school_code"])
    width = 4 if all(c.startswith(region_code) for c in codes) and len(codes) < 9_000 else 6
    new_code = _new_code(codes, region_code, width, rng)
    logins = set(schools["fis_login"].dropna())
    login = "sch" + _new_code({x[3:] for x in logins}, region_code, width, rng)
    msu_gia = schools.loc[schools["msu_code"] == msu, "gia_code"].dropna()
    gia = f"{max(int(g) for g in msu_gia) + 1:04d}"

    out = schools.copy()
    new_rows = []
    for y in [y for y in years if y >= year]:
        ra = out[(out["academic_year"] == y) & (out["school_code"] == a)].iloc[0]
        rb = out[(out["academic_year"] == y) & (out["school_code"] == b)].iloc[0]
        row = ra.copy()
        w_a, w_b = max(int(ra["n_students"]), 1), max(int(rb["n_students"]), 1)
        for col in _COUNT_COLUMNS:
            row[col] = int(ra[col]) + int(rb[col])
        for col in _PCT_COLUMNS:
            row[col] = round((ra[col] * w_a + rb[col] * w_b) / (w_a + w_b), 1)
        row["school_effect"] = round((ra["school_effect"] * w_a + rb["school_effect"] * w_b)
                                     / (w_a + w_b), 4)
        row["school_code"], row["fis_login"], row["gia_code"] = new_code, login, gia
        row["school_kind"] = "СОШ"
        row["school_name"] = f"МАОУ «Образовательный комплекс № {int(new_code[-3:]) + 1}»"
        new_rows.append(row)
    # the merged schools: reorganised in `year`, gone afterwards (drop_closed_schools)
    gone = (out["academic_year"] >= year) & out["school_code"].isin([a, b])
    out.loc[gone, "status"] = REORGANISED
    out.loc[gone, "successor_code"] = new_code
    for col in _COUNT_COLUMNS:
        out.loc[gone, col] = 0
    out = pd.concat([out, pd.DataFrame(new_rows)], ignore_index=True)
    return out


def drop_closed_schools(schools: pd.DataFrame) -> pd.DataFrame:
    """A school's rows after the first year it is not active are dropped."""
    closed = schools[schools["status"] != ACTIVE].groupby("school_code")["academic_year"].min()
    first_closed = schools["school_code"].map(closed)
    keep = first_closed.isna() | (schools["academic_year"] <= first_closed)
    return schools[keep]


def vary_registry(schools: pd.DataFrame, profile, rng: np.random.Generator,
                  region_code: str) -> pd.DataFrame:
    if profile.merge_into_new_school:
        schools = merge_into_new_school(schools, rng, region_code)
    if profile.drop_closed_schools:
        schools = drop_closed_schools(schools)
    schools = schools.sort_values(["academic_year", "school_code"], kind="stable")
    schools = schools.reset_index(drop=True)
    for col in ("gia_code", "fis_login", "successor_code"):
        schools[col] = schools[col].astype(object)
        schools.loc[schools[col].isna(), col] = None
    return schools
