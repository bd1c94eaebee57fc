"""Planted truths of the methodology of directions 2 and 5 (issue 21), in every profile.

Chosen per academic year among the schools that carry no other planted truth in any year
(low results, resilient, inflating), each school at most one of these roles over the years,
so that every truth in the manifest is unambiguous:

* ``vpr_leaked_form`` ('math:6'): a school with leaked ВПР answers in one subject × grade —
  its harder tasks (П, В) are done as well as basic ones (``demo/vpr_planted.py``), its
  marks otherwise plausible (the journal agrees with the written mark);
* ``vpr_not_confirmed_subject`` ('rus'): a school whose ВПР in one subject is high (z of its
  mean against the region's school means ≈ 2.2) while its own ОГЭ in that subject is average
  or low (a school of below-average ability, weaker still in that subject's ОГЭ; the journal
  marks stay honest, so ВПР marks are also raised over them);
* ``is_inflating_lookalike``: an inflating school (``is_inflating_vpr``) that would pass as
  resilient on failure shares: its context is forced into the least favourable quartile, its
  ЕГЭ/ОГЭ ability is a little above average (few failures, ordinary scores), and its ВПР
  failures are lifted over the 2→3 line like every inflating school's;
* ``is_olympiad_generous``: a school whose ВсОШ school stage awards most of its participants
  (inflated scores, no quota) while its students are weak, so that its awardees fail at the
  municipal stage (``demo/olympiad.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ACTIVE = "действующая"
ADVANCED = ("лицей", "гимназия", "СОШ с УИОП")
LEAK_SUBJECTS = ("math", "rus")
LEAK_GRADES = (4, 5, 6, 7, 8)
NOT_CONFIRMED_SUBJECTS = ("math", "rus")
# share of the schools of a year planted with each truth (at least one school)
SHARES = {"leaked": 0.015, "not_confirmed": 0.015, "lookalike": 0.012, "generous": 0.015}
# a not-confirmed school is of below-average ability (its ОГЭ is average or low), and weaker
# still in the ОГЭ of that subject (demo/gia.py): on tier S its ОГЭ z is then ≤ 0 in ~99 %
# of cases, against ~90 % from its ability alone
NOT_CONFIRMED_EFFECT = (-0.75, -0.4)
NOT_CONFIRMED_OGE_SHIFT = -0.35
LOOKALIKE_EFFECT = (0.15, 0.05)          # mean, SD of its ЕГЭ/ОГЭ ability shift
# a generous school: weak students, and not so big that it fills its municipality's stage
# (municipal prizes go by rank within the municipality: a school that sends most of the
# municipality's participants wins some of them whatever its level)
GENEROUS_MAX_EFFECT = -0.25
GENEROUS_GRADE_SIZE = (45, 10_000)
NEW_COLUMNS = ("vpr_leaked_form", "vpr_not_confirmed_subject", "is_inflating_lookalike",
               "is_olympiad_generous")


def _pick(pool: np.ndarray, share: float, n_active: int, rng: np.random.Generator) -> np.ndarray:
    k = min(len(pool), max(1, round(share * n_active)))
    return rng.choice(pool, k, replace=False) if k else pool[:0]


def _force_unfavourable_context(df: pd.DataFrame, idx: np.ndarray, year_rows: np.ndarray,
                                rng: np.random.Generator) -> None:
    """Context of ``idx`` rows forced to about the 8th percentile of the social index (as
    region.py forces the resilient schools), in place; quantiles over the year's active rows."""
    def q(col: str, p: float) -> float:
        return float(np.quantile(df.loc[year_rows, col].to_numpy(dtype=float), p))
    m = len(idx)
    df.loc[idx, "pct_parents_higher_ed"] = np.round(
        q("pct_parents_higher_ed", 0.08) * rng.uniform(0.7, 1.0, m), 1)
    df.loc[idx, "pct_lowincome"] = np.round(
        np.minimum(q("pct_lowincome", 0.90) * rng.uniform(1.0, 1.25, m), 90.0), 1)
    df.loc[idx, "pct_singleparent"] = np.round(
        np.minimum(q("pct_singleparent", 0.90) * rng.uniform(1.0, 1.2, m), 90.0), 1)
    df.loc[idx, "pct_nonnative"] = np.round(np.maximum(
        df.loc[idx, "pct_nonnative"].to_numpy(dtype=float), q("pct_nonnative", 0.6)), 1)


def plant_methodology_truths(schools: pd.DataFrame, rng_for) -> pd.DataFrame:
    """``schools`` (all years) with the four columns of this module; ``rng_for(year)`` gives
    the year's random stream."""
    df = schools.reset_index(drop=True).copy()
    df["vpr_leaked_form"] = None
    df["vpr_not_confirmed_subject"] = None
    df["is_inflating_lookalike"] = False
    df["is_olympiad_generous"] = False
    planted = df[["is_low_results", "is_resilient", "is_inflating_vpr"]].any(axis=1)
    never = ~planted.groupby(df["school_code"]).transform("any")
    used: set[str] = set()
    for year in sorted(df["academic_year"].unique()):
        rng = rng_for(int(year))
        in_year = (df["academic_year"] == year).to_numpy()
        active = in_year & (df["status"] == ACTIVE).to_numpy()
        free = active & never.to_numpy() & df["fis_login"].notna().to_numpy()
        kind = df["school_kind"].to_numpy()
        spg = df["students_per_grade"].to_numpy()
        senior = df["students_per_senior_grade"].to_numpy()
        lo, hi = df["min_grade"].to_numpy(), df["max_grade"].to_numpy()
        effect = df["school_effect"].to_numpy(dtype=float)
        n_active = int(active.sum())

        def available(mask: np.ndarray) -> np.ndarray:
            codes = df["school_code"].to_numpy()
            return np.flatnonzero(mask & free & ~np.isin(codes, list(used)))

        def take(idx: np.ndarray) -> None:
            used.update(df["school_code"].to_numpy()[idx].tolist())

        not_evening = kind != "вечерняя школа"
        # leaked answers: a ВПР form of rus/math in grades 4–8 with ≥ 10 works
        pool = available(not_evening & (spg >= 14) & (lo <= 8) & (hi >= 4))
        idx = _pick(pool, SHARES["leaked"], n_active, rng)
        for i in idx:
            grades = [g for g in LEAK_GRADES if lo[i] <= g <= hi[i]]
            subject = LEAK_SUBJECTS[int(rng.integers(0, len(LEAK_SUBJECTS)))]
            df.iat[i, df.columns.get_loc("vpr_leaked_form")] = (
                f"{subject}:{grades[int(rng.integers(0, len(grades)))]}")
        take(idx)
        # not confirmed: ВПР grades and an ОГЭ cohort of ≥ 10, below-average ability
        pool = available(not_evening & ~np.isin(kind, ADVANCED) & df["gia_code"].notna().to_numpy()
                         & (spg >= 16) & (lo <= 5) & (hi >= 9)
                         & (effect >= NOT_CONFIRMED_EFFECT[0]) & (effect <= NOT_CONFIRMED_EFFECT[1]))
        idx = _pick(pool, SHARES["not_confirmed"], n_active, rng)
        for i in idx:
            df.iat[i, df.columns.get_loc("vpr_not_confirmed_subject")] = (
                NOT_CONFIRMED_SUBJECTS[int(rng.integers(0, len(NOT_CONFIRMED_SUBJECTS)))])
        take(idx)
        # the inflating look-alike of a resilient school: grades 9 and 11, big enough
        pool = available(not_evening & (kind != "кадетская школа") & ~np.isin(kind, ADVANCED)
                         & df["gia_code"].notna().to_numpy() & (hi == 11) & (lo <= 5)
                         & (spg >= 14) & (senior >= 8))
        idx = _pick(pool, SHARES["lookalike"], n_active, rng)
        if len(idx):
            df.loc[idx, "is_inflating_lookalike"] = True
            df.loc[idx, "is_inflating_vpr"] = True
            df.loc[idx, "school_effect"] = np.round(
                rng.normal(LOOKALIKE_EFFECT[0], LOOKALIKE_EFFECT[1], len(idx)), 4)
            _force_unfavourable_context(df, idx, active, rng)
        take(idx)
        # a generous olympiad school stage: a big school of ordinary ability
        pool = available(not_evening & (spg >= GENEROUS_GRADE_SIZE[0])
                         & (spg <= GENEROUS_GRADE_SIZE[1]) & (lo <= 7)
                         & (effect <= GENEROUS_MAX_EFFECT))
        idx = _pick(pool, SHARES["generous"], n_active, rng)
        df.loc[idx, "is_olympiad_generous"] = True
        take(idx)
    return df
