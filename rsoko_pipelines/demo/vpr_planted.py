"""ВПР planted truths of issue 21 inside one simulated form (``vpr.simulate_form``).

Arrays are those of ``simulate_form``: ``pts`` (works × tasks, points), ``assessed`` (works ×
tasks, False for '-'), ``school`` (school index of each work), ``levels`` and ``maxes`` per
task. The functions change ``pts`` in place.

* :func:`leak_answers` — a school with leaked answers: every point of its П and В tasks is
  earned with probability ``LEAK_P`` (coupled with the honest draw: points only go up), so
  its harder tasks are done at least as well as its basic ones.
* :func:`boost_to_z` — a school whose ВПР in a subject is not confirmed by its ОГЭ: its
  works are drawn again with a higher ability (coupled), the smallest boost that puts its
  mean primary score at ``z`` ≥ ``target`` against the region's school means.
* :func:`guard_task_inversion` — honest schools are kept free of a chance inversion (the
  marts' ``bpv_minus_basic`` ≥ 0): where an honest school's gap comes within ``margin`` of
  it, the fewest works needed get one point moved from a П/В task to a Б task (the primary
  score, and so the mark, does not change). Without it ~7 honest school-forms a year at tier
  S reach the marker by chance (small schools, 2–4 П/В points), which would blur the planted
  truth; real data has such chance hits, the demo's truth must not.
"""

from __future__ import annotations

import numpy as np

LEAK_P = 0.92
NOT_CONFIRMED_Z = 2.2          # the ВПР z aimed at (the marker needs ≥ 1.5)
GUARD_MARGIN = -3.0            # honest gaps are kept below this (percentage points)
_HARDER = ("П", "В")


def leak_answers(pts: np.ndarray, rows: np.ndarray, levels: np.ndarray, maxes: np.ndarray,
                 assessed: np.ndarray, rng: np.random.Generator) -> None:
    harder = np.flatnonzero(np.isin(levels, _HARDER))
    if len(rows) == 0 or len(harder) == 0:
        return
    known = rng.binomial(maxes[harder][None, :], LEAK_P, (len(rows), len(harder)))
    block = pts[np.ix_(rows, harder)]
    new = np.where(assessed[np.ix_(rows, harder)], np.maximum(block, known), 0)
    pts[np.ix_(rows, harder)] = new.astype(pts.dtype)


def _school_z(sums: np.ndarray, counts: np.ndarray, s: int, new_sum: float) -> float:
    sums = sums.copy()
    sums[s] = new_sum
    has = counts > 0
    means = sums[has] / counts[has]
    sd = means.std(ddof=1) if len(means) > 1 else 0.0
    return float((sums[s] / counts[s] - means.mean()) / sd) if sd > 0 else 0.0


def boost_to_z(pts: np.ndarray, rows: np.ndarray, school_of_rows: int, school: np.ndarray,
               draw, target: float = NOT_CONFIRMED_Z, top: float = 5.0) -> float:
    """Raise the works ``rows`` of one school (``draw(boost)`` → their points at ability +
    boost, coupled with the honest draw) until its mean's z reaches ``target``; returns the
    boost used."""
    if len(rows) == 0:
        return 0.0
    n_schools = int(school.max()) + 1
    primary = pts.sum(axis=1, dtype=np.int64)
    sums = np.bincount(school, weights=primary, minlength=n_schools).astype(float)
    counts = np.bincount(school, minlength=n_schools)
    base = pts[rows].copy()

    def raised(boost: float) -> np.ndarray:
        return np.maximum(base, draw(boost))

    lo, hi = 0.0, top
    if _school_z(sums, counts, school_of_rows, float(raised(hi).sum())) < target:
        lo = hi
    else:
        for _ in range(14):
            mid = (lo + hi) / 2
            if _school_z(sums, counts, school_of_rows, float(raised(mid).sum())) >= target:
                hi = mid
            else:
                lo = mid
    pts[rows] = raised(hi).astype(pts.dtype)
    return hi


def level_gap(pts: np.ndarray, assessed: np.ndarray, rows: np.ndarray, levels: np.ndarray,
              maxes: np.ndarray) -> float | None:
    """The marts' bpv_minus_basic of one school's works: mean pct_mastered of its П/В tasks
    minus that of its Б tasks (tasks without an assessed work left out)."""
    n = assessed[rows].sum(axis=0)
    got = np.where(assessed[rows], pts[rows], 0).sum(axis=0)
    pct = np.where(n > 0, 100.0 * got / np.maximum(n, 1) / maxes, np.nan)
    basic = pct[(levels == "Б") & (n > 0)]
    harder = pct[np.isin(levels, _HARDER) & (n > 0)]
    if len(basic) == 0 or len(harder) == 0:
        return None
    return float(harder.mean() - basic.mean())


def guard_task_inversion(pts: np.ndarray, assessed: np.ndarray, school: np.ndarray,
                         honest_school: np.ndarray, levels: np.ndarray, maxes: np.ndarray,
                         min_works: int, rng: np.random.Generator,
                         margin: float = GUARD_MARGIN) -> int:
    """Move points from П/В to Б tasks within works of honest schools whose gap is ≥
    ``margin``; returns the number of points moved."""
    basic = np.flatnonzero(levels == "Б")
    harder = np.flatnonzero(np.isin(levels, _HARDER))
    if len(basic) == 0 or len(harder) == 0:
        return 0
    order = np.argsort(school, kind="stable")
    starts = np.searchsorted(school[order], np.arange(len(honest_school) + 1))
    moved = 0
    for s in np.flatnonzero(honest_school):
        rows = order[starts[s]:starts[s + 1]]
        if len(rows) < min_works:
            continue
        while True:
            gap = level_gap(pts, assessed, rows, levels, maxes)
            if gap is None or gap < margin:
                break
            give = assessed[np.ix_(rows, harder)] & (pts[np.ix_(rows, harder)] > 0)
            room = assessed[np.ix_(rows, basic)] & (pts[np.ix_(rows, basic)] < maxes[basic][None, :])
            can = give.any(axis=1) & room.any(axis=1)
            if not can.any():
                break
            r = int(rng.choice(np.flatnonzero(can)))
            t_from = harder[int(rng.choice(np.flatnonzero(give[r])))]
            t_to = basic[int(rng.choice(np.flatnonzero(room[r])))]
            pts[rows[r], t_from] -= 1
            pts[rows[r], t_to] += 1
            moved += 1
    return moved
