"""Issue 21 on the hand-made fixture (academic year 2023 of _marts_fixture.py, the cast in
_marts_fixture_objectivity.py), with a real `dbt build` shared with test_marts_fixture.py:
the two new ВПР objectivity markers, objective scores for resilience, the objectivity of the
ВсОШ school stage and its indicator, and the thresholds as reference data. Every expected
number was computed by hand from the fixture rows (the arithmetic is in comments)."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest

from _marts_fixture_objectivity import A, B, C, D, E, F, G
from conftest import run_dbt

Y = 2023


@pytest.fixture(scope="module")
def con(marts_fixture_built):
    c = duckdb.connect(str(marts_fixture_built[0]), read_only=True)
    yield c
    c.close()


def rows(con, sql, *params) -> dict[str, dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return {r[names.index("school_code")]: dict(zip(names, r)) for r in cur.fetchall()}


def approx(x):
    return pytest.approx(x, abs=1e-6)


def vpr(con) -> dict[str, dict]:
    return rows(con, "SELECT * FROM marts.vpr_objectivity WHERE academic_year = ? "
                     "AND subject_code = 'math' AND grade = 5", Y)


def test_task_inversion(con):
    got = vpr(con)
    a = got[A]
    # A: task 1 (Б, 14) 80 of 140 points = 57.142857 %; task 2 (П, 4) 37 of 40 = 92.5 %,
    # task 3 (В, 2) 18 of 20 = 90 %: П/В mastery (92.5 + 90) / 2 = 91.25, each task weighs
    # the same → gap 91.25 − 57.142857 = 34.107143 ≥ 0
    assert a["bpv_minus_basic"] == approx((92.5 + 90) / 2 - 800 / 14)
    assert a["marker_task_inversion"] is True
    # its marks are plausible: journal = ВПР mark, no boundary peak, mean not high → 1 marker
    assert (a["marker_raised"], a["marker_boundary"], a["marker_high_vs_region"],
            a["marker_not_confirmed"], a["n_markers"], a["is_flagged"]) == (
        False, False, False, False, 1, False)
    # C: Б 138 of 140 = 98.571 %, П 36 of 40 = 90 %, В 13 of 20 = 65 %
    assert got[C]["bpv_minus_basic"] == approx((90 + 65) / 2 - 13800 / 140)
    assert got[C]["marker_task_inversion"] is False
    # D: Б 87/140, П 13/40, В 3/20
    assert got[D]["bpv_minus_basic"] == approx((32.5 + 15) / 2 - 8700 / 140)
    # B: 3 works, a small cell: no value, no marker
    assert (got[B]["bpv_minus_basic"], got[B]["marker_task_inversion"]) == (None, None)


def test_not_confirmed_by_the_oge_of_the_same_subject(con):
    got = vpr(con)
    # ВПР school means: A 13.5, B 15.0, C 18.7, D 10.3, E 10.8, F 14.9 (sum 83.2, Σx² 1201.68)
    sd = ((1201.68 - 83.2 ** 2 / 6) / 5) ** 0.5
    assert got[C]["z_vs_region"] == approx((18.7 - 83.2 / 6) / sd)        # 1.5604 ≥ 1.5
    # ОГЭ mathematics 2023, mean marks of the schools with ≥ 10 results: A 3.4, C 3.2, D 3.9,
    # E 4.1 (mean 3.65, sample SD √(0.53 / 3)); B has 2 results: not in the distribution
    oge_sd = (0.53 / 3) ** 0.5
    assert got[C]["oge_results"] == 10
    assert got[C]["oge_z_same_subject"] == approx(-0.45 / oge_sd)       # −1.0706 ≤ 0
    assert got[A]["oge_z_same_subject"] == approx(-0.25 / oge_sd)
    assert got[D]["oge_z_same_subject"] == approx(0.25 / oge_sd)
    assert (got[F]["oge_results"], got[F]["oge_z_same_subject"]) == (None, None)   # no ОГЭ
    c = got[C]
    # the journal is one mark lower in 6 of 10 works: pct_raised 60 > the region's 90th
    # percentile of [0, 0, 0, 0, 0, 60] = 0 + 0.5 × 60 = 30
    assert c["pct_raised"] == approx(60.0) and c["region_p90_pct_raised"] == approx(30.0)
    assert (c["marker_raised"], c["marker_high_vs_region"], c["marker_not_confirmed"],
            c["marker_task_inversion"], c["n_markers"], c["is_flagged"]) == (
        True, False, True, False, 2, True)
    # high ВПР but no ОГЭ to disprove it is not the marker: E and D are not high
    assert got[D]["marker_not_confirmed"] is False and got[F]["marker_not_confirmed"] is False


def test_results_score_z_leaves_out_flagged_vpr(con):
    got = rows(con, "SELECT * FROM marts.low_results_schools WHERE academic_year = ?", Y)
    assert sorted(got) == sorted([A, B, C, D, E, F])                   # G, H: no results
    assert got[C]["is_vpr_flagged"] is True and not any(
        got[s]["is_vpr_flagged"] for s in (A, B, D, E, F))
    # ВПР maths 5 (score = primary ÷ 20; a z does not change with the scale): C is flagged,
    # so its 10 works leave the group and the region's distribution; B has 3 (< 10).
    # Means A 13.5, D 10.3, E 10.8, F 14.9: mean 12.375, SS 14.4275, SD √(14.4275 / 3)
    vpr_sd = (14.4275 / 3) ** 0.5
    z_vpr = {s: (m - 12.375) / vpr_sd for s, m in ((A, 13.5), (D, 10.3), (E, 10.8), (F, 14.9))}
    # ОГЭ maths (primary 5/10/18/25 for marks 2–5, ÷ the seed maximum 31): primary means
    # A 13.2, C 11.6, D 17.1, E 18.6: mean 15.125, SS 32.1075, SD √(32.1075 / 3)
    oge_sd = (32.1075 / 3) ** 0.5
    z_oge = {s: (m - 15.125) / oge_sd for s, m in ((A, 13.2), (C, 11.6), (D, 17.1), (E, 18.6))}
    # weighted by results (10 each)
    assert got[A]["results_score_z"] == approx((z_vpr[A] + z_oge[A]) / 2)
    assert got[C]["results_score_z"] == approx(z_oge[C])                # ЕГЭ/ОГЭ always count
    assert got[F]["results_score_z"] == approx(z_vpr[F])
    assert got[E]["results_score_z"] == approx((z_vpr[E] + z_oge[E]) / 2)
    assert (got[A]["n_results_scored"], got[C]["n_results_scored"],
            got[F]["n_results_scored"]) == (20, 10, 10)
    assert got[B]["results_score_z"] is None
    # the 75th percentile of the five values is the 4th smallest, E's
    assert got[A]["region_p75_results_score_z"] == approx((z_vpr[E] + z_oge[E]) / 2)


def test_resilience_on_objective_scores(con):
    got = rows(con, "SELECT * FROM marts.low_results_schools WHERE academic_year = ?", Y)
    # quartile 1 of the social index (8 schools, 2 per quartile): A and F
    assert {s for s, r in got.items() if r["context_quartile"] == 1} == {A, F}
    # F: honest good ВПР, top quartile of results_score_z → resilient
    assert got[F]["results_group"] == "резильентная"
    # A (leaked answers, one marker, not flagged) has no ВПР failures, like F and C: on failure
    # shares (results_z = 0.7303 = the 75th percentile) it would pass as resilient; on scores
    # (−0.038 < 0.172) it does not
    assert got[A]["results_z"] == approx(got[A]["region_p75_results_z"])
    assert got[A]["results_group"] == "прочие"
    assert got[C]["results_group"] == "прочие"


def olympiad(con) -> dict[str, dict]:
    return rows(con, "SELECT * FROM marts.olympiad_objectivity WHERE academic_year = ? "
                     "AND subject = 'Математика'", Y)


def test_olympiad_objectivity(con):
    got = olympiad(con)
    a = got[A]
    # A: 9 of 12 awarded at the school stage = 75 %; the assessed schools (≥ 10 participants)
    # A 75, C 20, D 30, E 20, F 30, G 20, H 30: mean 225 / 7, Σx² 9525, sample SD
    sd = ((9525 - 225 ** 2 / 7) / 6) ** 0.5
    assert (a["school_stage_participants"], a["school_stage_awarded"]) == (12, 9)
    assert a["pct_awarded"] == approx(75.0)
    assert a["z_awarded"] == approx((75 - 225 / 7) / sd)                 # 2.19 ≥ 2
    # municipal stage: A sent 6, none awarded → 0 %; the schools with ≥ 5 sent: A 0, D 2/5
    # = 40, E 1/5 = 20, F 3/6 = 50, H 1/5 = 20 → 10th percentile of [0, 20, 20, 40, 50]
    # = 0 + 0.4 × 20 = 8
    assert (a["sent_to_municipal"], a["municipal_awarded"]) == (6, 0)
    assert a["municipal_success_pct"] == approx(0.0)
    assert a["region_p10_municipal_success"] == approx(8.0)
    assert (a["is_assessed"], a["is_flagged"]) == (True, True)
    assert got[D]["municipal_success_pct"] == approx(40.0)
    assert got[F]["municipal_success_pct"] == approx(50.0)
    # C sent 2 (one awarded): a rate of fewer than rsoko:min_cell_size is not shown
    assert (got[C]["sent_to_municipal"], got[C]["municipal_awarded"],
            got[C]["municipal_success_pct"]) == (2, 1, None)
    # G: 0 of 1 at the municipal stage (≤ 8) but an ordinary school stage (z −0.62)
    assert got[G]["z_awarded"] == approx((20 - 225 / 7) / sd) and got[G]["is_flagged"] is False
    # B: 4 participants, not assessed and a small cell
    b = got[B]
    assert (b["is_assessed"], b["is_suppressed"], b["pct_awarded"], b["z_awarded"],
            b["is_flagged"]) == (False, True, None, None, False)
    assert [s for s, r in got.items() if r["is_flagged"]] == [A]


def test_olympiad_objectivity_schools_and_indicator(con):
    got = rows(con, "SELECT * FROM marts.olympiad_objectivity_schools WHERE academic_year = ?", Y)
    assert len(got) == 8
    assert (got[A]["participants"], got[A]["subjects_total"], got[A]["subjects_assessed"],
            got[A]["subjects_flagged"], got[A]["is_flagged"]) == (12, 1, 1, 1, True)
    assert (got[B]["subjects_assessed"], got[B]["is_flagged"]) == (0, False)
    ind = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT level, municipality_code, value, numerator, denominator, direction "
        "FROM marts.indicators WHERE indicator_code = 'OLY_FLAGGED_SCHOOLS_PCT' "
        "AND academic_year = ?", [Y]).fetchall()}
    assert ind[("region", None)] == (approx(12.5), 1, 8, 5)            # A of 8 schools
    assert ind[("municipality", "07")][:3] == (approx(25.0), 1, 4)     # A, B, E, G
    assert ind[("municipality", "012")][:3] == (approx(0.0), 0, 4)


def test_thresholds_are_reference_data(marts_fixture_built):
    """The rules come from reference.ref_methodology_thresholds: with the ВПР inversion
    threshold raised to 40 pp (A's gap is 34.1) and the olympiad z to 2.5 (A's 2.19), A loses
    both flags; nothing in the SQL changes."""
    warehouse, tmp = marts_fixture_built
    copy = tmp / "thresholds.duckdb"
    shutil.copy(warehouse, copy)
    c = duckdb.connect(str(copy))
    try:
        c.execute("UPDATE reference.ref_methodology_thresholds SET value = 40 "
                  "WHERE threshold_code = 'vpr_task_inversion_gap_min'")
        c.execute("UPDATE reference.ref_methodology_thresholds SET value = 2.5 "
                  "WHERE threshold_code = 'oly_awarded_z_min'")
    finally:
        c.close()
    run_dbt(copy, tmp, "run", "--select", "vpr_objectivity", "olympiad_objectivity")
    c = duckdb.connect(str(copy), read_only=True)
    try:
        assert vpr(c)[A]["marker_task_inversion"] is False
        assert olympiad(c)[A]["is_flagged"] is False
    finally:
        c.close()


# the literals these marts used to carry (57 / 28.5, the 90th and 75th percentiles, ≥ 10
# participants, ≥ 30 %, ratio ≥ 3, z ≥ 2 and 1.5, the 10th percentile)
OLD_LITERALS = re.compile(r"\b(?:57|28\.5)\b|>=\s*(?:10|30|3|2|1\.5)\b|"
                          r"quantile_cont\([^)]*,\s*0\.\d+\s*\)")


def test_no_methodological_literal_in_the_marts_sql():
    """The thresholds of the objectivity, low-results, resilience and deficit rules are read
    from the seed, not written in the SQL (comments aside; `abs(mark − journal) >= 2` is the
    definition of the column pct_gap_2plus, `best >= 2` the rank of a prize status)."""
    from rsoko_pipelines.settings import DBT_PROJECT_DIR

    marts = DBT_PROJECT_DIR / "models" / "marts"
    for name in ("task_mastery", "vpr_objectivity", "low_results_schools", "olympiad_objectivity"):
        sql = (marts / f"{name}.sql").read_text(encoding="utf-8")
        code = "\n".join(line.split("--")[0] for line in sql.splitlines()
                         if "journal_mark) >= 2" not in line and "best >= 2" not in line)
        assert OLD_LITERALS.findall(code) == [], name
