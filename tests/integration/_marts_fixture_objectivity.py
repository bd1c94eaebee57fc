"""Academic year 2023 of the hand-made marts fixture (_marts_fixture.py): the methodology
of directions 2 and 5 (issue 21) — task inversion, the ОГЭ of the same subject, objective
scores for resilience, the objectivity of the ВсОШ school stage. The years 2024 and 2025 of
the fixture do not change; 2023 has eight schools (the four of the fixture and E–H):

| school | МСУ | kind | context (higher ed, low-income, single, non-native) | role in 2023 |
|---|---|---|---|---|
| A 070101 | 07  | СОШ      | 10, 40, 30, 20 (quartile 1) | leaked ВПР answers; generous school stage |
| B 070102 | 07  | гимназия | 60, 5, 10, 0                | 3 ВПР works, 2 ОГЭ results (too few) |
| C 070201 | 012 | СОШ      | 40, 10, 15, 5               | high ВПР not confirmed by its ОГЭ, marks raised |
| D 070202 | 012 | СОШ      | 30, 20, 20, 10              | ordinary |
| E 070103 | 07  | СОШ      | 50, 8, 12, 2                | ordinary |
| F 070203 | 012 | СОШ      | 12, 35, 28, 18 (quartile 1) | resilient: good honest ВПР |
| G 070104 | 07  | СОШ      | 45, 9, 14, 3                | olympiad only |
| H 070204 | 012 | СОШ      | 35, 15, 18, 8               | olympiad only |

ВПР 2023 Математика, grade 5 (seed boundaries: «3» from 7, «4» from 12, «5» from 17, max 20):
three task columns, 1 (Б, 14 points), 2 (П, 4), 3 (В, 2). ОГЭ 2023 mathematics: marks → primary
5/10/18/25 as in the fixture. ВсОШ 2023 Математика: school and municipal stages.
"""

from __future__ import annotations

from _marts_fixture import _oge  # noqa: E402  (same folder, on sys.path)

YEAR = 2023
SCHOOLS_2023 = [
    # code, msu, gia, kind, settlement, n_students, n_4_11, (higher_ed, lowincome, single, nonnative)
    ("070101", "07", "0101", "СОШ", "село", 90, 60, (10.0, 40.0, 30.0, 20.0)),
    ("070102", "07", "0102", "гимназия", "город", 300, 200, (60.0, 5.0, 10.0, 0.0)),
    ("070201", "012", "0201", "СОШ", "город", 600, 400, (40.0, 10.0, 15.0, 5.0)),
    ("070202", "012", "0202", "СОШ", "город", 520, 300, (30.0, 20.0, 20.0, 10.0)),
    ("070103", "07", "0103", "СОШ", "город", 400, 250, (50.0, 8.0, 12.0, 2.0)),
    ("070203", "012", "0203", "СОШ", "село", 150, 100, (12.0, 35.0, 28.0, 18.0)),
    ("070104", "07", "0104", "СОШ", "город", 350, 220, (45.0, 9.0, 14.0, 3.0)),
    ("070204", "012", "0204", "СОШ", "город", 380, 240, (35.0, 15.0, 18.0, 8.0)),
]
A, B, C, D, E, F, G, H = (row[0] for row in SCHOOLS_2023)


def schools_2023() -> list[dict]:
    rows = []
    for line, (code, msu, gia, kind, settle, n, n411, ctx) in enumerate(SCHOOLS_2023, start=2):
        rows.append(dict(
            academic_year=YEAR, school_code=code, school_name=f"Школа {code}", msu_code=msu,
            msu_name=f"МСУ {msu}", gia_school_code=gia, fis_login=f"sch{code}",
            school_kind=kind, settlement=settle, n_students=n, n_students_4_11=n411,
            n_teachers=20, pct_ovz=1.0, pct_parents_higher_ed=ctx[0], pct_lowincome=ctx[1],
            pct_singleparent=ctx[2], pct_nonnative=ctx[3], pct_vacancies=2.0,
            status="действующая", successor_code=None, _source_line=line))
    return rows


VPR_MATH5_TASKS = [("1", 14, "Б"), ("2", 4, "П"), ("3", 2, "В")]


def _mark(primary: int) -> int:
    return 2 if primary <= 6 else 3 if primary <= 11 else 4 if primary <= 16 else 5


# (task 1, task 2, task 3) per work; journal mark = the ВПР mark unless listed in RAISED
MATH5_WORKS = {
    # A: П and В done better than Б (leaked answers); marks plausible (journal = ВПР)
    A: [(8, 4, 2), (9, 4, 2), (7, 3, 2), (10, 4, 1), (6, 4, 2), (8, 3, 2), (9, 4, 2), (7, 4, 2),
        (8, 4, 1), (8, 3, 2)],
    B: [(12, 3, 1), (13, 2, 1), (11, 2, 0)],
    # C: high ВПР; the journal is one mark lower for the first six works
    C: [(14, 4, 1), (14, 3, 2), (13, 4, 1), (14, 4, 1), (14, 3, 2), (14, 4, 1), (13, 3, 1),
        (14, 4, 2), (14, 3, 1), (14, 4, 1)],
    D: [(9, 1, 0), (8, 2, 1), (10, 1, 0), (5, 0, 0), (9, 2, 0), (8, 1, 0), (11, 2, 1), (9, 1, 0),
        (8, 1, 0), (10, 2, 1)],
    E: [(10, 1, 0), (9, 1, 0), (9, 2, 1), (10, 1, 0), (6, 0, 0), (11, 2, 1), (9, 1, 0),
        (10, 1, 0), (9, 2, 0), (10, 1, 1)],
    F: [(12, 2, 1), (11, 2, 0), (12, 3, 1), (13, 2, 1), (11, 2, 0), (12, 3, 1), (12, 2, 1),
        (11, 2, 0), (13, 2, 1), (12, 3, 1)],
}
RAISED = {C: 6}
MSU = {row[0]: row[1] for row in SCHOOLS_2023}


def _vpr_rows() -> list[dict]:
    rows = []
    for school, works in MATH5_WORKS.items():
        for i, tasks in enumerate(works, start=1):
            primary = sum(tasks)
            mark = _mark(primary)
            journal = mark - 1 if i <= RAISED.get(school, 0) else mark
            rows.append(dict(
                academic_year=YEAR, procedure="ВПР", subject_name="Математика", grade=5,
                max_primary_score=20, msu_name=f"МСУ {MSU[school]}", fis_login=f"sch{school}",
                school_name=f"Школа {school}", participant_code=f"{school[-3:]}{i:02d}",
                class_name="5А", variant=1, task_scores=[str(t) for t in tasks],
                primary_score=primary, mark=mark, journal_mark=journal,
                journal_mark_raw=str(journal)))
    return rows


def _vpr_tasks(file_id: str) -> list[dict]:
    return [dict(_file_id=file_id, _source_line=4, academic_year=YEAR, subject_name="Математика",
                 grade=5, task_order=i, task=t, max_points=m, task_level=lvl,
                 source_header=f"{t} ({m}б)")
            for i, (t, m, lvl) in enumerate(VPR_MATH5_TASKS, start=1)]


# ОГЭ 2023 mathematics: A 3.4, C 3.2, D 3.9, E 4.1 (10 results each), B 2 results
OGE_MARKS = {
    A: [3, 3, 4, 3, 4, 3, 4, 3, 3, 4],
    B: [5, 5],
    C: [3, 3, 3, 4, 3, 3, 4, 3, 3, 3],
    D: [4, 4, 3, 4, 5, 4, 3, 4, 4, 4],
    E: [4, 5, 4, 4, 4, 3, 5, 4, 4, 4],
}
GIA_CODE = {row[0]: row[2] for row in SCHOOLS_2023}


def _oge_rows() -> list[dict]:
    rows = []
    for school, marks in OGE_MARKS.items():
        rows += _oge(YEAR, MSU[school], GIA_CODE[school], f"G{school[-3:]}_", marks)
    return rows


# ВсОШ 2023 Математика: (school-stage participants, of them awarded, sent to the municipal
# stage (the first ones), of them awarded there)
OLYMPIAD_MATH = {
    A: (12, 9, 6, 0),     # generous: 75 % awarded, none holds up at the municipal stage
    B: (4, 1, 1, 1),
    C: (10, 2, 2, 1),
    D: (10, 3, 5, 2),
    E: (10, 2, 5, 1),
    F: (10, 3, 6, 3),
    G: (10, 2, 1, 0),
    H: (10, 3, 5, 1),
}


def _olympiad_rows() -> list[dict]:
    rows = []
    for school, (n, awarded, sent, municipal_awarded) in OLYMPIAD_MATH.items():
        for i in range(n):
            pid = f"o{school[-3:]}-{i:02d}"
            status = ("победитель" if i == 0 else "призёр") if i < awarded else "участник"
            rows.append(dict(academic_year=YEAR, stage="школьный", subject_name="Математика",
                             school_code=school, participant_id=pid, grade=8,
                             participation_grade=8, score=30.0, max_score=50.0, status=status))
            if i < sent:
                rows.append(dict(academic_year=YEAR, stage="муниципальный",
                                 subject_name="Математика", school_code=school,
                                 participant_id=pid, grade=8, participation_grade=8,
                                 score=20.0, max_score=50.0,
                                 status="призер" if i < municipal_awarded else "участник"))
    return rows


def files_2023() -> list[tuple[str, dict]]:
    """(source, {file_id: rows}) of 2023, in the order build_landing loads them."""
    return [("schools", {"m_schools_2023": schools_2023()}),
            ("oge", {"m_oge_math_2023": _oge_rows()}),
            ("vpr", {"m_vpr_math5_2023": _vpr_rows()}),
            ("olympiad", {"m_olympiad_2023": _olympiad_rows()})]


VPR_TASKS_BY_FILE = {"m_vpr_math5_2023": _vpr_tasks}
