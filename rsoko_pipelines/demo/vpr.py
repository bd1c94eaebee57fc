"""ВПР and РПР «Индивидуальные результаты» forms of the demo region (extracts.md).

One *unit* of work is one form: (procedure, academic year, subject, grade). A unit
simulates every participant of the region vectorised with numpy and writes the form in
one of the three layouts of ФИС ОКО (one file for the region, one per municipality, or
one per school). Units are independent (each draws from its own ``region.rng`` streams),
so :func:`generate_vpr` can run them in a process pool and still produce the same bytes.

The model:

* Children: every active school with a ФИС ОКО login has ``students_per_grade`` children
  per grade (``students_per_senior_grade`` in 10–11) in classes of ≤ 27 (``4А``, ``4Б``…).
  A child's ``Код участника`` is unique within the school and year and the same in all
  subjects (and in РПР) of that year. Abilities are ``school_effect`` + a small class effect
  + a general and a subject component, each drawn *stratified* within the school (so a
  school's mean is close to its effect, as with real cohorts that are not tiny samples).
* In grades where the seeds list more than two subjects beside русский/математика/
  окружающий мир, every class writes two of them (drawn per class, as ФИС ОКО assigns).
* Tasks: each point of a task is earned with probability σ(a·(θ − d) + c); d by level
  (Б < П < В) plus noise, so some Б tasks fall below the deficit line region-wide
  (``task_deficit_pct_basic`` of ``ref_methodology_thresholds``).
  (a, c) are calibrated per form so that the region's share of marks «2» and «5» hits
  plausible targets under the seed boundaries. A task with 0 points is sometimes ``X``
  (not attempted; the school types Latin ``X`` or Cyrillic ``Х``), rarely ``-`` (not
  assessed: one task of a school, or a stray cell). ``Первичный балл`` is the sum of
  points and ``Отметка`` follows the seed boundaries exactly (no planted inconsistency).
* ``Отметка по журналу``: the school's term mark, drawn around the true mark with
  ФИС ОКО-like proportions (≈ 70 % confirmed, ≈ 20 % ВПР lower, ≈ 10 % ВПР higher),
  school-specific leniency; empty for some, ``НЕТ ОТМЕТКИ`` for some.
* Planted inflation (ВПР only; ``schools.is_inflating_vpr`` of that year): such a school
  is truly weaker than its registry effect (``INFLATION_TRUE_SHIFT``); 92 % of the works
  that would fail are corrected to exactly the lowest score for «3», the others are
  "helped" (ability + 2.2–2.8 SD, coupled to the honest draw so points only go up); the
  journal marks stay honest (drawn around the true mark). This fires the markers of
  ``vpr_objectivity`` (pct_raised, boundary_peak_ratio, z_vs_region): on tier S ~80 % of
  a planted school's subject-grades (≥ 10 participants) are flagged, < 0.1 % of honest.
* Honest schools are kept free of chance peaks at that boundary: where an honest
  school's (n(b)+1)/(mean(n(b−1), n(b−2))+1) would reach 3 by chance, the fewest works
  needed get one more point (b → b+1, still «3»). Without this, small schools hit the
  marker by Poisson noise in ≈ 3–5 % of forms, which, with ~15 forms a school, would make
  the demo's planted truth ambiguous (see the report of the objectivity check in tests).
* Issue 21 (``demo/vpr_planted.py``): leaked answers in one form of a school, a subject
  whose high ВПР the school's ОГЭ does not confirm, and honest schools kept clear of a
  chance task inversion (points moved from П/В to Б tasks within a work).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.vpr_planted import boost_to_z, guard_task_inversion, leak_answers
from rsoko_pipelines.demo.xlsx import MAX_ROWS, Sheet, XlsxStreamWriter, render_rows

PROCEDURES = {"VPR": ("vpr", "ВПР"), "RPR": ("rpr", "РПР")}
LEAD_COLUMNS = ["Муниципалитет", "Логин ОО", "Название ОО", "Код участника", "Класс", "Вариант"]
TAIL_COLUMNS = ["Первичный балл", "Отметка", "Отметка по журналу"]
NO_MARK = "НЕТ ОТМЕТКИ"
X_LATIN, X_CYRILLIC, DASH = "X", "Х", "-"
_C_DASH, _C_XCYR, _C_XLAT = -3, -2, -1     # task-cell codes below 0 (≥ 0: points)

CLASS_LETTERS = "АБВГДЕЖИКЛМНОПРСТУФХЦЧШЭЮЯ"
MAX_CLASS_SIZE = 27
# subjects every class of the grade writes; the others are assigned two per class
ALWAYS_WRITTEN = ("rus", "math", "env")
OPTIONAL_PER_CLASS = 2
CODE_GRADES = tuple(range(1, 12))           # the participant code numbers every child 1–11
_CODE_BASE = 10001
_CODE_PRIMES = (10007, 10009, 10037, 10039, 10061, 10067, 10069, 10079, 10091, 10093)

LEVEL_DIFFICULTY = {"Б": -0.95, "П": 0.25, "В": 1.05}
LEVEL_X_SHIFT = {"Б": 0.0, "П": 0.45, "В": 0.9}
# P(journal mark | true mark) for honest schools, rows: true mark 2..5, cols: journal 2..5
JOURNAL_GIVEN_MARK = np.array([
    [0.30, 0.62, 0.075, 0.005],
    [0.03, 0.66, 0.28, 0.03],
    [0.002, 0.13, 0.70, 0.168],
    [0.0, 0.02, 0.22, 0.76],
])
# the marts' marker thresholds (reference data): the generator keeps honest schools clear
_BOUNDARY_RATIO = ref.methodology_threshold("vpr_boundary_peak_ratio_min")
_MARKER_MIN_WORKS = int(ref.methodology_threshold("vpr_markers_min_participants"))
# planted inflation: the true ability of an inflating school is this much lower than its
# registry effect (weak schools inflate), helped works get this ability boost, and this
# share of failing works is corrected to exactly the lowest score for «3»
INFLATION_TRUE_SHIFT = -0.5
INFLATION_BOOST = (2.2, 2.8)
INFLATION_PULL_SHARE = 0.92
_CHUNK = 200_000


# ---------------------------------------------------------------------------------------
# small numerics
# ---------------------------------------------------------------------------------------
def _ndtri(p: np.ndarray) -> np.ndarray:
    """Inverse standard normal CDF (Acklam's rational approximation, |err| < 1.2e-9)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    out = np.empty_like(p)
    lo, hi = p < 0.02425, p > 1 - 0.02425
    mid = ~(lo | hi)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    for mask, sign in ((lo, 1.0), (hi, -1.0)):
        if mask.any():
            pp = p[mask] if sign > 0 else 1 - p[mask]
            qq = np.sqrt(-2 * np.log(pp))
            out[mask] = sign * ((((((c[0] * qq + c[1]) * qq + c[2]) * qq + c[3]) * qq + c[4]) * qq
                                 + c[5]) / ((((d[0] * qq + d[1]) * qq + d[2]) * qq + d[3]) * qq + 1))
    return out


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _group_rank(groups: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random rank 0..n_g−1 of every element within its group, and the group sizes."""
    key = rng.random(len(groups))
    order = np.lexsort((key, groups))
    sizes = np.bincount(groups, minlength=int(groups.max()) + 1 if len(groups) else 0)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups)) - starts[groups[order]]
    return rank, sizes


def _stratified_normal(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Standard normal draws stratified within each group (one per 1/n quantile band)."""
    if len(groups) == 0:
        return np.zeros(0)
    rank, sizes = _group_rank(groups, rng)
    u = rng.random(len(groups))
    return _ndtri((rank + u) / sizes[groups])


# ---------------------------------------------------------------------------------------
# reference data
# ---------------------------------------------------------------------------------------
def _subject_name(subject_code: str) -> str:
    subj = ref.subjects()
    row = subj[subj["subject_code"] == subject_code]
    if row.empty or pd.isna(row["vpr_subject"].iloc[0]):
        raise KeyError(f"subject {subject_code!r} has no ВПР/РПР name in ref_subjects")
    return str(row["vpr_subject"].iloc[0])


def _lowest_pass(procedure: str, year: int, subject: str, grade: int) -> int:
    """b: the lowest primary score that earns mark 3."""
    for mark, lo, _hi in ref.mark_boundaries(procedure, year, subject, grade):
        if mark == 3:
            return lo
    raise KeyError(f"no mark 3 for {procedure} {year} {subject} {grade}")


def _marks(procedure, year, subject, grade, primary: np.ndarray) -> np.ndarray:
    return np.asarray(ref.score_to_mark(procedure, year, subject, grade, primary), dtype=np.int8)


# ---------------------------------------------------------------------------------------
# the schools and children of a year
# ---------------------------------------------------------------------------------------
def vpr_schools(region, year: int) -> pd.DataFrame:
    """Active schools that have a ФИС ОКО login (the others cannot appear in ФИС ОКО
    forms: their login would not resolve in the registry), sorted as ФИС ОКО sorts."""
    df = region.schools_in(year)
    df = df[df["fis_login"].notna()]
    return df.sort_values(["msu_code", "school_code"]).reset_index(drop=True)


def _grade_size(schools: pd.DataFrame, grade: int) -> np.ndarray:
    inside = (schools["min_grade"].to_numpy() <= grade) & (schools["max_grade"].to_numpy() >= grade)
    col = "students_per_grade" if grade <= 9 else "students_per_senior_grade"
    return np.where(inside, schools[col].to_numpy(dtype=np.int64), 0)


def _children(region, year: int, grade: int, schools: pd.DataFrame) -> dict:
    """The children of ``grade`` in every school: school index, code, class, abilities."""
    sizes = _grade_size(schools, grade)
    all_sizes = np.stack([_grade_size(schools, g) for g in CODE_GRADES])
    totals = all_sizes.sum(axis=0)
    offset = all_sizes[: CODE_GRADES.index(grade)].sum(axis=0)
    if (totals >= _CODE_PRIMES[0]).any():
        raise ValueError("a school has more children than participant codes")
    r_codes = region.rng("vpr", year, "codes")
    prime = np.asarray(_CODE_PRIMES)[r_codes.integers(0, len(_CODE_PRIMES), len(schools))]
    shift = r_codes.integers(0, 1 << 30, len(schools))
    school = np.repeat(np.arange(len(schools)), sizes)
    start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    j = np.arange(len(school)) - start[school]                   # ordinal within the grade
    ordinal = offset[school] + j
    code = _CODE_BASE + (prime[school] * ordinal + shift[school]) % np.maximum(totals[school], 1)

    n_cls = np.maximum(1, -(-sizes // MAX_CLASS_SIZE))
    cls = (j * n_cls[school]) // np.maximum(sizes[school], 1)
    cls_offset = np.concatenate(([0], np.cumsum(n_cls)[:-1]))
    class_id = cls_offset[school] + cls                           # region-wide class index

    r_ab = region.rng("vpr", year, "ability", grade)
    general = _stratified_normal(school, r_ab)
    class_effect = r_ab.normal(0.0, 0.12, int(n_cls.sum()))
    return {
        "school": school, "code": code.astype(np.int64), "cls": cls.astype(np.int64),
        "class_id": class_id, "n_classes": int(n_cls.sum()), "general": general,
        "class_effect": class_effect[class_id],
    }


# ---------------------------------------------------------------------------------------
# one form
# ---------------------------------------------------------------------------------------
def _calibrate(theta: np.ndarray, d: np.ndarray, bounds: tuple[int, int, int],
               f2: float, f5: float,
               rng: np.random.Generator) -> tuple[float, float]:
    """(a, c) so that the share of scores < b3 is ``f2`` and ≥ b5 is ``f5`` (Monte Carlo)."""
    n = min(len(theta), 3000)
    th = rng.choice(theta, n, replace=False) if len(theta) > n else theta
    u = rng.random((n, len(d)))
    logit_u = np.log(u / (1 - u))
    b3, _b4, b5 = bounds

    def shares(a: float, c: float) -> tuple[float, float]:
        pts = (logit_u < (a * (th[:, None] - d[None, :]) + c)).sum(axis=1)
        return float((pts < b3).mean()), float((pts >= b5).mean())

    def solve_c(a: float) -> float:
        lo, hi = -6.0, 6.0
        for _ in range(14):
            mid = (lo + hi) / 2
            if shares(a, mid)[0] > f2:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    lo_a, hi_a = 0.5, 3.5
    for _ in range(9):
        a = (lo_a + hi_a) / 2
        c = solve_c(a)
        if shares(a, c)[1] < f5:
            lo_a = a
        else:
            hi_a = a
    a = (lo_a + hi_a) / 2
    return a, solve_c(a)


def _draw_points(theta, d, task_start, a, c, u_rng) -> np.ndarray:
    """Points per task (n × T, int8), each point earned with P = σ(a(θ − d) + c)."""
    n, k = len(theta), len(d)
    out = np.empty((n, len(task_start)), dtype=np.int8)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        u = u_rng[lo:hi] if isinstance(u_rng, np.ndarray) else u_rng.random((hi - lo, k))
        got = (u < _sigmoid(a * (theta[lo:hi, None] - d[None, :]) + c)).astype(np.int8)
        out[lo:hi] = np.add.reduceat(got, task_start, axis=1)
    return out


def _add_points(pts: np.ndarray, rows: np.ndarray, need: np.ndarray, maxes: np.ndarray,
                order: np.ndarray, assessed: np.ndarray) -> None:
    """Give ``need[i]`` more points to row ``rows[i]`` (easiest tasks first), in place."""
    need = need.astype(np.int64).copy()
    for t in order:
        if not (need > 0).any():
            break
        room = np.where(assessed[rows, t], maxes[t] - pts[rows, t], 0)
        add = np.minimum(room, need)
        pts[rows, t] += add.astype(np.int8)
        need -= add


def _boundary_counts(school: np.ndarray, primary: np.ndarray, b: int, n_schools: int):
    def count(score):
        return np.bincount(school[primary == score], minlength=n_schools)
    return count(b), count(b - 1), count(b - 2)


def simulate_form(region, procedure: str, year: int, subject: str, grade: int,
                  schools: pd.DataFrame | None = None) -> dict:
    """Participants of one form: arrays of school index, code, class, task cells, scores."""
    schools = vpr_schools(region, year) if schools is None else schools
    src = PROCEDURES[procedure][0]
    tasks = ref.vpr_tasks(procedure, year, subject, grade)
    maxes = tasks["max_points"].to_numpy(dtype=np.int64)
    levels = tasks["task_level"].to_numpy().astype(str)
    n_tasks = len(tasks)
    bounds = ref.mark_boundaries(procedure, year, subject, grade)
    lows = {m: lo for m, lo, _ in bounds}
    b3, b4, b5 = lows[3], lows[4], lows[5]

    ch = _children(region, year, grade, schools)
    rng = region.rng(src, year, subject, grade)

    # which classes write this subject
    forms = [s for (_y, s, g) in ref.vpr_forms(procedure, year) if g == grade]
    optional = sorted(s for s in forms if s not in ALWAYS_WRITTEN)
    writes = np.ones(len(ch["school"]), dtype=bool)
    if subject in optional and len(optional) > OPTIONAL_PER_CLASS:
        r_as = region.rng(src, year, "assign", grade)
        keys = r_as.random((ch["n_classes"], len(optional)))
        rank = keys.argsort(axis=1).argsort(axis=1)[:, optional.index(subject)]
        writes = rank[ch["class_id"]] < OPTIONAL_PER_CLASS
    # presence on the day: a school-level rate
    present_rate = rng.uniform(0.88, 0.99, len(schools))
    present = rng.random(len(ch["school"])) < present_rate[ch["school"]]
    keep = np.flatnonzero(writes & present)
    school = ch["school"][keep]
    n = len(keep)

    effect = schools["school_effect"].to_numpy(dtype=np.float64)
    subject_part = _stratified_normal(school, rng)
    if procedure == "VPR":
        effect = effect + np.where(schools["is_inflating_vpr"].to_numpy(dtype=bool),
                                   INFLATION_TRUE_SHIFT, 0.0)
    theta = (effect[school] + ch["class_effect"][keep] + 0.8 * ch["general"][keep]
             + 0.6 * subject_part)

    # task difficulties (per point) and calibration
    d_task = np.array([LEVEL_DIFFICULTY[lv] for lv in levels]) + rng.normal(0.0, 0.5, n_tasks)
    task_of_point = np.repeat(np.arange(n_tasks), maxes)
    within = np.arange(len(task_of_point)) - np.repeat(np.cumsum(maxes) - maxes, maxes)
    d_point = d_task[task_of_point] + 0.35 * (within - (maxes[task_of_point] - 1) / 2)
    task_start = np.concatenate(([0], np.cumsum(maxes)[:-1]))
    senior = grade >= 10
    f2 = rng.uniform(0.03, 0.08) if senior else rng.uniform(0.04, 0.11)
    f5 = rng.uniform(0.12, 0.24)
    a, c = _calibrate(theta, d_point, (b3, b4, b5), f2, f5,
                      region.rng(src, year, subject, grade, "calibration"))

    u = rng.random((n, len(d_point)), dtype=np.float32) if n else np.zeros((0, len(d_point)))
    pts = _draw_points(theta, d_point, task_start, a, c, u)

    # not assessed ('-'): one task of a few schools, and stray cells
    assessed = np.ones_like(pts, dtype=bool)
    dash_school = rng.random(len(schools)) < 0.015
    dash_task = rng.integers(0, n_tasks, len(schools))
    rows = np.flatnonzero(dash_school[school])
    assessed[rows, dash_task[school[rows]]] = False
    assessed &= rng.random(pts.shape) >= 0.0003
    pts[~assessed] = 0
    primary_true = pts.sum(axis=1, dtype=np.int64)
    ease = np.argsort(d_task, kind="stable")

    # planted inflation (ВПР only): works that would fail are "corrected" to exactly b3,
    # the others are helped (coupled draws with a higher ability: points only go up)
    infl_school = (schools["is_inflating_vpr"].to_numpy(dtype=bool) if procedure == "VPR"
                   else np.zeros(len(schools), dtype=bool))
    inflated = infl_school[school]
    pts_out = pts
    if inflated.any():
        rows = np.flatnonzero(inflated)
        boost = rng.uniform(INFLATION_BOOST[0], INFLATION_BOOST[1], len(schools))[school[rows]]
        p_inf = _draw_points(theta[rows] + boost, d_point, task_start, a, c, u[rows])
        p_inf[~assessed[rows]] = 0
        pts_out = pts.copy()
        failing = primary_true[rows] < b3
        helped = ~failing
        pts_out[rows[helped]] = np.maximum(pts[rows[helped]], p_inf[helped])
        pull = failing & (rng.random(len(rows)) < INFLATION_PULL_SHARE)
        if pull.any():
            _add_points(pts_out, rows[pull], b3 - primary_true[rows[pull]], maxes, ease, assessed)
    # issue 21 (demo/vpr_planted.py): leaked answers in one form; a subject whose high ВПР
    # the school's ОГЭ does not confirm (journal marks stay honest: around the true mark)
    leak_school, nc_school = _issue21_schools(schools, procedure, subject, grade)
    if leak_school.any() or nc_school.any():
        pts_out = pts_out.copy() if pts_out is pts else pts_out
        r_planted = region.rng(src, year, subject, grade, "planted")
        leak_answers(pts_out, np.flatnonzero(leak_school[school]), levels, maxes, assessed,
                     r_planted)
        for s in np.flatnonzero(nc_school):
            rows_s = np.flatnonzero(school == s)

            def draw(boost: float, rows_s=rows_s) -> np.ndarray:
                p = _draw_points(theta[rows_s] + boost, d_point, task_start, a, c, u[rows_s])
                p[~assessed[rows_s]] = 0
                return p
            boost_to_z(pts_out, rows_s, int(s), school, draw)
    planted_school = infl_school | leak_school | nc_school
    primary = pts_out.sum(axis=1, dtype=np.int64)

    # honest schools: no chance peak at the boundary b3
    nb, n1, n2 = _boundary_counts(school, primary, b3, len(schools))
    m = (n1 + n2) / 2.0
    peak = ((nb + 1) / (m + 1) >= _BOUNDARY_RATIO) & ~planted_school
    if peak.any():
        move = np.floor(nb - _BOUNDARY_RATIO * (m + 1) + 1).astype(np.int64) + 1
        at_b = np.flatnonzero((primary == b3) & peak[school])
        sel = at_b[_group_rank(school[at_b], rng)[0] < move[school[at_b]]]
        _add_points(pts_out, sel, np.ones(len(sel), dtype=np.int64), maxes, ease, assessed)
        before = primary[sel]
        primary = pts_out.sum(axis=1, dtype=np.int64)
        primary_true[sel] += primary[sel] - before   # honest rows: true score = written score
    # honest schools: no chance inversion of the task levels (primary scores unchanged)
    if procedure == "VPR":
        guard_task_inversion(pts_out, assessed, school, ~planted_school, levels, maxes,
                             _MARKER_MIN_WORKS, region.rng(src, year, subject, grade, "inversion"))
    mark = _marks(procedure, year, subject, grade, primary)
    mark_true = np.where(inflated | nc_school[school],
                         _marks(procedure, year, subject, grade, primary_true), mark)

    # X for not attempted (0 points, assessed), spelling chosen by the school
    p_x = _sigmoid(-1.1 - 0.7 * theta[:, None] + np.array([LEVEL_X_SHIFT[lv] for lv in levels])[None, :])
    is_x = (pts_out == 0) & assessed & (rng.random(pts.shape, dtype=np.float32) < p_x)
    cyr = (rng.random(len(schools)) < 0.25)[school]
    cells = pts_out.astype(np.int8)
    cells[is_x & ~cyr[:, None]] = _C_XLAT
    cells[is_x & cyr[:, None]] = _C_XCYR
    cells[~assessed] = _C_DASH

    # journal marks: around the true mark, with school leniency
    lower = rng.lognormal(0.0, 0.35, len(schools))[school]   # scales P(journal > true)
    higher = rng.lognormal(0.0, 0.35, len(schools))[school]  # scales P(journal < true)
    probs = JOURNAL_GIVEN_MARK[mark_true - 2].copy()          # n × 4 (journal 2..5)
    col = np.arange(4)[None, :]
    diag = col == (mark_true - 2)[:, None]
    above = col > (mark_true - 2)[:, None]
    below = col < (mark_true - 2)[:, None]
    probs = np.where(above, probs * lower[:, None], np.where(below, probs * higher[:, None], probs))
    off = (probs * ~diag).sum(axis=1)
    probs = np.where(diag, np.clip(1.0 - off, 0.05, None)[:, None], probs)
    probs /= probs.sum(axis=1, keepdims=True)
    journal = 2 + (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    journal = np.minimum(journal, 5).astype(np.int8)
    p_empty = np.where(rng.random(len(schools)) < 0.03, 0.6, 0.015)[school]
    p_nomark = np.where(rng.random(len(schools)) < 0.05, 0.08, 0.004)[school]
    v = rng.random(n)
    journal = np.where(v < p_empty, 0, np.where(v < p_empty + p_nomark, 1, journal)).astype(np.int8)

    variant = (1 + (ch["code"][keep] + rng.integers(0, 2, len(schools))[school]) % 2).astype(np.int8)
    off = _marks_off_boundaries(region, procedure, year, subject, grade, mark, schools, school)

    # ФИС ОКО order: municipality, school (already sorted), class, code
    order = np.lexsort((ch["code"][keep], ch["cls"][keep], school))
    return {
        "procedure": procedure, "year": year, "subject": subject, "grade": grade,
        "school": school[order], "code": ch["code"][keep][order], "cls": ch["cls"][keep][order],
        "variant": variant[order], "cells": cells[order], "primary": primary[order],
        "mark": mark[order], "journal": journal[order], "mark_true": mark_true[order],
        "tasks": tasks, "b3": b3, "off_boundaries": off[order],
        "codes_per_school": region.profile.vpr_codes_per_school,
    }


def _issue21_schools(schools: pd.DataFrame, procedure: str, subject: str,
                     grade: int) -> tuple[np.ndarray, np.ndarray]:
    """(leaked answers in this form, ВПР of this subject not confirmed by the ОГЭ) per school
    (demo/planted.py); ВПР only."""
    none = np.zeros(len(schools), dtype=bool)
    if procedure != "VPR" or "vpr_leaked_form" not in schools:
        return none, none.copy()
    leak = (schools["vpr_leaked_form"] == f"{subject}:{grade}").to_numpy(dtype=bool)
    nc = (schools["vpr_not_confirmed_subject"] == subject).to_numpy(dtype=bool)
    return leak, nc


def _marks_off_boundaries(region, procedure, year, subject, grade, mark, schools, school):
    """Profiles with ``vpr_marks_off_boundaries`` = k: about k works a year (one in a few
    forms, honest schools only) get a mark one step off the seed boundaries, in place (a
    data-quality finding for the pipeline, not a reason to drop the row). Returns the mask."""
    off = np.zeros(len(mark), dtype=bool)
    k = region.profile.vpr_marks_off_boundaries
    if not k or procedure != "VPR" or len(mark) == 0:
        return off
    r = region.rng("vpr", year, subject, grade, "marks off boundaries")
    if r.random() >= k / max(1, len(ref.vpr_forms(procedure, year))):
        return off
    honest = ~schools["is_inflating_vpr"].to_numpy(dtype=bool)[school]
    rows = np.flatnonzero(honest)
    if len(rows):
        i = int(r.choice(rows))
        mark[i] = mark[i] + 1 if mark[i] < 5 else mark[i] - 1
        off[i] = True
    return off


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------
def _frame(form: dict, schools: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    sch = form["school"][lo:hi]
    tasks = form["tasks"]
    codes = form["code"][lo:hi]
    cls = form["cls"][lo:hi]
    grade = form["grade"]
    data = {
        "Муниципалитет": schools["msu_name"].to_numpy()[sch],
        "Логин ОО": schools["fis_login"].to_numpy()[sch],
        "Название ОО": schools["school_name"].to_numpy()[sch],
        "Код участника": (np.char.zfill((codes - _CODE_BASE + 1).astype(str), 5)
                          if form.get("codes_per_school") else codes.astype(str)),
        "Класс": np.char.add(str(grade), np.asarray(list(CLASS_LETTERS))[cls % len(CLASS_LETTERS)]),
        "Вариант": form["variant"][lo:hi],
    }
    maxpts = int(tasks["max_points"].max())
    cats = [DASH, X_CYRILLIC, X_LATIN] + [str(i) for i in range(maxpts + 1)]
    for j, (task, mx) in enumerate(zip(tasks["task"], tasks["max_points"])):
        data[f"{task} ({mx}б)"] = pd.Categorical.from_codes(
            form["cells"][lo:hi, j].astype(np.int16) + 3, categories=cats)
    data["Первичный балл"] = form["primary"][lo:hi]
    data["Отметка"] = form["mark"][lo:hi]
    jcodes = form["journal"][lo:hi].astype(np.int16) - 1          # 0 → -1 (empty)
    data["Отметка по журналу"] = pd.Categorical.from_codes(
        jcodes, categories=[NO_MARK, "2", "3", "4", "5"])
    for k in ("Муниципалитет", "Логин ОО", "Название ОО", "Код участника", "Класс"):
        data[k] = pd.Categorical(data[k])
    return pd.DataFrame(data)


def _quirks(form: dict, lo: int, hi: int) -> set[str]:
    cells = form["cells"][lo:hi]
    j = form["journal"][lo:hi]
    q = set()
    if (cells == _C_XLAT).any():
        q.add("latin_X")
    if (cells == _C_XCYR).any():
        q.add("cyrillic_X")
    if (cells == _C_DASH).any():
        q.add("not_assessed_dash")
    if (j == 1).any():
        q.add("no_journal_mark")
    if (j == 0).any():
        q.add("empty_journal_mark")
    if form.get("codes_per_school"):
        q.add("codes_per_school")
    if "off_boundaries" in form and form["off_boundaries"][lo:hi].any():
        q.add("mark_off_boundaries")
    return q


_FIRST_DATA_ROW = 5          # title, max score, levels, header


def _open_file(out_dir: Path, rel: Path, form: dict, lo: int, hi: int,
               rng: np.random.Generator, slice_: dict, header: list[str]):
    """Open the writer of one file; returns (writer, FileRecord)."""
    proc_ru = PROCEDURES[form["procedure"]][1]
    tasks = form["tasks"]
    title = f"{proc_ru} {form['year']} {slice_['subject']} {form['grade']} класс"
    raw = [
        [title],
        [f"Максимальный первичный балл: {int(tasks['max_points'].sum())}"],
        [None] * len(LEAD_COLUMNS) + list(tasks["task_level"]) + [None] * len(TAIL_COLUMNS),
    ]
    quirks = _quirks(form, lo, hi)
    n_off = int(form["off_boundaries"][lo:hi].sum()) if "off_boundaries" in form else 0
    if n_off:
        slice_ = {**slice_, "n_marks_off_boundaries": n_off}
    trailing = int(rng.integers(1, 4)) if rng.random() < 0.25 else 0
    if trailing:
        quirks.add("trailing_empty_rows")
    extra = []
    if rng.random() < 0.12:
        marks = form["mark"][lo:hi]
        extra.append(Sheet("Статистика", raw_rows=[
            ["Статистика по отметкам"], ["Отметка", "Количество участников", "Доля, %"],
            *[[m, int((marks == m).sum()), round(100.0 * float((marks == m).mean()), 2)]
              for m in (2, 3, 4, 5)]]))
        quirks.add("extra_sheet")
    sheet_name = str(rng.choice(["Лист1", "Результаты", "Sheet1"]))
    writer = XlsxStreamWriter(out_dir / rel, header=header, n_data_rows=hi - lo, raw_rows=raw,
                              sheet_name=sheet_name, extra_sheets=extra,
                              trailing_empty_rows=trailing)
    assert writer.first_data_row == _FIRST_DATA_ROW
    record = FileRecord(source=PROCEDURES[form["procedure"]][0], academic_year=form["year"],
                        path=rel, rows=hi - lo, slice=slice_, quirks=tuple(sorted(quirks)))
    return writer, record


def _write_jobs(out_dir: Path, form: dict, schools: pd.DataFrame,
                jobs: list[tuple[int, int, dict, Path]], rng: np.random.Generator,
                chunk: int = 100_000) -> list[FileRecord]:
    """Render the form's rows once (in chunks) and stream each file's slice into it."""
    n = len(form["school"])
    if not jobs:
        return []
    los = np.array([j[0] for j in jobs])
    his = np.array([j[1] for j in jobs])
    if los[0] != 0 or his[-1] != n or (los[1:] != his[:-1]).any():
        raise AssertionError("file slices must tile the form")
    rownum = np.arange(n) - np.repeat(los, his - los) + _FIRST_DATA_ROW
    df = _frame(form, schools, 0, n)
    header = list(df.columns)
    n_tasks = len(form["tasks"])
    kinds = {c: "auto" for c in header[len(LEAD_COLUMNS):len(LEAD_COLUMNS) + n_tasks]}
    kinds["Отметка по журналу"] = "auto"
    kinds["Код участника"] = "s"
    records: list[FileRecord] = []
    k = 0                     # the next job to open
    writer = None
    cur_hi = 0
    try:
        for c0 in range(0, n, chunk):
            c1 = min(n, c0 + chunk)
            rendered = render_rows(df.iloc[c0:c1], rownum[c0:c1], kinds)
            pos = c0
            while pos < c1:
                if writer is None:
                    lo, hi, sl, rel = jobs[k]
                    writer, rec = _open_file(out_dir, rel, form, lo, hi, rng, sl, header)
                    records.append(rec)
                    cur_hi = hi
                    k += 1
                end = min(cur_hi, c1)
                writer.write_rendered(rendered.slice(pos - c0, end - pos))
                pos = end
                if pos == cur_hi:
                    writer.close()
                    writer = None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return records


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_. " else "_" for ch in text).strip()


def _msu_label(msu_name: str) -> str:
    """A municipality's name for a file name: cut to 40 characters, but never its '№ N'
    (the country tier repeats names with a number, and cut names overwrote each other)."""
    name, _, number = msu_name.partition(" № ")
    label = _safe(name)[:40]
    return f"{label} _ {number}" if number else label


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) runs of equal consecutive values."""
    if len(keys) == 0:
        return []
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    edges = np.concatenate(([0], cut, [len(keys)]))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def _split(lo: int, hi: int, school: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Split [lo, hi) at school boundaries into parts of ≤ ``limit`` rows."""
    if hi - lo <= limit:
        return [(lo, hi)]
    parts, start = [], lo
    runs = _runs(school[lo:hi])
    cur = lo
    for a, b in runs:
        a, b = a + lo, b + lo
        if b - start > limit and cur > start:
            parts.append((start, cur))
            start = cur
        cur = b
    parts.append((start, hi))
    return parts


def plan_layouts(region, procedure: str, year: int) -> dict[tuple[str, int], str]:
    """Layout of every form of the year: 'region', 'municipality' or 'school'.

    A few forms (the smallest: grade 10–11 for ВПР) go out per school, about a third per
    municipality, the rest region-wide; forms too big for one sheet are forced to
    'municipality' when written. A profile may force one layout for a whole year
    (``Profile.vpr_layouts``).
    """
    src = PROCEDURES[procedure][0]
    forms = [(s, g) for (_y, s, g) in ref.vpr_forms(procedure, year)]
    forced = region.profile.vpr_layout(year, region.years)
    if forced:                     # a profile's year of per-school (or regional) files only
        return {f: forced for f in forms}
    rng = region.rng(src, year, "layout")
    n_school = 2 if len(forms) > 8 else 1
    senior = [f for f in forms if f[1] >= 10] or forms
    by_school = {senior[i] for i in rng.choice(len(senior), min(n_school, len(senior)),
                                               replace=False)}
    rest = [f for f in forms if f not in by_school]
    n_msu = max(1, round(len(rest) / 3))
    by_msu = {rest[i] for i in rng.choice(len(rest), n_msu, replace=False)} if rest else set()
    return {f: ("school" if f in by_school else "municipality" if f in by_msu else "region")
            for f in forms}


_MAX_SCHOOL_FILES = 2_000   # above this a 'school' form goes per school only in a few МСУ


def write_form(region, out_dir: Path, procedure: str, year: int, subject: str, grade: int,
               layout: str | None = None, *, max_rows: int = MAX_ROWS - 16) -> list[FileRecord]:
    """Simulate one form and write its files; returns their records."""
    out_dir = Path(out_dir)
    src, proc_ru = PROCEDURES[procedure]
    schools = vpr_schools(region, year)
    layout = layout or plan_layouts(region, procedure, year)[(subject, grade)]
    form = simulate_form(region, procedure, year, subject, grade, schools)
    n = len(form["school"])
    rng = region.rng(src, year, subject, grade, "files")
    name = _subject_name(subject)
    base = {"subject": name, "subject_code": subject, "grade": grade}
    msu_codes = schools["msu_code"].to_numpy()
    msu_of_row = msu_codes[form["school"]]
    folder = Path(src) / str(year)

    if layout == "region" and n > max_rows:
        layout = "municipality"
    jobs: list[tuple[int, int, dict, str]] = []
    if layout == "region":
        style = int(rng.integers(0, 3))
        fname = [f"{proc_ru}_{year}_{name}_{grade}кл.xlsx",
                 f"Индивидуальные результаты {name} {grade} класс.xlsx",
                 f"{src}_{year}_{subject}_{grade}.xlsx"][style]
        jobs.append((0, n, {**base, "layout": "region"}, fname))
    else:
        school_runs = _runs(form["school"])
        per_school_msu: set[str] = set()
        if layout == "school":
            if len(school_runs) <= _MAX_SCHOOL_FILES:
                per_school_msu = set(msu_codes.tolist())
            else:
                uniq = sorted(set(msu_of_row.tolist()))
                per_school_msu = {uniq[i] for i in rng.choice(len(uniq), min(3, len(uniq)),
                                                             replace=False)}
        style = int(rng.integers(0, 2))
        for lo, hi in _runs(msu_of_row):
            msu = str(msu_of_row[lo])
            if msu in per_school_msu:
                for a, b in _runs(form["school"][lo:hi]):
                    s = schools.iloc[int(form["school"][lo + a])]
                    fname = ([f"{s['fis_login']}_{subject}{grade}.xlsx",
                              f"Результаты {s['fis_login']} {name} {grade} класс.xlsx"][
                        int(rng.integers(0, 2))])
                    jobs.append((lo + a, lo + b, {**base, "layout": "school",
                                                  "msu_code": msu,
                                                  "school_code": str(s["school_code"])}, fname))
                continue
            msu_name = str(schools.loc[schools["msu_code"] == msu, "msu_name"].iloc[0])
            parts = _split(lo, hi, form["school"], max_rows)
            for k, (a, b) in enumerate(parts):
                suffix = f"_часть{k + 1}" if len(parts) > 1 else ""
                fname = [f"{msu}_{subject}_{grade}{suffix}.xlsx",
                         f"{_msu_label(msu_name)} {name} {grade}{suffix}.xlsx"][style]
                sl = {**base, "layout": "municipality", "msu_code": msu}
                if len(parts) > 1:
                    sl["part"] = k + 1
                jobs.append((a, b, sl, fname))
    jobs = [(lo, hi, sl, folder / _safe(fname)) for lo, hi, sl, fname in jobs if hi > lo]
    paths = [path for *_, path in jobs]
    if len(set(paths)) < len(paths):   # a second file must never overwrite the first
        raise ValueError(f"ВПР {name} {grade}: file names repeat: "
                         f"{sorted({p.name for p in paths if paths.count(p) > 1})[:3]}")
    return _write_jobs(out_dir, form, schools, jobs, rng)


# ---------------------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------------------
_WORKER_REGION = None


def _init_worker(region) -> None:
    global _WORKER_REGION
    _WORKER_REGION = region


def _run_unit(args) -> list[FileRecord]:
    out_dir, procedure, year, subject, grade, layout = args
    return write_form(_WORKER_REGION, out_dir, procedure, year, subject, grade, layout)


def _default_workers() -> int:
    if multiprocessing.current_process().name != "MainProcess":
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def generate_vpr(region, out_dir: Path, procedure: str = "VPR", years=None,
                 workers: int | None = None) -> list[FileRecord]:
    """Write every ВПР (``procedure='VPR'``) or РПР (``'RPR'``) form of ``years``
    (default: all years of the region) under ``<out_dir>/<vpr|rpr>/<year>/``.

    Forms are independent units run in ``workers`` processes (default: 2 cores, or 1
    inside a worker process); the output does not depend on the number of workers.
    """
    if procedure not in PROCEDURES:
        raise ValueError(f"procedure must be one of {sorted(PROCEDURES)}, not {procedure!r}")
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    units = []
    for year in years:
        plan = plan_layouts(region, procedure, year)
        schools = vpr_schools(region, year)
        for (subject, grade), layout in plan.items():
            size = int(_grade_size(schools, grade).sum())
            units.append((size, (out_dir, procedure, year, subject, grade, layout)))
    units.sort(key=lambda u: -u[0])
    workers = _default_workers() if workers is None else max(1, int(workers))
    records: list[FileRecord] = []
    if workers == 1 or len(units) <= 1:
        _init_worker(region)
        for _size, args in units:
            records.extend(_run_unit(args))
    else:
        ctx = multiprocessing.get_context("fork") if os.name == "posix" else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                 initializer=_init_worker, initargs=(region,)) as pool:
            for recs in pool.map(_run_unit, [args for _s, args in units], chunksize=1):
                records.extend(recs)
    records.sort(key=lambda r: (r.academic_year, str(r.path)))
    return records
