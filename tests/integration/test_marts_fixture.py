"""The indicator marts (schema `marts`) on a tiny hand-made landing data set
(tests/integration/_marts_fixture.py) with a real `dbt build`: every expected number below
was computed by hand from the rows listed in the fixture (the arithmetic is in comments).

Schools: A 070101 (МСУ 07, small, least favourable context), B 070102 (МСУ 07, гимназия,
3 ЕГЭ results: a small cell), C 070201 (МСУ 012, big), D 070202 (МСУ 012, low results)."""

from __future__ import annotations

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
from _marts_fixture import build_landing  # noqa: E402

DBT = str(Path(sys.executable).parent / "dbt")
MARTS = ("assessment_results", "task_mastery", "vpr_objectivity", "vpr_objectivity_schools",
         "school_context", "low_results_schools", "olympiad_coverage", "literacy_results",
         "indicators")
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
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("marts")
    warehouse = tmp / "rsoko.duckdb"
    build_landing(warehouse)
    proc = dbt(warehouse, tmp, "build")          # seeds, star, marts and every data test
    assert "ERROR=0" in proc.stdout and "FAIL" not in proc.stdout.split("Done.")[-1]
    return warehouse, tmp


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
    assert a["results_group"] == "резильентная"
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
    # every indicator whose sources this data set loads (the others, e.g. of directions 4
    # and 9, are absent: an absent source gives absent rows)
    loaded = {r[0] for r in con.execute(
        "SELECT DISTINCT source FROM raw._file_registry WHERE status = 'loaded'").fetchall()}
    catalogue = {code for code, sources in con.execute(
        "SELECT indicator_code, sources FROM reference.indicator_catalogue").fetchall()
        if set(sources.split()) <= loaded}
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
        "RESILIENT_SCHOOLS_PCT": (100 / 3, 1, 3),
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
