"""The indicator marts (schema `marts`) on a tiny hand-made landing data set
(tests/integration/_marts_fixture.py) with a real `dbt build`: every expected number below
was computed by hand from the rows listed in the fixture (the arithmetic is in comments).

Schools: A 070101 (МСУ 07, small, least favourable context), B 070102 (МСУ 07, гимназия,
3 ЕГЭ results: a small cell), C 070201 (МСУ 012, big), D 070202 (МСУ 012, low results)."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rsoko_pipelines.settings import DBT_PROJECT_DIR

sys.path.insert(0, str(Path(__file__).parent))

DBT = str(Path(sys.executable).parent / "dbt")
MARTS = ("assessment_results", "task_mastery", "vpr_objectivity", "vpr_objectivity_schools",
         "school_context", "low_results_schools", "olympiad_coverage", "literacy_results",
         "indicators", "olympiad_objectivity", "olympiad_objectivity_schools",
         "recommendations", "measure_effects")    # issue 19
A, B, C, D = "070101", "070102", "070201", "070202"


def dbt(warehouse: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RSOKO_WAREHOUSE": str(warehouse),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run([DBT, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def built(marts_fixture_built):
    return marts_fixture_built                   # conftest.py: one `dbt build` per session


@pytest.fixture(scope="module")
def con(built):
    c = duckdb.connect(str(built[0]), read_only=True)
    yield c
    c.close()


def one(con, sql, *params) -> dict:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    got = cur.fetchall()
    assert len(got) == 1, (sql, params, got)
    return dict(zip(names, got[0]))


def approx(x):
    return pytest.approx(x, abs=1e-6)


def test_every_mart_in_schema_marts_with_descriptions(con):
    tables = {r[0]: r[1] for r in con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
    assert set(MARTS) <= set(tables)
    for t in MARTS:
        assert " / " in (tables[t] or ""), t                  # Russian / English
        undocumented = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND "
            "table_name = ? AND (comment IS NULL OR comment NOT LIKE '% / %')", [t]).fetchall()
        assert undocumented == [], (t, undocumented)
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND "
            "table_name = ?", [t]).fetchall()}
        assert not cols & {"participant_id", "participant_key", "participant_code"}, t


ASSESS = ("SELECT * FROM marts.assessment_results WHERE academic_year = 2025 AND level = ? "
          "AND municipality_code IS NOT DISTINCT FROM ? AND school_code IS NOT DISTINCT FROM ? "
          "AND procedure = ? AND subject_code = ?")


def test_assessment_results_school(con):
    # A, ЕГЭ русский: 20, 50 (PA2's re-take; 30 on the main day is not of record), 75, 85,
    # 60; PA5 removed. Primary = test // 2: 10, 25, 37, 42, 30.
    a = one(con, ASSESS, "school", "07", A, "EGE", "rus")
    assert a["academic_year_label"] == "2024/25" and a["grade"] == 11
    assert a["procedure_name"].startswith("Единый государственный экзамен")
    assert (a["participants"], a["n_removed"], a["n_top"], a["is_suppressed"]) == (5, 1, 0, False)
    assert a["mean_test_score"] == approx(58.0)               # 290 / 5
    assert a["mean_primary_score"] == approx(28.8)            # 144 / 5
    assert a["mean_mark"] is None
    assert a["pct_failed"] == approx(20.0)                    # 20 < 24
    assert a["pct_good"] == approx(40.0)                      # 75, 85 ≥ 70
    assert a["pct_high"] == approx(20.0)                      # 85 ≥ 80
    # базовая математика at C: marks 2, 3, 4, 5, 5 → a mark, no test score
    c = one(con, ASSESS, "school", "012", C, "EGE", "math_base")
    assert (c["participants"], c["mean_test_score"]) == (5, None)
    assert c["mean_mark"] == approx(3.8) and c["pct_failed"] == approx(20.0)
    assert c["pct_good"] == approx(60.0) and c["pct_high"] == approx(40.0)


def test_assessment_results_small_cell(con):
    # B: 70, 80, 40 → 3 participants < 5: every rate and mean NULL, counts kept
    b = one(con, ASSESS, "school", "07", B, "EGE", "rus")
    assert (b["participants"], b["n_removed"], b["n_top"], b["is_suppressed"]) == (3, 0, 0, True)
    assert [b[k] for k in ("mean_primary_score", "mean_test_score", "mean_mark", "pct_failed",
                           "pct_good", "pct_high")] == [None] * 6


def test_assessment_results_levels_from_participants(con):
    # МСУ 07 = A + B: 8 results, (290 + 190) / 8 = 60.0; failed 1 of 8
    m = one(con, ASSESS, "municipality", "07", None, "EGE", "rus")
    assert (m["participants"], m["n_removed"]) == (8, 1)
    assert m["mean_test_score"] == approx(60.0)
    assert m["pct_failed"] == approx(12.5) and m["pct_good"] == approx(50.0)
    # region: 14 results: 290 + 190 + (100+90+60+30+24+10 = 314) = 794 → 56.714…, not the
    # mean of the school means (58 + 63.33 + 52.33) / 3 = 57.89
    r = one(con, ASSESS, "region", None, None, "EGE", "rus")
    assert (r["participants"], r["n_removed"], r["n_top"]) == (14, 1, 1)
    assert r["mean_test_score"] == approx(794 / 14)
    assert r["mean_test_score"] != approx((58 + 190 / 3 + 314 / 6) / 3)
    assert r["mean_primary_score"] == approx(396 / 14)         # 144 + 95 + 157
    assert r["pct_failed"] == approx(200 / 14)                 # 20 and 10
    assert r["pct_good"] == approx(600 / 14)                   # 75 85 70 80 100 90
    assert r["pct_high"] == approx(400 / 14)                   # 85 80 100 90
    # ОГЭ mathematics: A 2,2,3,4,5,3; C 4,4,5,5,3,3,3,2,4,5 (+1 annulled); D 2,2,2,2,3,3,3,3,4,4
    o = one(con, ASSESS, "region", None, None, "OGE", "math")
    assert (o["participants"], o["n_removed"], o["grade"], o["n_top"]) == (26, 1, 9, None)
    assert o["mean_mark"] == approx(85 / 26)                   # 19 + 38 + 28
    assert o["pct_failed"] == approx(700 / 26) and o["pct_good"] == approx(1000 / 26)
    assert o["pct_high"] == approx(400 / 26)


def test_region_equals_participant_level_computation(con):
    direct = dict(((p, s, g), (n, m)) for p, s, g, n, m in con.execute(
        "SELECT procedure, subject_code, grade, count(*), avg(primary_score) "
        "FROM core.fct_assessment_result WHERE is_result_of_record AND academic_year = 2025 "
        "GROUP BY ALL").fetchall())
    mart = dict(((p, s, g), (n, m)) for p, s, g, n, m in con.execute(
        "SELECT procedure, subject_code, grade, participants, mean_primary_score "
        "FROM marts.assessment_results WHERE level = 'region' AND academic_year = 2025 "
        "AND participants > 0").fetchall())
    assert mart.keys() == direct.keys()
    for k, (n, m) in direct.items():
        assert mart[k][0] == n
        assert mart[k][1] == (approx(m) if n >= 5 else None)


TASK = ("SELECT * FROM marts.task_mastery WHERE academic_year = 2025 AND level = ? "
        "AND school_code IS NOT DISTINCT FROM ? AND procedure = 'VPR' AND subject_code = 'rus' "
        "AND grade = 4 AND task = ?")


def test_task_mastery(con):
    # task 1 (Б, 20 points) = min(primary, 20): A 70 + 20+20+20+12+16+20+20 = 198 over 12
    t1 = one(con, TASK, "school", A, "1")
    assert (t1["task_level"], t1["max_points"], t1["participants"]) == ("Б", 20, 12)
    assert t1["mean_points"] == approx(16.5) and t1["pct_mastered"] == approx(82.5)
    assert t1["is_deficit"] is False
    # task 2 (П, 18): one '-' (not assessed, excluded), one X (= 0): 46 points over 11
    t2 = one(con, TASK, "school", A, "2")
    assert (t2["task_level"], t2["participants"]) == ("П", 11)
    assert t2["mean_points"] == approx(46 / 11)
    assert t2["pct_mastered"] == approx(46 / 11 / 18 * 100)    # 23.2 < 28.5
    assert t2["is_deficit"] is True
    # region task 1: A 198 + B 60 + C 100 + D 156 = 514 over 30 works
    r1 = one(con, TASK, "region", None, "1")
    assert r1["participants"] == 30 and r1["mean_points"] == approx(514 / 30)
    assert r1["pct_mastered"] == approx(514 / 30 / 20 * 100)
    # B: 3 works → suppressed
    b1 = one(con, TASK, "school", B, "1")
    assert (b1["participants"], b1["mean_points"], b1["pct_mastered"], b1["is_deficit"],
            b1["is_suppressed"]) == (3, None, None, None, True)


OBJ = ("SELECT * FROM marts.vpr_objectivity WHERE academic_year = ? AND school_code = ? "
       "AND subject_code = 'rus' AND grade = 4")


def test_vpr_objectivity(con):
    a = one(con, OBJ, 2025, A)
    # 12 works, 11 with a journal mark: raised 5, confirmed 4, lowered 2; |gap| ≥ 2: 2
    assert (a["participants"], a["n_with_journal_mark"], a["boundary_score"]) == (12, 11, 14)
    assert a["pct_raised"] == approx(500 / 11) and a["pct_confirmed"] == approx(400 / 11)
    assert a["pct_lowered"] == approx(200 / 11) and a["pct_gap_2plus"] == approx(200 / 11)
    # n(14) = 5, n(13) = 0, n(12) = 1: (5 + 1) / ((0 + 1) / 2 + 1) = 4.0
    assert a["boundary_peak_ratio"] == approx(4.0)
    assert a["mean_primary_score"] == approx(244 / 12)
    # school means A 20.333, B 24, C 34, D 19.5: mean 24.4583, sample SD 6.65468
    assert a["z_vs_region"] == pytest.approx(-0.619864, abs=1e-5)
    # 90th percentile of pct_raised over A 45.45, C 0, D 0 (B has no journal marks):
    # 0 + 0.8 × 45.45 = 36.36 < 45.45
    assert a["region_p90_pct_raised"] == approx(0.8 * 500 / 11)
    assert (a["marker_raised"], a["marker_boundary"], a["marker_high_vs_region"],
            a["n_markers"], a["is_flagged"]) == (True, True, False, 2, True)
    d = one(con, OBJ, 2025, D)
    assert d["pct_confirmed"] == approx(100.0) and d["boundary_peak_ratio"] == approx(1.0)
    assert d["z_vs_region"] == pytest.approx(-4.958333 / 6.654677, abs=1e-5)
    assert (d["n_markers"], d["is_flagged"]) == (0, False)
    # C: 5 works (< 10): values shown, markers not computed
    c = one(con, OBJ, 2025, C)
    assert c["pct_confirmed"] == approx(100.0) and c["z_vs_region"] == pytest.approx(
        9.541667 / 6.654677, abs=1e-5)
    assert (c["marker_raised"], c["n_markers"], c["is_flagged"]) == (None, None, False)
    b = one(con, OBJ, 2025, B)
    assert (b["participants"], b["is_suppressed"], b["mean_primary_score"], b["z_vs_region"],
            b["boundary_peak_ratio"], b["pct_raised"]) == (3, True, None, None, None, None)


def test_vpr_objectivity_schools_consecutive_years(con):
    got = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT academic_year, school_code, works_total, works_flagged, is_flagged, "
        "consecutive_flagged_years FROM marts.vpr_objectivity_schools").fetchall()}
    assert got[(2024, A)] == (1, 1, True, 1)
    assert got[(2025, A)] == (1, 1, True, 2)
    assert got[(2025, D)] == (1, 0, False, 0)
    assert got[(2025, B)] == (1, 0, False, 0)


def test_school_context(con):
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT school_code, social_index, context_quartile, context_cluster "
        "FROM marts.school_context WHERE academic_year = 2025").fetchall()}
    # A: z(higher ed) = (10 − 35) / 18.028 = −1.38675, z(low-income) = (40 − 18.75) /
    # 13.405 = 1.58526, z(single) = z(non-native) = 1.52128 → (−1.38675 − 1.58526 −
    # 1.52128 − 1.52128) / 4 = −1.50364
    assert got[A][0] == pytest.approx(-1.503641, abs=1e-5)
    assert got[B][0] == pytest.approx(1.194734, abs=1e-5)
    assert got[C][0] == pytest.approx(0.486072, abs=1e-5)
    assert got[D][0] == pytest.approx(-0.177166, abs=1e-5)
    assert {k: v[1] for k, v in got.items()} == {A: 1, D: 2, C: 3, B: 4}
    assert {k: v[2] for k, v in got.items()} == {
        A: "село, <100", B: "город, 100–500", C: "город, >500", D: "город, >500"}


def test_low_results_schools(con):
    rows = {r["school_code"]: r for r in (dict(zip([d[0] for d in cur.description], v))
            for cur in [con.execute("SELECT * FROM marts.low_results_schools "
                                    "WHERE academic_year = 2025")] for v in cur.fetchall())}
    d = rows[D]
    # ОГЭ 4 of 10 (40 %), ВПР 3 of 10 (30 %); 2024: ОГЭ 5 of 10, ВПР 3 of 10
    assert (d["n_results_oge"], d["n_results_vpr"], d["n_results_ege"]) == (10, 10, 0)
    assert d["pct_failed_oge"] == approx(40.0) and d["pct_failed_vpr"] == approx(30.0)
    assert d["pct_failed_ege"] is None
    assert (d["n_procedures_failing"], d["repeat_failing"], d["is_low_results"],
            d["was_low_results_last_year"]) == (2, True, True, True)
    # results_z: ОГЭ C 10 %, D 40 % → z ±0.7071; ВПР A 8.33 %, D 30 % → ±0.7071
    assert d["results_z"] == approx(-0.5 ** 0.5)
    assert d["results_group"] == "низкие результаты, благоприятный контекст"   # quartile 2
    a = rows[A]
    assert a["pct_failed_vpr"] == approx(100 / 12) and a["pct_failed_oge"] == approx(200 / 6)
    assert (a["n_procedures_failing"], a["is_low_results"]) == (0, False)   # ОГЭ: 6 < 10
    assert a["results_z"] == approx(0.5 ** 0.5) and a["context_quartile"] == 1
    # A's failure shares are the best of the region, but its ВПР is flagged (markers raised
    # and boundary): left out of results_score_z, and a flagged school is never resilient;
    # its ОГЭ (6) and ЕГЭ (5) results are below 10 per subject: no objective score at all
    assert (a["is_vpr_flagged"], a["results_score_z"], a["n_results_scored"]) == (True, None, 0)
    assert a["results_group"] == "прочие"
    c = rows[C]
    assert c["pct_failed_ege"] == approx(300 / 13)           # rus 10, base mark 2, prof 20
    assert c["results_z"] == approx(0.5 ** 0.5)              # ЕГЭ: one school, no z
    assert c["results_group"] == "прочие" and c["was_low_results_last_year"] is None
    b = rows[B]
    assert (b["participants"], b["pct_failed_ege"], b["pct_failed_vpr"], b["results_z"],
            b["results_group"]) == (6, None, None, None, None)


OLY = ("SELECT * FROM marts.olympiad_coverage WHERE academic_year = 2025 AND level = ? "
       "AND municipality_code IS NOT DISTINCT FROM ? AND school_code IS NULL AND stage = ? "
       "AND subject = ?")


def test_olympiad_coverage(con):
    r = one(con, OLY, "region", None, "школьный", "Все предметы")
    # a1 a2 a3 b1 c1…c5 = 9 students; best status: a2, c1 winners, a1 prize-winner
    assert (r["students_4_11"], r["participants"], r["winners"], r["prize_winners"],
            r["schools_with_prize"]) == (960, 9, 2, 1, 2)
    assert r["coverage_pct"] == approx(0.9375)               # 9 / 960 × 100
    assert r["winners_and_prize_per_1000"] == approx(3.125)  # 3 / 960 × 1000
    m = one(con, OLY, "municipality", "012", "школьный", "Все предметы")
    assert (m["students_4_11"], m["participants"], m["winners"]) == (700, 5, 1)
    assert m["coverage_pct"] == approx(500 / 700)
    m07 = one(con, OLY, "municipality", "07", "школьный", "Все предметы")
    assert (m07["participants"], m07["winners"], m07["prize_winners"], m07["coverage_pct"],
            m07["is_suppressed"]) == (4, 1, 1, None, True)
    reg = one(con, OLY, "region", None, "региональный", "Все предметы")
    assert (reg["participants"], reg["winners"], reg["prize_winners"]) == (5, 1, 1)
    assert reg["winners_and_prize_per_1000"] == approx(2000 / 960)
    math = one(con, OLY, "region", None, "школьный", "Математика")
    assert (math["participants"], math["winners"], math["prize_winners"],
            math["subject_code"]) == (9, 1, 0, "math")


def test_literacy_results(con):
    q = ("SELECT * FROM marts.literacy_results WHERE academic_year = 2025 AND level = ? "
         "AND school_code IS NOT DISTINCT FROM ? AND domain = 'читательская'")
    r = one(con, q, "region", None)
    # 1220 + 3330 = 4550 over 9 (mean of school means would be 480.8)
    assert r["participants"] == 9 and r["mean_score"] == approx(4550 / 9)
    assert r["pct_below_level_2"] == approx(200 / 9) and r["pct_level_5_6"] == approx(200 / 9)
    c = one(con, q, "school", C)
    assert c["mean_score"] == approx(555.0) and c["pct_below_level_2"] == approx(100 / 6)
    assert c["pct_level_5_6"] == approx(200 / 6)
    a = one(con, q, "school", A)
    assert (a["participants"], a["mean_score"], a["is_suppressed"]) == (3, None, True)


def test_indicators(con):
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT indicator_code, value, numerator, denominator, meets_target, direction "
        "FROM marts.indicators WHERE academic_year = 2025 AND level = 'region'").fetchall()}
    # every catalogue indicator has its region row; those whose sources this data set does
    # not load (directions 4 and 9, the register of measures) carry no value, only a reason
    # (`sources`: space-separated sources all needed, `a|b` either of them)
    loaded = {r[0] for r in con.execute(
        "SELECT DISTINCT source FROM raw._file_registry WHERE status = 'loaded'").fetchall()}
    catalogue, computable = set(), set()
    for code, sources in con.execute(
            "SELECT indicator_code, sources FROM reference.indicator_catalogue").fetchall():
        catalogue.add(code)
        if all(set(alt.split("|")) & loaded for alt in sources.split()):
            computable.add(code)
    assert {c for c, v in got.items() if v[0] is None} >= catalogue - computable
    assert set(got) == catalogue and len(catalogue) >= 17
    expected = {
        "EGE_FAIL_PCT": (400 / 21, 4, 21),       # rus 2 + base 1 + prof 1 of 14 + 5 + 2
        "EGE_80PLUS_PCT": (31.25, 5, 16),        # 85 80 100 90 + prof 85 of 16 test scores
        "EGE_100_COUNT": (1, 1, None),
        "EGE_PROFILE_MATH_PCT": (100 / 3, 2, 6),  # PC1, PC6 of PC1…PC6
        "OGE_FAIL_PCT": (700 / 26, 7, 26),
        "OGE_GOOD_PCT": (1000 / 26, 10, 26),
        "VPR_BASIC_PCT": (2600 / 30, 26, 30),
        "GIA_REMOVED_PER_1000": (40.0, 2, 50),   # ЕГЭ 23 rows + ОГЭ 27 rows
        "LIT_BELOW2_PCT": (200 / 9, 2, 9),
        "LOW_RESULTS_SCHOOLS_PCT": (25.0, 1, 4),
        "LOW_RESULTS_EXIT_PCT": (0.0, 0, 1),
        "RESILIENT_SCHOOLS_PCT": (0.0, 0, 3),    # A: flagged ВПР (see test_low_results_schools)
        "OLY_FLAGGED_SCHOOLS_PCT": (0.0, 0, 3),  # A, B, C run a school stage; no municipal stage
        "OLY_SCHOOL_STAGE_COVERAGE_PCT": (0.9375, 9, 960),
        "OLY_REGIONAL_PRIZE_PER_1000": (2000 / 960, 2, 960),
        "VPR_FLAGGED_SCHOOLS_PCT": (25.0, 1, 4),
        "VPR_FLAGGED_REPEAT_PCT": (25.0, 1, 4),
        "VPR_DEFICIT_TASKS_PCT": (0.0, 0, 1),
    }
    for code, (value, num, den) in expected.items():
        assert got[code][:3] == (approx(value), num, den), code
    assert got["EGE_FAIL_PCT"][3] is False and got["VPR_BASIC_PCT"][3] is False
    assert got["VPR_FLAGGED_SCHOOLS_PCT"][4] == 5
    # a small school: value and numerator hidden, denominator kept
    b = one(con, "SELECT * FROM marts.indicators WHERE indicator_code = 'EGE_FAIL_PCT' "
                 "AND academic_year = 2025 AND school_code = ?", B)
    assert (b["level"], b["value"], b["numerator"], b["denominator"], b["is_suppressed"]) == (
        "school", None, None, 3, True)
    m = one(con, "SELECT * FROM marts.indicators WHERE indicator_code = 'EGE_FAIL_PCT' "
                 "AND academic_year = 2025 AND level = 'municipality' AND municipality_code = '07'")
    assert m["value"] == approx(12.5)


def test_min_cell_size_var(built):
    """The cell size is the dbt var: with rsoko:min_cell_size = 10, C's 6 ЕГЭ Russian results
    are hidden too, A's 12 ВПР works are not."""
    warehouse, tmp = built
    copy = tmp / "cell10.duckdb"
    shutil.copy(warehouse, copy)
    dbt(copy, tmp, "run", "--select", "path:models/marts",
        "--vars", json.dumps({"rsoko:min_cell_size": 10}))
    c = duckdb.connect(str(copy), read_only=True)
    try:
        got = one(c, ASSESS, "school", "012", C, "EGE", "rus")
        assert (got["participants"], got["mean_test_score"], got["is_suppressed"]) == (6, None, True)
        got = one(c, OBJ, 2025, A)
        assert got["is_suppressed"] is False and got["is_flagged"] is True
    finally:
        c.close()


# ---------------------------------------------------------------------------------------
# Directions 6 and 7 (issue 17): staff, ДПО, deficit diagnostics, НОКУОД. The rows are in
# _staff_fixture.py; every expected value is computed by hand below.
DATE = datetime.date
STAFF_MARTS = ("staff_profile", "teacher_deficits", "teacher_deficit_elements", "school_heads",
               "dpo_unclassified_programmes")
PROFILE = ("SELECT * FROM marts.staff_profile WHERE academic_year = ? AND level = ? "
           "AND municipality_code IS NOT DISTINCT FROM ? AND school_code IS NOT DISTINCT FROM ?")
DEFICITS = ("SELECT * FROM marts.teacher_deficits WHERE academic_year = ? AND level = ? "
            "AND school_code IS NOT DISTINCT FROM ? AND diagnostic = ? AND block = ?")
IND = ("SELECT * FROM marts.indicators WHERE indicator_code = ? AND academic_year = ? "
       "AND level = ? AND municipality_code IS NOT DISTINCT FROM ?")


def test_staff_marts_documented_without_staff_keys(con):
    for t in STAFF_MARTS:
        comment = con.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' "
                              "AND table_name = ?", [t]).fetchall()[0][0]
        assert " / " in (comment or ""), t
        cols = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE "
                                "schema_name = 'marts' AND table_name = ?", [t]).fetchall())
        assert all(" / " in (c or "") for c in cols.values()), (t, cols)
        assert not {"staff_key", "snils", "birth_date"} & set(cols), t


def test_staff_profile_counts_persons_once_per_territory(con):
    # A: teachers S02…S07 = 6 (S07's deputy + teacher rows count once; S06 also teaches at
    # B); highest S02, S04 (методист), S07 = 3 → 50 %; first S03 → 16.67 %; none S05, S06;
    # young (< 3 years) S03, S05 → 33.33 %; 60+ S02 (2025 − 1 − 1960 = 64) → 16.67 %;
    # ДПО in 2023–2025: S03, S04 (R-3 2023, R-8), S05, S06 (R-4) = 4 → 66.67 %
    # (S02's R-1 of 2022 has a 2025 duplicate: still 2022); students 90 / rates
    # 1 + 1.5 + 1 + 0.5 + 1 + 0.5 = 5.5 → 16.3636
    a = one(con, PROFILE, 2025, "school", "07", A)
    assert (a["staff_total"], a["teachers"], a["n_highest"], a["n_first"], a["n_no_category"],
            a["n_young"], a["n_age_60plus"], a["n_dpo_3y"]) == (7, 6, 3, 1, 2, 2, 1, 4)
    assert a["pct_highest"] == approx(50.0) and a["pct_first"] == approx(100 / 6)
    assert a["pct_no_category"] == approx(200 / 6) and a["pct_young"] == approx(200 / 6)
    assert a["pct_age_60plus"] == approx(100 / 6) and a["pct_dpo_3y"] == approx(400 / 6)
    assert a["students_per_teacher"] == approx(90 / 5.5) and a["is_suppressed"] is False
    # B: S11 (head), S12, S06 (second school): 2 teachers → a small cell, counts stay
    b = one(con, PROFILE, 2025, "school", "07", B)
    assert (b["staff_total"], b["teachers"], b["n_dpo_3y"], b["is_suppressed"]) == (3, 2, 2, True)
    assert b["pct_highest"] is None and b["students_per_teacher"] is None
    # МСУ 07: S06 once → 7 teachers (S02…S07, S12); highest 4 → 57.14 %; ДПО 5 → 71.43 %;
    # students 90 + 300 over rates 5.5 + 1.5
    m = one(con, PROFILE, 2025, "municipality", "07", None)
    assert (m["staff_total"], m["teachers"], m["n_highest"], m["n_dpo_3y"]) == (9, 7, 4, 5)
    assert m["pct_dpo_3y"] == approx(500 / 7) and m["students_per_teacher"] == approx(390 / 7)
    # region: 12 teachers, highest 6 (+ S12, S22, S26), first 3, none 3, young 3, 60+ 2,
    # ДПО 7 (+ S12 R-9, S22 R-6, S23 R-7) → 58.33 %; 990 students / 12.0 = 82.5
    r = one(con, PROFILE, 2025, "region", None, None)
    assert (r["staff_total"], r["teachers"], r["n_highest"], r["n_first"], r["n_no_category"],
            r["n_young"], r["n_age_60plus"], r["n_dpo_3y"]) == (15, 12, 6, 3, 3, 3, 2, 7)
    assert r["pct_dpo_3y"] == approx(700 / 12) and r["students_per_teacher"] == approx(82.5)
    assert r["municipality_name"] is None and m["municipality_name"] == "МСУ 07"
    assert a["school_name"] == f"Школа {A}"


def test_staff_register_latest_file_per_school(con):
    """An older 2025 file of A (head S09) was superseded for A by the later file (head S01);
    B and C come from the later file only."""
    rows = con.execute("SELECT school_code, count(*) FROM core.fct_staff_assignment WHERE "
                       "academic_year = 2025 AND is_head GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [(A, 1), (B, 1), (C, 1)]
    assert con.execute("SELECT count(*) FROM core.fct_staff_assignment WHERE staff_key = 'S09' "
                       "AND academic_year = 2025").fetchall() == [(0,)]
    assert con.execute("SELECT main_position, n_schools, total_rate, category FROM "
                       "core.dim_staff WHERE academic_year = 2025 AND staff_key IN ('S06', "
                       "'S07') ORDER BY staff_key").fetchall() == [
        ("учитель", 2, 1.5, "соответствие занимаемой должности"),
        ("заместитель директора", 1, 1.5, "высшая")]


def test_teacher_deficits_rule_targeted_dpo_and_rediagnosis(con):
    # Математика 2025 (rule: < 60 %, < 50 % for max ≤ 2): deficits S02 (e3 1/3), S04 (e1, e2
    # 0), S06 (e4 2/4), S12 (e1 empty = 0), S23 (e1, e3, e4) → 5 of 8; without deficits
    # S03 (all 100 %), S22 (3 of 4 ≥ 80 %); S05 has no deficit but only 2 of 4 at ≥ 80 %.
    # Mastery 70, 100, 50, 80, 60, 90, 90, 30 → 71.25. Targeted ДПО (12 months after
    # 15.11.2024, programme addressing the block): S04 П (R-8, «МЕТОДИКА … обновленным
    # ФГОС.» = math_method after normalisation), S23 М (R-7, functional literacy, any
    # diagnostic); not S12 (physics programme), S06 (R-4 before the diagnostic), S02 (R-1's
    # duplicate of 2025 dates from 2022) → 2 of 5 = 40 %
    r = one(con, DEFICITS, 2025, "region", None, "Математика", "все")
    assert (r["diagnosed"], r["with_deficit"], r["no_deficit"], r["targeted_dpo"]) == (8, 5, 2, 2)
    assert r["pct_with_deficit"] == approx(62.5) and r["pct_no_deficit"] == approx(25.0)
    assert r["mean_mastery"] == approx(71.25) and r["pct_targeted_dpo"] == approx(40.0)
    assert r["diagnostic_subject_code"] == "math" and r["block_name"] == "все блоки"
    p = one(con, DEFICITS, 2025, "region", None, "Математика", "П")
    assert (p["with_deficit"], p["targeted_dpo"], p["block_name"]) == (3, 1, "предметный")
    m = one(con, DEFICITS, 2025, "region", None, "Математика", "М")
    assert (m["with_deficit"], m["targeted_dpo"]) == (3, 1)
    a = one(con, DEFICITS, 2025, "school", A, "Математика", "все")
    assert (a["diagnosed"], a["with_deficit"]) == (5, 3) and a["mean_mastery"] == approx(72.0)
    # the 12-month window, 2024 (diagnostic 10.10.2023): S05's course on 10.10.2024 counts
    # (exactly 12 months), S03's on 11.10.2024 does not → 1 of 4 with a deficit; re-diagnosed
    # in 2025: all 5, with fewer deficit elements S03 (1 → 0), S04 (3 → 2), S05 (1 → 0)
    y = one(con, DEFICITS, 2024, "region", None, "Математика", "все")
    assert (y["with_deficit"], y["targeted_dpo"], y["rediagnosed"], y["rediagnosed_improved"]) \
        == (4, 1, 5, 3)
    assert y["pct_targeted_dpo"] == approx(25.0) and y["pct_rediagnosed_improved"] == approx(60.0)
    # small cells: the managerial diagnostic has 2 persons
    g = one(con, DEFICITS, 2025, "region", None, "Управленческие компетенции", "все")
    assert (g["diagnosed"], g["with_deficit"], g["is_suppressed"]) == (2, 1, True)
    assert g["pct_with_deficit"] is None and g["mean_mastery"] is None and g["is_managerial"]


def test_teacher_deficit_elements(con):
    # e1 (max 1): points 1+1+0+1+1+0+1+0 = 5 of 8 → 62.5 %, deficit for S04, S12, S23 →
    # 37.5 % < 50: not a deficit element; e2 (max 2): S02 and S06 score 1 = 50 %, not a
    # deficit (small element: < 50); only S04 → 12.5 %; e4: 24 of 32 → 75 %
    q = ("SELECT * FROM marts.teacher_deficit_elements WHERE academic_year = 2025 AND "
         "level = 'region' AND diagnostic = 'Математика' AND element_order = ?")
    e1, e2, e4 = one(con, q, 1), one(con, q, 2), one(con, q, 4)
    assert (e1["element"], e1["block"], e1["max_points"], e1["with_deficit"]) == ("e1", "П", 1, 3)
    assert e1["pct_mastery"] == approx(62.5) and e1["pct_with_deficit"] == approx(37.5)
    assert e1["is_deficit_element"] is False
    assert e2["with_deficit"] == 1 and e4["pct_mastery"] == approx(75.0)


def test_dpo_duplicate_replaces_original_and_unclassified_list(con):
    got = con.execute("SELECT registration_number, document_status, first_issue_date, "
                      "issue_date, academic_year, has_duplicate, n_versions, programme_code "
                      "FROM core.fct_dpo_document WHERE staff_key = 'S02'").fetchall()
    assert got == [("R-1", "Дубликат", DATE(2022, 5, 10), DATE(2025, 1, 15), 2022, True, 2,
                    "func_literacy")]
    assert con.execute("SELECT count(*) FROM core.fct_dpo_document").fetchall() == [(12,)]
    rows = con.execute("SELECT programme_name_key, n_spellings, n_documents, n_persons FROM "
                       "marts.dpo_unclassified_programmes WHERE academic_year = 2025 "
                       "ORDER BY 1").fetchall()
    assert rows == [("оказание первой помощи", 2, 2, 2), ("пожарно технический минимум", 1, 1, 1)]


def test_school_heads(con):
    q = "SELECT * FROM marts.school_heads WHERE academic_year = ? AND school_code = ?"
    lrs = ("SELECT results_z, is_low_results FROM marts.low_results_schools "
           "WHERE academic_year = ? AND school_code = ?")
    a = one(con, q, 2025, A)
    z24, z25 = (con.execute(lrs, [y, A]).fetchall()[0] for y in (2024, 2025))
    # S01 appointed 01.09.2024: academic year 2025, results_z before = 2024's; a new head
    assert (a["head_since"], a["tenure_years"], a["appointment_academic_year"],
            a["head_changed"], a["head_category"]) == (DATE(2024, 9, 1), 0, 2025, True, "высшая")
    assert a["results_z_before"] == approx(z24[0]) and a["results_z_now"] == approx(z25[0])
    assert a["results_z_change"] == approx(z25[0] - z24[0])
    assert (a["was_low_results_at_appointment"], a["is_low_results_now"]) == (z24[1], z25[1])
    # managerial diagnostic: u1 0/2 (У), u2 2/4 = 50 % < 60 (Н) → 2 blocks; НОКУОД of 2024
    assert (a["head_diagnosed_3y"], a["head_deficit_blocks"]) == (True, 2)
    assert (a["nokuod_total"], a["nokuod_year"], a["climate_index"]) == (80.5, 2024, None)
    assert a["staff_dpo_3y_pct"] == approx(400 / 6) and a["school_name"] == f"Школа {A}"
    b = one(con, q, 2025, B)
    # since 01.06.2015: 111 full months to 20.09.2024 → 9 years; before 2014: unknown
    assert (b["tenure_years"], b["head_changed"], b["head_diagnosed_3y"], b["results_z_before"],
            b["nokuod_total"], b["nokuod_year"], b["staff_dpo_3y_pct"]) == (
        9, False, False, None, 90.1, 2025, None)
    c = one(con, q, 2025, C)
    assert (c["tenure_years"], c["head_diagnosed_3y"], c["head_deficit_blocks"],
            c["nokuod_total"]) == (2, True, 0, None)
    assert con.execute("SELECT count(*) FROM marts.school_heads WHERE school_code = ?",
                       [D]).fetchall() == [(0,)]


def test_staff_indicators(con):
    def ind(code, year, level="region", msu=None):
        return one(con, IND, code, year, level, msu)
    # region 2025: highest + first 9 of 12 → 75 %; young 3 → 25 %; ДПО 7 → 58.33 %
    assert ind("STAFF_HIGHER_CATEGORY_PCT", 2025)["value"] == approx(75.0)
    assert ind("STAFF_YOUNG_PCT", 2025)["value"] == approx(25.0)
    d = ind("DPO_3Y_PCT", 2025)
    assert (d["numerator"], d["denominator"], d["value"]) == (7, 12, approx(700 / 12))
    # persons once: S02 sat Математика and Физика → 8 diagnosed teachers, 5 with a deficit
    t = ind("TEACHER_DEFICIT_PCT", 2025)
    assert (t["numerator"], t["denominator"], t["value"]) == (5, 8, approx(62.5))
    g = ind("DEFICIT_TARGETED_DPO_PCT", 2025)
    assert (g["numerator"], g["denominator"], g["value"]) == (2, 5, approx(40.0))
    # НОКУОД of the last three years: A 80.5 (2024), B 90.1, D 70.0 → 80.2; МСУ 07 85.3
    n = ind("HEAD_NOKUOD_MEAN", 2025)
    assert (n["denominator"], n["value"], n["unit"]) == (3, approx(80.2), "points")
    assert ind("HEAD_NOKUOD_MEAN", 2025, "municipality", "07")["value"] == approx(85.3)
    # three heads (A, B, C), two diagnosed: a small cell (persons), value hidden
    h = ind("HEAD_DIAGNOSED_PCT", 2025)
    assert (h["denominator"], h["value"], h["is_suppressed"]) == (3, None, True)
    # no head in post ≥ 2 years with a known results_z before: not computable, not hidden
    r = ind("HEAD_RESULTS_GAIN_PCT", 2025)
    assert (r["denominator"], r["value"], r["is_suppressed"]) == (0, None, False)


def test_staff_indicators_with_smaller_cells_and_tenure(built):
    """The thresholds are dbt vars: with rsoko:min_cell_size = 1 and
    rsoko:head_min_tenure_years = 0, HEAD_DIAGNOSED_PCT = 2 of 3 and HEAD_RESULTS_GAIN_PCT
    counts A's new head (results_z 2024 → 2025)."""
    warehouse, tmp = built
    copy = tmp / "staff_vars.duckdb"
    shutil.copy(warehouse, copy)
    dbt(copy, tmp, "run", "--select", "school_heads", "staff_profile", "indicators",
        "--vars", json.dumps({"rsoko:min_cell_size": 1, "rsoko:head_min_tenure_years": 0}))
    c = duckdb.connect(str(copy), read_only=True)
    try:
        h = one(c, IND, "HEAD_DIAGNOSED_PCT", 2025, "region", None)
        assert (h["numerator"], h["value"]) == (2, approx(200 / 3))
        z24, z25 = (c.execute("SELECT results_z FROM marts.low_results_schools WHERE "
                              "academic_year = ? AND school_code = ?", [y, A]).fetchall()[0][0]
                    for y in (2024, 2025))
        r = one(c, IND, "HEAD_RESULTS_GAIN_PCT", 2025, "region", None)
        assert (r["denominator"], r["value"]) == (1, 100.0 if z25 > z24 else 0.0)
        b = one(c, PROFILE, 2025, "school", "07", B)
        assert b["pct_highest"] == approx(50.0) and b["is_suppressed"] is False
    finally:
        c.close()


# --- issue 19: recommendations without a register of measures ----------------------------
def test_recommendations_without_measures(con):
    """No raw.measures at all (the source is optional): the marts build, recommendations wait
    for the register, measure_effects is empty. R7.1 (≥ 2 teachers with a deficit in a block
    without targeted ДПО) on the deficits above: A 2024 — Математика, «методический» 3 with a
    deficit, 1 with targeted ДПО; «предметный» 2, none."""
    assert con.execute("SELECT count(*) FROM marts.measure_effects").fetchone()[0] == 0
    statuses = con.execute("SELECT DISTINCT acted_on, acted_on_status FROM marts.recommendations "
                           "WHERE academic_year = 2024").fetchall()
    assert statuses == [(None, "ожидает реестра мер 2024/25")]
    evidence, text, kind = con.execute(
        "SELECT evidence, recommendation, suggested_measure_kind FROM marts.recommendations "
        "WHERE academic_year = 2024 AND school_code = ? AND rule_code = 'R7.1'", [A]).fetchone()
    assert evidence == ("Диагностика профессиональных дефицитов 2023/24, учителя с дефицитом, "
                        "не получившие адресного ДПО в течение 12 месяцев (из всех с дефицитом "
                        "в блоке): Математика, блок «методический»: 2 из 3; Математика, блок "
                        "«предметный»: 2 из 2.")
    assert "адресующим блоки «методический», «предметный»," in text
    assert kind == "курсы ДПО по выявленным дефицитам"
    # 2025: A «методический» 2 of 2 without targeted ДПО; B and C have one teacher without
    # it in a block («предметный» 1 of 1): below the rule's 2 teachers, no recommendation
    assert con.execute("SELECT school_code, evidence FROM marts.recommendations WHERE "
                       "academic_year = 2025 AND rule_code = 'R7.1'").fetchall() == [
        (A, "Диагностика профессиональных дефицитов 2024/25, учителя с дефицитом, не получившие "
            "адресного ДПО в течение 12 месяцев (из всех с дефицитом в блоке): Математика, блок "
            "«методический»: 2 из 2.")]
