"""The marts of directions 4 and 9 and НИКО (issue 18) on a tiny hand-made landing
(tests/integration/_marts_fixture_d49.py) with a real `dbt build`: every expected number
was computed by hand from the rows listed in the fixture (the arithmetic is in comments).

Schools: A 070101 and B 070102 in МСУ 07, C 070201 and D 070202 in МСУ 012; 2024/25."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rsoko_pipelines.settings import DBT_PROJECT_DIR

sys.path.insert(0, str(Path(__file__).parent))
from _marts_fixture_d49 import build_landing  # noqa: E402

DBT = str(Path(sys.executable).parent / "dbt")
MARTS = ("graduate_destinations", "career_guidance", "additional_ed_coverage",
         "additional_ed_schools", "survey_results", "survey_answers", "school_climate")
A, B, C, D = "070101", "070102", "070201", "070202"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("marts_d49")
    warehouse = tmp / "rsoko.duckdb"
    build_landing(warehouse)
    env = {**os.environ, "RSOKO_WAREHOUSE": str(warehouse),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run([DBT, "build"], cwd=DBT_PROJECT_DIR, env=env, capture_output=True,
                          text=True)            # seeds, star, marts and every data test
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "ERROR=0" in proc.stdout
    c = duckdb.connect(str(warehouse), read_only=True)
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


def test_new_marts_documented_with_names_beside_codes(con):
    tables = {r[0]: r[1] for r in con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
    for t in MARTS:
        assert " / " in (tables.get(t) or ""), t
        undocumented = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND "
            "table_name = ? AND (comment IS NULL OR comment NOT LIKE '% / %')", [t]).fetchall()
        assert undocumented == [], (t, undocumented)
        cols = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND "
            "table_name = ?", [t]).fetchall()}
        assert {"academic_year_label", "municipality_name", "school_name"} <= cols, t
        # no pseudonymous key of a person in any mart
        assert not cols & {"child_key", "respondent_key", "child_id", "respondent_code"}, t
    row = one(con, "SELECT municipality_name, school_name FROM marts.additional_ed_schools "
                   "WHERE school_code = ? AND focus_code = 'all'", C)
    assert row == {"municipality_name": "МСУ 012", "school_name": f"Школа {C}"}


# ---------------------------------------------------------------- additional education
def test_a_child_in_three_programmes_of_two_directions_counts_once_and_once_per_direction(con):
    rows = {r[0]: r[1] for r in con.execute(
        "SELECT focus_code, children_enrolled FROM marts.additional_ed_coverage WHERE "
        "level = 'municipality' AND municipality_code = '07' AND age_band = '5-18'").fetchall()}
    # МСУ 07, counted children 5–18: K1 (10), K2 (14, left in the year), K3 (6), K6 (11),
    # K11 (8), K12 (16) = 6; not K4 (3), K5 (application only), K10 (left before the year)
    assert rows["all"] == 6
    # K1 has 2 технические + 1 художественная programmes: once in each; K6's application in
    # техническая adds nothing
    assert rows["technical"] == 1            # K1
    assert rows["arts"] == 4                 # K1, K3, K11, K12
    assert rows["sport"] == 1                # K2
    assert rows["social_humanitarian"] == 1  # K6
    assert sum(v for k, v in rows.items() if k != "all") == 7   # K1 twice: 6 + 1


def test_coverage_5_18_by_residence_over_population(con):
    got = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT level, municipality_code, children_enrolled, population, coverage_pct, "
        "pct_ovz_among_enrolled, pct_certificate_funded FROM marts.additional_ed_coverage "
        "WHERE age_band = '5-18' AND focus_code = 'all'").fetchall()}
    # МСУ 07: 6 of 14 ages × 10 = 140 → 4.2857 %; ОВЗ K6: 1/6; certificate K1, K3: 2/6
    assert got[("municipality", "07")] == (6, 140, approx(600 / 140), approx(100 / 6),
                                            approx(200 / 6))
    # МСУ 012: K7 (15), K8 (18: in the band, no school), K13–K16; not K9 (19) → 6 / 280
    assert got[("municipality", "012")][:3] == (6, 280, approx(600 / 280))
    # region: 12 / 420, never a mean of municipal shares
    assert got[("region", None)][:3] == (12, 420, approx(1200 / 420))


def test_coverage_age_bands(con):
    got = dict(con.execute(
        "SELECT age_band, children_enrolled FROM marts.additional_ed_coverage WHERE "
        "level = 'municipality' AND municipality_code = '07' AND focus_code = 'all'").fetchall())
    # 5-9: K3 (6), K11 (8); 10-14: K1 (10), K6 (11), K2 (14); 15-18: K12 (16)
    assert got == {"5-18": 6, "5-9": 2, "10-14": 3, "15-18": 1}
    pop = one(con, "SELECT population FROM marts.additional_ed_coverage WHERE level = 'region' "
                   "AND age_band = '5-9' AND focus_code = 'all'")
    assert pop["population"] == 5 * 10 + 5 * 20


def test_additional_ed_schools(con):
    got = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT school_code, focus_code, students, children_enrolled, coverage_pct, is_suppressed "
        "FROM marts.additional_ed_schools WHERE children_enrolled > 0").fetchall()}
    # C: K7, K13, K14, K15, K16 (all техническая) over 600 students
    assert got[(C, "all")] == (600, 5, approx(500 / 600), False)
    assert got[(C, "technical")] == (600, 5, approx(500 / 600), False)
    # A: K1, K2 (K5 applied only, K10 left before the year) — a small cell
    assert got[(A, "all")] == (90, 2, None, True)
    assert (D, "all") not in got
    assert one(con, "SELECT children_enrolled FROM marts.additional_ed_schools WHERE "
                    "school_code = ? AND focus_code = 'all'", D)["children_enrolled"] == 0


# ---------------------------------------------------------------- graduates
def test_graduate_destinations_sums(con):
    got = {(r[0], r[1], r[2]): r[3:] for r in con.execute(
        "SELECT level, coalesce(municipality_code, ''), cohort, graduates, pct_to_10, pct_spo, "
        "pct_vuz, pct_vuz_region, pct_army, pct_neet, is_high_neet, is_suppressed "
        "FROM marts.graduate_destinations WHERE level <> 'school'").fetchall()}
    # cohort 9, region: A 20 + C 40 = 60; grade 10: 8 + 2 + 25 + 5 = 40; СПО 5+1+6+2 = 14;
    # NEET 2; no university or army after grade 9 (NULL, not 0)
    assert got[("region", "", 9)] == (60, approx(4000 / 60), approx(1400 / 60), None, None, None,
                                      approx(200 / 60), None, False)
    # cohort 11, region: 10 + 30 + 3 = 43; universities 5 + 23 + 3 = 31; of the region
    # 4 + 15 + 3 = 22; army 1 + 2 + (B's empty cell = 0) = 3; NEET 1
    assert got[("region", "", 11)] == (43, None, approx(600 / 43), approx(3100 / 43),
                                       approx(2200 / 43), approx(300 / 43), approx(100 / 43),
                                       None, False)
    # МСУ 07 cohort 9 (A): NEET 2 / 20 = 10 % ≥ rsoko:neet_high_pct (10): flagged
    assert got[("municipality", "07", 9)][-3:] == (approx(10.0), True, False)
    # МСУ 07 cohort 11: A 10 + B 3 = 13; NEET 1/13 < 10 %
    assert got[("municipality", "07", 11)][0] == 13
    assert got[("municipality", "07", 11)][-2:] == (False, False)
    small = one(con, "SELECT graduates, pct_vuz, is_suppressed FROM marts.graduate_destinations "
                     "WHERE school_code = ? AND cohort = 11", B)
    assert small == {"graduates": 3, "pct_vuz": None, "is_suppressed": True}


def test_graduate_destination_fact_is_long_and_adds_up(con):
    rows = con.execute(
        "SELECT school_code, cohort, count(*), sum(graduates), max(graduates_total) "
        "FROM core.fct_graduate_destination GROUP BY ALL ORDER BY ALL").fetchall()
    # one row per destination of the cohort (9: 9 destinations, 11: 11), summing to the total
    assert rows == [(A, 9, 9, 20, 20), (A, 11, 11, 10, 10), (B, 11, 11, 3, 3),
                    (C, 9, 9, 40, 40), (C, 11, 11, 30, 30)]


# ---------------------------------------------------------------- career guidance
def test_career_guidance(con):
    region = one(con, "SELECT schools, schools_basic, schools_main, schools_advanced, "
                      "schools_none, pct_profile_classes, pct_bilet_v_budushchee, "
                      "profiles_offered, has_tech, has_natsci, has_medical "
                      "FROM marts.career_guidance WHERE level = 'region'")
    # profile classes (10 + 60 + 50) / (20 + 60 + 100 + 0); Билет (20 + 90 + 100 + 0) /
    # (60 + 150 + 300 + 200); profiles: универсальный, технологический, естественно-научный
    # (spelled with a capital: still known), гуманитарный
    assert region == {"schools": 4, "schools_basic": 1, "schools_main": 1,
                      "schools_advanced": 1, "schools_none": 1,
                      "pct_profile_classes": approx(12000 / 180),
                      "pct_bilet_v_budushchee": approx(21000 / 710), "profiles_offered": 4,
                      "has_tech": True, "has_natsci": True, "has_medical": False}
    d = one(con, "SELECT pct_profile_classes, profiles_offered FROM marts.career_guidance "
                 "WHERE school_code = ?", D)
    assert d == {"pct_profile_classes": None, "profiles_offered": 0}


# ---------------------------------------------------------------- surveys
def test_survey_results_positive_shares_and_skips(con):
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT question_code, respondents, skipped, n_positive, pct_positive, is_suppressed "
        "FROM marts.survey_results WHERE level = 'school' AND school_code = ?", [C]).fetchall()}
    # S01: r6 skipped; 3 of 5 agree; S09: r5 skipped, r6 'Скорее  Удовлетворен' (case, double
    # space, е for ё) is the option «скорее удовлетворён»: 3 of 5 positive
    assert got["S01"] == (5, 1, 3, approx(60.0), False)
    assert got["S09"] == (5, 1, 3, approx(60.0), False)
    assert got["S07"] == (6, 0, 4, approx(400 / 6), False)    # bullying: «никогда» positive
    assert got["P09"] == (5, 0, 5, approx(100.0), False)
    # region S01: C 3/5 and A 0/3 from the respondents, not a mean of school shares (30)
    assert one(con, "SELECT pct_positive FROM marts.survey_results WHERE level = 'region' "
                    "AND question_code = 'S01'")["pct_positive"] == approx(37.5)


def test_survey_school_with_three_respondents_is_suppressed(con):
    a = one(con, "SELECT respondents, n_positive, pct_positive, is_suppressed "
                 "FROM marts.survey_results WHERE school_code = ?", A)
    assert a == {"respondents": 3, "n_positive": None, "pct_positive": None,
                 "is_suppressed": True}
    answers = con.execute("SELECT answers, pct FROM marts.survey_answers WHERE school_code = ?",
                          [A]).fetchall()
    assert answers and all(r == (None, None) for r in answers)
    climate = one(con, "SELECT climate_index, is_suppressed FROM marts.school_climate "
                       "WHERE school_code = ? AND questionnaire = 'все'", A)
    assert climate == {"climate_index": None, "is_suppressed": True}


def test_survey_answers_every_option(con):
    got = con.execute(
        "SELECT option_order, answer, answers, pct FROM marts.survey_answers WHERE "
        "school_code = ? AND question_code = 'S09' ORDER BY option_order", [C]).fetchall()
    assert got == [(1, "полностью удовлетворён", 1, approx(20.0)),
                   (2, "скорее удовлетворён", 2, approx(40.0)),
                   (3, "скорее не удовлетворён", 1, approx(20.0)),
                   (4, "совсем не удовлетворён", 1, approx(20.0))]
    zero = con.execute("SELECT answers, pct FROM marts.survey_answers WHERE school_code = ? "
                       "AND question_code = 'P09' AND answer = 'нет'", [C]).fetchall()
    assert zero == [(0, approx(0.0))]


def test_school_climate(con):
    got = {(r[0], r[1] or "", r[2]): r[3:] for r in con.execute(
        "SELECT level, school_code, questionnaire, respondents, climate_index, safety_index, "
        "bullying_free_pct, is_poor_climate FROM marts.school_climate").fetchall()}
    # C students: mean(S01 60, S05 66.667) = 63.333; parents: mean(P06 40, P09 100) = 70;
    # «все»: mean(60, 66.667, 40, 100) = 66.667 over 6 + 5 respondents
    assert got[("school", C, "обучающиеся")] == (6, approx(190 / 3), approx(200 / 3),
                                                 approx(200 / 3), False)
    assert got[("school", C, "все")] == (11, approx(800 / 12), approx(250 / 3),
                                         approx(200 / 3), False)
    # D staff: mean(T01 0, T04 20) = 10 < 50: a poor climate
    assert got[("school", D, "все")] == (5, approx(10.0), approx(20.0), None, True)
    # region «все»: mean(S01 37.5, S05 66.667, P06 40, P09 100, T01 0, T04 20)
    assert got[("region", "", "все")][1] == approx((37.5 + 200 / 3 + 40 + 100 + 0 + 20) / 6)


# ---------------------------------------------------------------- НИКО
def test_niko_region_and_large_municipality_only_never_school(con):
    rows = con.execute(
        "SELECT level, municipality_code, participants, mean_primary_score, mean_mark, "
        "pct_failed, is_sample, procedure_name, subject_name FROM marts.assessment_results "
        "WHERE procedure = 'NIKO' ORDER BY level").fetchall()
    # A 4 + B 7 = 11 works in МСУ 07 (≥ 10: shown), C 5 in МСУ 012 (hidden), no school rows;
    # primary scores A 3+1+0+3, B 3+3+3+2+1+0+2, C 3+3+1+0+0; no marks in the file
    assert rows == [
        ("municipality", "07", 11, approx(21 / 11), None, None, True,
         "Национальные исследования качества образования (НИКО)", "Физическая культура"),
        ("region", None, 16, approx(28 / 16), None, None, True,
         "Национальные исследования качества образования (НИКО)", "Физическая культура")]
    tasks = con.execute(
        "SELECT level, task, participants, pct_mastered FROM marts.task_mastery WHERE "
        "procedure = 'NIKO' ORDER BY level, task").fetchall()
    # task 1 (2б): region 20 points / 16 works / 2; task 2 (1б): 8 / 15 assessed (X = 0,
    # B's '-' excluded)
    assert tasks == [("municipality", "1", 11, approx(100 * 15 / 22)),
                     ("municipality", "2", 10, approx(100 * 6 / 10)),
                     ("region", "1", 16, approx(62.5)), ("region", "2", 15, approx(800 / 15))]
    for mart in ("assessment_results", "task_mastery"):
        assert con.execute(f"SELECT count(*) FROM marts.{mart} WHERE procedure = 'NIKO' AND "
                           "(level = 'school' OR NOT is_sample)").fetchone()[0] == 0


def test_niko_never_in_the_objectivity_or_low_results_marts(con):
    assert con.execute("SELECT count(*) FROM core.fct_assessment_result "
                       "WHERE procedure = 'NIKO'").fetchone()[0] == 16
    assert con.execute("SELECT count(*) FROM marts.vpr_objectivity").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM marts.vpr_objectivity_schools").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM marts.low_results_schools").fetchone()[0] == 0


# ---------------------------------------------------------------- indicators
def test_indicators_of_directions_4_and_9(con):
    got = {(r[0], r[1], r[2] or ""): r[3:] for r in con.execute(
        "SELECT indicator_code, level, municipality_code, value, numerator, denominator, "
        "direction, target, meets_target FROM marts.indicators WHERE level <> 'school'").fetchall()}
    assert got[("GRAD9_TO_10_PCT", "region", "")][:3] == (approx(4000 / 60), 40, 60)
    assert got[("GRAD9_TO_SPO_PCT", "region", "")][:3] == (approx(1400 / 60), 14, 60)
    # NEET over both cohorts: (2 + 1) / (60 + 43)
    assert got[("GRAD_NEET_PCT", "region", "")][:3] == (approx(300 / 103), 3, 103)
    assert got[("GRAD11_VUZ_REGION_PCT", "region", "")][:3] == (approx(2200 / 43), 22, 43)
    assert got[("PROFILE_CLASSES_PCT", "region", "")][:3] == (approx(12000 / 180), 120, 180)
    # schools with grades 6–11 at основной/продвинутый: B, C of A, B, C, D
    assert got[("PROFMIN_ADVANCED_PCT", "region", "")][:3] == (approx(50.0), 2, 4)
    # coverage 12 / 420 < target 80
    assert got[("ADDED_COVERAGE_5_18_PCT", "region", "")] == (approx(1200 / 420), 12, 420, 9,
                                                              80.0, False)
    assert got[("ADDED_COVERAGE_5_18_PCT", "municipality", "07")][:3] == (approx(600 / 140), 6,
                                                                          140)
    # satisfaction, students and parents: S09 3 of 5 + P01 4 of 5 (staff not counted)
    assert got[("SURVEY_SATISFIED_PCT", "region", "")][:3] == (approx(70.0), 7, 10)
    assert got[("SCHOOL_CLIMATE_INDEX", "region", "")][0] == approx(
        (37.5 + 200 / 3 + 40 + 100 + 0 + 20) / 6)
    # НИКО: Σ points / Σ max over the assessed task cells: (20 + 8) / (16 × 2 + 15 × 1)
    assert got[("NIKO_MASTERY_PCT", "region", "")][:4] == (approx(2800 / 47), 28, 47, 1)
    assert not any(k[0] == "NIKO_MASTERY_PCT" and k[1] != "region" for k in got)
    # the small cells: МСУ 07 climate (3 respondents) has no value
    assert got[("SCHOOL_CLIMATE_INDEX", "municipality", "07")][0] is None
