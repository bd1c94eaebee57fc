"""A tiny hand-made landing for the marts of directions 4 and 9 and НИКО (issue 18;
test_marts_directions_4_9.py). The four schools of _marts_fixture.py, academic year 2025:

| school | МСУ | students | kind |
|--------|-----|----------|------|
| A 070101 | 07  | 90  | СОШ |
| B 070102 | 07  | 300 | гимназия |
| C 070201 | 012 | 600 | СОШ |
| D 070202 | 012 | 520 | СОШ |

Every value is listed here; the expected numbers are written in the test as literals with
the arithmetic in comments. Ages: age = 2025 − 1 − year of birth.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from rsoko_pipelines.ingest import registry

from _marts_fixture import _schools  # noqa: E402  (same folder, on sys.path)
from _star_landing import _insert, _register, create_missing_landing_tables  # noqa: E402

D = dt.date
Y = 2025
A, B, C, DD = "070101", "070102", "070201", "070202"

# ---- population: МСУ 07 10 children of every age 0–18 (5–18: 140), МСУ 012 20 (5–18: 280)
POPULATION = {"d_population": [
    dict(msu_code=msu, msu_name=f"МСУ {msu}", age=age, population=per_age)
    for msu, per_age in (("07", 10), ("012", 20)) for age in range(19)]}


# ---- additional_ed: (child, birth year, МСУ, school, ОВЗ, focus, status, enrol, leave, funding)
def _enrol(child, born, msu, school, focus, status="зачислен", ovz="нет",
           enrol=D(2024, 9, 10), leave=None, funding="бюджет", program="Программа"):
    return dict(child_key=f"key-{child}", birth_year=born, msu_code=msu, school_code=school,
                ovz=ovz, provider_name="МБУ ДО «ЦДТ»", provider_inn="1234567890",
                program_name=program, focus=focus, enrol_date=enrol, leave_date=leave,
                status=status, funding=funding)


ADDITIONAL_ED = {"d_additional_ed": [
    # K1: three programmes of two направленности, 10 years old, school A
    _enrol("K1", 2014, "07", A, "техническая", program="Робототехника"),
    _enrol("K1", 2014, "07", A, "техническая", program="3D-моделирование",
           funding="сертификат ПФ"),
    _enrol("K1", 2014, "07", A, "художественная", program="Хореография"),
    # K2: left during the year (still counts), 14, school A
    _enrol("K2", 2010, "07", A, "физкультурно-спортивная", status="отчислен",
           leave=D(2025, 2, 1)),
    # K3: a pre-schooler of 6, no school, certificate
    _enrol("K3", 2018, "07", None, "художественная", funding="сертификат ПФ"),
    # K4: 3 years old: outside 5–18
    _enrol("K4", 2021, "07", None, "техническая"),
    # K5: an application only: not enrolled
    _enrol("K5", 2012, "07", A, "техническая", status="заявка"),
    # K6: ОВЗ, 11, school B; an application in техническая does not add техническая
    _enrol("K6", 2013, "07", B, "социально-гуманитарная", ovz="да"),
    _enrol("K6", 2013, "07", B, "техническая", status="заявка", ovz="да"),
    # K10: left before the academic year began: not active in 2024/25
    _enrol("K10", 2011, "07", A, "художественная", status="отчислен", enrol=D(2023, 9, 1),
           leave=D(2024, 5, 31)),
    # K11 (8) and K12 (16), МСУ 07, no registry school
    _enrol("K11", 2016, "07", None, "художественная"),
    _enrol("K12", 2008, "07", None, "художественная"),
    # МСУ 012: K7 (15, C), K8 (18, no school: in the band), K9 (19: outside), K13–K16 at C
    _enrol("K7", 2009, "012", C, "техническая"),
    _enrol("K8", 2006, "012", None, "туристско-краеведческая"),
    _enrol("K9", 2005, "012", None, "художественная"),
    _enrol("K13", 2017, "012", C, "техническая"),
    _enrol("K14", 2015, "012", C, "техническая"),
    _enrol("K15", 2012, "012", C, "техническая"),
    _enrol("K16", 2014, "012", C, "техническая"),
]}


# ---- graduates (school, cohort, total, {destination: n}); the other cohort's columns empty
def _grad(school, cohort, total, **dest):
    return dict(school_code=school, cohort=cohort, graduates_total=total, **dest)


GRADUATES = {"d_graduates": [
    _grad(A, 9, 20, to_10_own_school=8, to_10_other_school=2, spo_budget=5, spo_paid=1,
          vocational_training=1, working=0, neet=2, other=1, unknown=0),
    _grad(A, 11, 10, vuz_region_budget=3, vuz_region_paid=1, vuz_other_budget=1,
          vuz_other_paid=0, spo=2, vocational_training=0, army=1, working=1, neet=1, other=0,
          unknown=0),
    _grad(C, 9, 40, to_10_own_school=25, to_10_other_school=5, spo_budget=6, spo_paid=2,
          vocational_training=0, working=0, neet=0, other=1, unknown=1),
    _grad(C, 11, 30, vuz_region_budget=10, vuz_region_paid=5, vuz_other_budget=6,
          vuz_other_paid=2, spo=4, vocational_training=0, army=2, working=1, neet=0,
          other=0, unknown=0),
    # B: three graduates of grade 11 (a small cell); an empty cell of its own cohort = 0
    _grad(B, 11, 3, vuz_region_budget=3, vuz_region_paid=0, vuz_other_budget=0,
          vuz_other_paid=0, spo=0, vocational_training=0, army=None, working=0, neet=0,
          other=0, unknown=0),
]}

# ---- career
CAREER = {"d_career": [
    dict(school_code=A, profmin_level="базовый", students_6_11=60, bilet_participants=20,
         students_10_11=20, profile_students=10, profiles="универсальный"),
    dict(school_code=B, profmin_level="продвинутый", students_6_11=150, bilet_participants=90,
         students_10_11=60, profile_students=60, profiles="технологический, Естественно-научный"),
    dict(school_code=C, profmin_level="основной", students_6_11=300, bilet_participants=100,
         students_10_11=100, profile_students=50, profiles="гуманитарный"),
    dict(school_code=DD, profmin_level="не реализуется", students_6_11=200,
         bilet_participants=0, students_10_11=0, profile_students=0, profiles=None),
]}


# ---- survey: (school, questionnaire, respondent, class, question, answer)
def _ans(school, questionnaire, respondent, question, answer, class_name="7А"):
    return dict(school_code=school, questionnaire=questionnaire,
                respondent_key=f"{school}-{respondent}", class_name=class_name,
                question_code=question, answer=answer or None)


_S01 = ["полностью согласен", "скорее согласен", "скорее не согласен", "полностью не согласен",
        "полностью согласен", ""]
_S05 = ["да", "да", "нет", "скорее да", "скорее нет", "да"]
_S07 = ["никогда", "никогда", "редко", "часто", "никогда", "никогда"]
_S09 = ["полностью удовлетворён", "скорее удовлетворён", "совсем не удовлетворён",
        "скорее не удовлетворён", "", "Скорее  Удовлетворен"]
_P06 = ["полностью согласен", "скорее согласен", "скорее не согласен", "полностью не согласен",
        "полностью не согласен"]
_P09 = ["да", "да", "скорее да", "скорее да", "да"]
_P01 = ["полностью удовлетворён", "полностью удовлетворён", "скорее удовлетворён",
        "скорее удовлетворён", "совсем не удовлетворён"]
SURVEY = {"d_survey": (
    [_ans(C, "обучающиеся", f"r{i + 1}", q, answers[i])
     for q, answers in (("S01", _S01), ("S05", _S05), ("S07", _S07), ("S09", _S09))
     for i in range(6)]
    + [_ans(C, "родители", f"p{i + 1}", q, answers[i])
       for q, answers in (("P06", _P06), ("P09", _P09), ("P01", _P01)) for i in range(5)]
    # A: three students (a small cell), all negative on S01
    + [_ans(A, "обучающиеся", f"a{i + 1}", "S01", "полностью не согласен") for i in range(3)]
    # D: five staff, no class; T01 all negative, T04 one positive
    + [_ans(DD, "педагоги", f"t{i + 1}", "T01", "скорее не согласен", class_name=None)
       for i in range(5)]
    + [_ans(DD, "педагоги", f"t{i + 1}", "T04", "да" if i == 0 else "нет", class_name=None)
       for i in range(5)]
)}

# ---- НИКО: Физическая культура 7 класс, tasks 1 (2б, Б) and 2 (1б, П); no marks.
# A 4 works, B 7 (МСУ 07: 11 ≥ 10), C 5 (МСУ 012: 5 < 10); B's last task 2 not assessed ('-')
NIKO_TASKS = [("1", 2, "Б"), ("2", 1, "П")]
_NIKO_CELLS = {
    A: [["2", "1"], ["1", "0"], ["0", "X"], ["2", "1"]],
    B: [["2", "1"], ["2", "1"], ["2", "1"], ["1", "1"], ["1", "0"], ["0", "0"], ["2", "-"]],
    C: [["2", "1"], ["2", "1"], ["1", "0"], ["0", "0"], ["X", "X"]],
}


def _niko_rows():
    rows = []
    for school, works in _NIKO_CELLS.items():
        msu = "07" if school in (A, B) else "012"
        for i, cells in enumerate(works, start=1):
            primary = sum(int(c) for c in cells if c.isdigit())
            rows.append(dict(procedure="НИКО", subject_name="Физическая культура", grade=7,
                             max_primary_score=3, msu_name=f"МСУ {msu}", fis_login=f"sch{school}",
                             school_name=f"Школа {school}", participant_code=f"n{i:02d}",
                             class_name="7А", variant=1, task_scores=cells,
                             primary_score=primary, mark=None))
    return rows


NIKO = {"d_niko": _niko_rows()}

SOURCES = (("population", POPULATION), ("additional_ed", ADDITIONAL_ED),
           ("graduates", GRADUATES), ("career", CAREER), ("survey", SURVEY), ("niko", NIKO))


def build_landing(path) -> None:
    """The raw landing and the file registry of this data set in the DuckDB file `path`."""
    con = duckdb.connect(str(path))
    try:
        registry.ensure_registry(con)
        schools = _schools(Y)
        _insert(con, "schools", [{**r, "_file_id": "d_schools"} for r in schools])
        _register(con, "d_schools", "schools", Y, len(schools), 1)
        order = 1
        for source, by_file in SOURCES:
            for file_id, rows in by_file.items():
                order += 1
                _insert(con, source, [{**r, "academic_year": Y, "_file_id": file_id,
                                       "_source_line": line}
                                      for line, r in enumerate(rows, start=2)])
                _register(con, file_id, source, Y, len(rows), order)
        _insert(con, "niko_tasks", [
            dict(_file_id="d_niko", _source_line=4, academic_year=Y,
                 subject_name="Физическая культура", grade=7, task_order=i, task=t,
                 max_points=m, task_level=lvl, source_header=f"{t} ({m}б)")
            for i, (t, m, lvl) in enumerate(NIKO_TASKS, start=1)])
        create_missing_landing_tables(con)
    finally:
        con.close()
