"""The planted management cycle of the demo region (issue 19): which schools get which
measures and when, and what the measures really do to the schools' results.

Pure functions of the registry frame (``Region.schools``) and one random stream
(``"measures-plan"``), so that :func:`rsoko_pipelines.demo.region.build_region` (which
applies the effects to ``school_effect`` before any result file is written) and the
register generator (:mod:`rsoko_pipelines.demo.measures`) derive the same plan. The plan
reads the context, the planted flags and the grades, never ``school_effect`` (which it
changes).

Three measure kinds carry planted truths, in the academic year ``t`` that has both t−1 and
t+1 in the tier (tier S: t = 2024), each on its own schools (quartiles 2–4 of the ИСБШ, not
in any other planted set in t−1…t+1):

* ``positive`` — «методическое сопровождение» aimed at VPR_BASIC_PCT: the treated schools'
  ability (``school_effect``) rises by :data:`POSITIVE_EFFECT_SD` student SD from t+1 on;
* ``null`` — «наставничество» aimed at OGE_FAIL_PCT: no effect at all;
* ``self_selection_trap`` — «сетевое взаимодействие» aimed at VPR_BASIC_PCT, given to
  schools chosen because they were already improving: the whole context group they belong
  to (:data:`TRAP_CLUSTER`, quartiles 2–3) improves by :data:`TRAP_TREND_SD` per year from
  t−1 on, measure or not; the measure itself does nothing. A naive before/after of the
  treated schools sees the group's trend; the matched comparison (same cluster and
  quartile) does not.

The other measures answer the recommendations: a «программа поддержки ШНОР» for most
planted low-results schools of the least favourable quartile (rule R2.1), within the 12
months after the year or later, «перекрёстная проверка ВПР» / «общественное наблюдение» for
schools inflating ВПР two years running (R5.1 / R5.2), a wrong kind for some, nothing for
others; and municipal «методический семинар» measures. Whether a recommendation was acted
on is then a fact of the register, recorded in the manifest.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

STREAM = "measures-plan"
ACTIVE = "действующая"

KIND_POSITIVE = "методическое сопровождение"
KIND_NULL = "наставничество"
KIND_TRAP = "сетевое взаимодействие"
KIND_SHNOR = "программа поддержки ШНОР"
KIND_CROSS_CHECK = "перекрёстная проверка ВПР"
KIND_OBSERVERS = "общественное наблюдение"
KIND_SEMINAR = "методический семинар"

POSITIVE_EFFECT_SD = 0.5       # student SD, from t+1 on
TRAP_TREND_SD = 0.25           # student SD per year from t−1, the whole context group
TRAP_CLUSTER = "село, 100–500"
TRAP_QUARTILES = (2, 3)
GROUP_SHARE = {"positive": 0.065, "null": 0.065, "self_selection_trap": 0.05}
DIRECTION = {"positive": 1, "null": 7, "self_selection_trap": 8}
GROUP_MIN = 14                 # ≥ 10 treated with data after small-cell losses
EFFECT_GROUPS = {
    # role: (kind, target indicator, planted effect in student SD at t+1)
    "positive": (KIND_POSITIVE, "VPR_BASIC_PCT", POSITIVE_EFFECT_SD),
    "null": (KIND_NULL, "OGE_FAIL_PCT", 0.0),
    "self_selection_trap": (KIND_TRAP, "VPR_BASIC_PCT", 0.0),
}


# --------------------------------------------------------------------------------------
# context cells exactly as marts.school_context defines them
# --------------------------------------------------------------------------------------
def _ntile4(n: int) -> np.ndarray:
    """DuckDB's ntile(4) over n ordered rows: the first n % 4 buckets get one row more."""
    q, r = divmod(n, 4)
    i = np.arange(n)
    big = r * (q + 1)
    return np.where(i < big, i // max(q + 1, 1), r + (i - big) // max(q, 1)) + 1


def context_cells(schools: pd.DataFrame) -> pd.DataFrame:
    """academic_year, school_code, context_quartile, context_cluster of the active schools
    (ИСБШ z over the year's active schools, population SD; ntile(4) by index, then code)."""
    out = []
    for year, df in schools[schools["status"] == ACTIVE].groupby("academic_year", sort=True):
        z = {}
        for col in ("pct_parents_higher_ed", "pct_lowincome", "pct_singleparent",
                    "pct_nonnative"):
            x = df[col].astype(float)
            sd = x.std(ddof=0)
            z[col] = (x - x.mean()) / (sd if sd > 0 else 1.0)
        index = (z["pct_parents_higher_ed"] - z["pct_lowincome"] - z["pct_singleparent"]
                 - z["pct_nonnative"]) / 4.0
        frame = pd.DataFrame({"academic_year": year, "school_code": df["school_code"],
                              "social_index": index.to_numpy()})
        frame = frame.sort_values(["social_index", "school_code"], kind="stable")
        frame["context_quartile"] = _ntile4(len(frame))
        n = df.set_index("school_code")["n_students"]
        band = np.where(n < 100, "<100", np.where(n <= 500, "100–500", ">500"))
        cluster = pd.Series(df["settlement"].to_numpy() + ", " + band, index=n.index)
        frame["context_cluster"] = frame["school_code"].map(cluster)
        out.append(frame)
    cols = ["academic_year", "school_code", "social_index", "context_quartile", "context_cluster"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def effect_year(years) -> int | None:
    """The start year t of the effect-planted measures: one with t−1 and t+1 in the tier."""
    years = sorted(years)
    inner = [y for y in years if y - 1 in years and y + 1 in years]
    return inner[0] if inner else None


# --------------------------------------------------------------------------------------
# the effect groups (positive, null, trap) and what they do to school_effect
# --------------------------------------------------------------------------------------
def effect_groups(schools: pd.DataFrame, years, rng: np.random.Generator) -> pd.DataFrame:
    """role, school_code, t (the start year) of the schools under the effect-planted
    kinds, plus the trap's trend schools (role ``trap_trend``: the whole context group)."""
    cols = ["role", "school_code", "t"]
    years = sorted(years)
    t = effect_year(years)
    if t is None:           # no t−1 and t+1 in the tier: the kinds start in the last year
        return pd.DataFrame(columns=cols)
    window = [t - 1, t, t + 1]
    s = schools[schools["academic_year"].isin(window)]
    # schools with another planted role (issue 21's markers included) keep their truths
    # unconfounded: no effect, no trend
    marked = s[["is_low_results", "is_resilient", "is_inflating_vpr"]].astype(bool)
    for column in ("is_inflating_lookalike", "is_olympiad_generous"):
        if column in s:
            marked[column] = s[column].fillna(False).astype(bool)
    for column in ("vpr_leaked_form", "vpr_not_confirmed_subject"):
        if column in s:
            marked[column] = s[column].notna()
    flags = marked.groupby(s["school_code"]).any().any(axis=1)
    active_all = s[s["status"] == ACTIVE].groupby("school_code")["academic_year"].nunique() == 3
    base = s[s["academic_year"] == t - 1].set_index("school_code")
    cells = context_cells(schools)
    cells = cells[cells["academic_year"] == t - 1].set_index("school_code")
    base = base.join(cells[["context_quartile", "context_cluster"]], how="inner")
    clean = (~flags.reindex(base.index).fillna(True)) & active_all.reindex(base.index).fillna(False)
    base = base[clean.to_numpy(dtype=bool)]
    vpr_ok = base["fis_login"].notna() & (base["min_grade"] <= 8)
    oge_ok = (base["max_grade"] >= 9) & base["gia_code"].notna() & (base["students_per_grade"] >= 10)
    in_trap = (base["context_cluster"] == TRAP_CLUSTER) & base["context_quartile"].isin(TRAP_QUARTILES)
    other = base["context_quartile"].between(2, 4) & ~in_trap

    n_all = int((schools["academic_year"] == t - 1).sum())
    size = {k: max(GROUP_MIN, round(v * n_all)) for k, v in GROUP_SHARE.items()}
    rows = []
    taken: set[str] = set()

    def draw(role: str, pool: pd.Index) -> None:
        pool = pool[~pool.isin(sorted(taken))]
        k = min(size[role], len(pool))
        chosen = sorted(rng.choice(np.asarray(sorted(pool)), k, replace=False)) if k else []
        taken.update(chosen)
        rows.extend((role, c, t) for c in chosen)

    draw("self_selection_trap", base.index[in_trap & vpr_ok])
    draw("positive", base.index[other & vpr_ok])
    draw("null", base.index[other & oge_ok])
    rows.extend(("trap_trend", c, t) for c in sorted(base.index[in_trap]))
    return pd.DataFrame(rows, columns=cols)


def apply_measure_effects(schools: pd.DataFrame, years, rng: np.random.Generator) -> pd.DataFrame:
    """The registry with ``school_effect`` changed by the planted truths: + POSITIVE_EFFECT_SD
    for the positive group from t+1 on; + TRAP_TREND_SD × (year − (t−1)) for the trap's
    whole context group from t−1 on. Called once by build_region."""
    groups = effect_groups(schools, years, rng)
    if groups.empty:
        return schools
    out = schools.copy()
    t = int(groups["t"].iloc[0])
    year = out["academic_year"].to_numpy()
    code = out["school_code"].to_numpy()
    positive = np.isin(code, groups.loc[groups["role"] == "positive", "school_code"].to_numpy())
    trend = np.isin(code, groups.loc[groups["role"] == "trap_trend", "school_code"].to_numpy())
    shift = np.where(positive & (year >= t + 1), POSITIVE_EFFECT_SD, 0.0)
    shift = shift + np.where(trend, TRAP_TREND_SD * np.clip(year - (t - 1), 0, None), 0.0)
    out["school_effect"] = np.round(out["school_effect"].to_numpy(dtype=float) + shift, 4)
    return out


# --------------------------------------------------------------------------------------
# the register
# --------------------------------------------------------------------------------------
def _start(rng: np.random.Generator, academic_year: int, months=(9, 10, 11)) -> date:
    """A start date early in `academic_year` (the year it ends)."""
    month = int(rng.choice(months))
    year = academic_year - 1 if month >= 9 else academic_year
    return date(year, month, int(rng.integers(1, 29)))


def plan_register(schools: pd.DataFrame, years, rng: np.random.Generator) -> pd.DataFrame:
    """Every measure of the demo region: role, measure_kind, direction, level, school_code,
    msu_code, start_date, end_date (None: ongoing), target_indicator, recommendation (the
    rule a planting answers and its year, or '')."""
    years = sorted(years)
    groups = effect_groups(schools, years, rng)
    rows: list[dict] = []
    msu_of = schools.drop_duplicates("school_code", keep="last").set_index("school_code")["msu_code"]

    def add(role, kind, direction, school, start, end, indicator, level="ОО", msu=None,
            answers=""):
        rows.append(dict(role=role, measure_kind=kind, direction=direction, level=level,
                         school_code=school if level == "ОО" else None,
                         msu_code=msu if level == "МСУ" else msu_of.get(school),
                         start_date=start, end_date=end, target_indicator=indicator,
                         answers=answers))

    # 1. the effect-planted kinds: in t (tier S), else in the last year (status: waiting)
    t = effect_year(years)
    if t is not None:
        for role, (kind, indicator, _sd) in EFFECT_GROUPS.items():
            for code in groups.loc[groups["role"] == role, "school_code"]:
                add(role, kind, DIRECTION[role], code, _start(rng, t), date(t, 5, 31),
                    indicator)
    else:
        last = years[-1]
        active = schools[(schools["academic_year"] == last) & (schools["status"] == ACTIVE)]
        codes = sorted(active["school_code"])
        for role, (kind, indicator, _sd) in EFFECT_GROUPS.items():
            k = max(3, round(GROUP_SHARE[role] * len(codes)))
            for code in sorted(rng.choice(codes, min(k, len(codes)), replace=False)):
                add(role, kind, DIRECTION[role], code, _start(rng, last), None, indicator)

    # 2. answers to the recommendations of year y (window: academic year y + 1)
    cells = context_cells(schools).set_index(["academic_year", "school_code"])
    by_year = {y: schools[schools["academic_year"] == y].set_index("school_code") for y in years}
    shnor_running: dict[str, date] = {}
    for y in years[:-1]:
        if y + 1 not in by_year:              # a year gap (variant profile): no window
            continue
        now, nxt = by_year[y], by_year[y + 1]
        nxt_active = set(nxt.index[nxt["status"] == ACTIVE])
        low = [c for c in sorted(now.index[now["is_low_results"].to_numpy(dtype=bool)])
               if c in nxt_active and cells["context_quartile"].get((y, c)) == 1]
        for code in low:
            u = rng.random()
            if code in shnor_running and shnor_running[code] > date(y, 9, 1):
                continue                      # its programme is still running
            if u < 0.6:
                start = _start(rng, y + 1)
                shnor_running[code] = date(y + 2, 5, 31)
                add("answer", KIND_SHNOR, 2, code, start, date(y + 2, 5, 31),
                    "LOW_RESULTS_SCHOOLS_PCT", answers=f"R2.1 {y}")
            elif u < 0.7 and y + 2 in years:   # decided late: after the 12 months
                start = date(y + 1, 9, 1) + pd.Timedelta(days=int(rng.integers(0, 45)))
                shnor_running[code] = date(y + 3, 5, 31)
                add("answer_late", KIND_SHNOR, 2, code, start, None,
                    "LOW_RESULTS_SCHOOLS_PCT", answers=f"R2.1 {y}")
            elif u < 0.8:                      # another kind than the one suggested
                add("answer_other_kind", KIND_POSITIVE, 2, code, _start(rng, y + 1),
                    date(y + 1, 5, 31), "LOW_RESULTS_SCHOOLS_PCT", answers=f"R2.1 {y}")
        if y - 1 in by_year:
            prev = by_year[y - 1]
            both = (now["is_inflating_vpr"].astype(bool)
                    & prev["is_inflating_vpr"].reindex(now.index).fillna(False).astype(bool))
            for code in sorted(now.index[both.to_numpy(dtype=bool)]):
                if code not in nxt_active:
                    continue
                u = rng.random()
                if u < 0.5:
                    add("answer", KIND_CROSS_CHECK, 5, code, _start(rng, y + 1, (3, 4)),
                        date(y + 1, 5, 31), "VPR_FLAGGED_SCHOOLS_PCT", answers=f"R5.1 {y}")
                if 0.3 <= u < 0.8:
                    add("answer", KIND_OBSERVERS, 5, code, _start(rng, y + 1, (3, 4)),
                        date(y + 1, 5, 31), "VPR_FLAGGED_SCHOOLS_PCT", answers=f"R5.2 {y}")

    # 3. municipal methodical seminars, every year, for about a fifth of the municipalities
    for y in years:
        msus = sorted(by_year[y]["msu_code"].unique())
        k = max(1, round(0.2 * len(msus)))
        for msu in sorted(rng.choice(msus, k, replace=False)):
            add("background", KIND_SEMINAR, 8, None, _start(rng, y, (10, 11, 12, 1)),
                date(y, 3, 31), "VPR_DEFICIT_TASKS_PCT", level="МСУ", msu=msu)

    out = pd.DataFrame(rows)
    out["start_academic_year"] = [d.year + (d.month >= 9) for d in out["start_date"]]
    return out
