"""A tiny hand-made raw landing data set for the indicator marts (test_marts_fixture.py).

Four schools in two municipalities, of different sizes, so that a region value computed
from participant rows differs from the mean of school means:

| school | МСУ | РИС ГИА | kind     | settlement | students (4–11) | context (higher ed, low-income, single-parent, non-native) |
|--------|-----|---------|----------|------------|-----------------|-------------------------------------------------------------|
| A 070101 | 07  | 0101  | СОШ      | село       | 90 (60)         | 10, 40, 30, 20  (least favourable)                          |
| B 070102 | 07  | 0102  | гимназия | город      | 300 (200)       | 60, 5, 10, 0                                                |
| C 070201 | 012 | 0201  | СОШ      | город      | 600 (400)       | 40, 10, 15, 5                                               |
| D 070202 | 012 | 0202  | СОШ      | город      | 520 (300)       | 30, 20, 20, 10                                              |

Every value is listed here so that the expected numbers in the test can be computed by
hand (they are written there as literals, with the arithmetic in comments).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from rsoko_pipelines.ingest import registry

from _star_landing import (_insert, _register,  # noqa: E402  (same folder, on sys.path)
                           create_missing_landing_tables)

D = dt.date

SCHOOL_ROWS = [
    # code, msu, gia, kind, settlement, n_students, n_4_11, (higher_ed, lowincome, single, nonnative)
    ("070101", "07", "0101", "СОШ", "село", 90, 60, (10.0, 40.0, 30.0, 20.0)),
    ("070102", "07", "0102", "гимназия", "город", 300, 200, (60.0, 5.0, 10.0, 0.0)),
    ("070201", "012", "0201", "СОШ", "город", 600, 400, (40.0, 10.0, 15.0, 5.0)),
    ("070202", "012", "0202", "СОШ", "город", 520, 300, (30.0, 20.0, 20.0, 10.0)),
]


def _schools(year):
    rows = []
    for line, (code, msu, gia, kind, settle, n, n411, ctx) in enumerate(SCHOOL_ROWS, start=2):
        rows.append(dict(
            academic_year=year, school_code=code, school_name=f"Школа {code}", msu_code=msu,
            msu_name=f"МСУ {msu}", gia_school_code=gia, fis_login=f"sch{code}",
            school_kind=kind, settlement=settle, n_students=n, n_students_4_11=n411,
            n_teachers=20, pct_ovz=1.0, pct_parents_higher_ed=ctx[0], pct_lowincome=ctx[1],
            pct_singleparent=ctx[2], pct_nonnative=ctx[3], pct_vacancies=2.0,
            status="действующая", successor_code=None, _source_line=line))
    return rows


def _gia(year, code, name, date, msu, school, key, primary=None, test=None, mark=None,
         status=""):
    return dict(academic_year=year, source_subject_code=code, subject_name=name,
                exam_date=date, msu_code=msu, gia_school_code=school,
                class_name="11А" if date.month == 6 and code in ("01", "02", "22") else "9А",
                ppe_code="0701", room="0001", participant_key=key, short_answers="",
                extended_answers="", primary_score=primary, test_score=test, mark=mark,
                status=status)


def _ege_rus(msu, school, key, test, date=D(2025, 6, 3)):
    return _gia(2025, "01", "Русский язык", date, msu, school, key, primary=test // 2, test=test)


# ЕГЭ 2025, Russian (minimum 24). A: 20, 50, 75, 85, 60 of record + PA2's earlier sitting (30)
# + PA5 removed; B: 70, 80, 40 (3 participants: suppressed); C: 100, 90, 60, 30, 24, 10.
EGE = {
    "m_ege_rus_0603": [
        _ege_rus("07", "0101", "PA1", 20),
        _ege_rus("07", "0101", "PA2", 30),                      # re-taken on 06-20
        _ege_rus("07", "0101", "PA3", 75),
        _ege_rus("07", "0101", "PA4", 85),
        _ege_rus("07", "0101", "PA6", 60),
        _gia(2025, "01", "Русский язык", D(2025, 6, 3), "07", "0101", "PA5", status="Удален"),
        _ege_rus("07", "0102", "PB1", 70),
        _ege_rus("07", "0102", "PB2", 80),
        _ege_rus("07", "0102", "PB3", 40),
        _ege_rus("012", "0201", "PC1", 100),
        _ege_rus("012", "0201", "PC2", 90),
        _ege_rus("012", "0201", "PC3", 60),
        _ege_rus("012", "0201", "PC4", 30),
        _ege_rus("012", "0201", "PC5", 24),                     # = minimum: not failed
        _ege_rus("012", "0201", "PC6", 10),
    ],
    "m_ege_rus_0620": [
        _ege_rus("07", "0101", "PA2", 50, date=D(2025, 6, 20)),
    ],
    # базовая математика at C: marks 2, 3, 4, 5, 5 (PC1 also takes профильная)
    "m_ege_mathb": [
        _gia(2025, "22", "Математика базовая", D(2025, 6, 5), "012", "0201", f"PC{i}",
             primary=p, mark=m)
        for i, (p, m) in enumerate([(5, 2), (10, 3), (14, 4), (18, 5), (20, 5)], start=1)
    ],
    # профильная математика at C (minimum 27): PC1 85, PC6 20 (failed)
    "m_ege_mathp": [
        _gia(2025, "02", "Математика профильная", D(2025, 6, 6), "012", "0201", "PC1",
             primary=28, test=85),
        _gia(2025, "02", "Математика профильная", D(2025, 6, 6), "012", "0201", "PC6",
             primary=4, test=20),
    ],
}

_OGE_PRIMARY = {2: 5, 3: 10, 4: 18, 5: 25}


def _oge(year, msu, school, prefix, marks):
    return [_gia(year, "02", "Математика", D(year, 6, 10), msu, school, f"{prefix}{i}",
                 primary=_OGE_PRIMARY[m], mark=m) for i, m in enumerate(marks, start=1)]


OGE = {
    # ОГЭ 2025 mathematics: A 2,2,3,4,5,3; C 4,4,5,5,3,3,3,2,4,5 (+ 1 annulled);
    # D 2,2,2,2,3,3,3,3,4,4 (40 % failing)
    "m_oge_math_2025": (
        _oge(2025, "07", "0101", "OA", [2, 2, 3, 4, 5, 3])
        + _oge(2025, "012", "0201", "OC", [4, 4, 5, 5, 3, 3, 3, 2, 4, 5])
        + [_gia(2025, "02", "Математика", D(2025, 6, 10), "012", "0201", "OC11",
                status="Аннулирован")]
        + _oge(2025, "012", "0202", "OD", [2, 2, 2, 2, 3, 3, 3, 3, 4, 4])
    ),
    # ОГЭ 2024 at D: 5 of 10 failing
    "m_oge_math_2024": _oge(2024, "012", "0202", "QD", [2, 2, 2, 2, 2, 3, 3, 4, 4, 5]),
}

# ВПР Russian, grade 4 (b = 14 in 2024 and 2025: the lowest primary score for «3»).
# Two task columns: 1 (Б, 20 points), 2 (П, 18 points); task 1 = min(primary, 20).
VPR_TASKS_SPEC = [("1", 20, "Б"), ("2", 18, "П")]

# school A: (primary, mark, journal mark or None); n(14) = 5, n(13) = 0, n(12) = 1
A_WORKS = [(14, 3, 2), (14, 3, 2), (14, 3, 2), (14, 3, 3), (14, 3, None), (20, 3, 3),
           (25, 4, 4), (30, 4, 5), (12, 2, 4), (16, 3, 2), (35, 5, 5), (36, 5, 3)]
D_WORKS = [(p, m, m) for p, m in [(5, 2), (8, 2), (10, 2), (15, 3), (18, 3), (22, 3), (26, 4),
                                  (28, 4), (30, 4), (33, 5)]]
C_WORKS = [(p, m, m) for p, m in [(30, 4), (32, 4), (34, 5), (36, 5), (38, 5)]]
B_WORKS = [(20, 3, None), (24, 4, None), (28, 4, None)]


def _cells(primary, i, school):
    t1 = min(primary, 20)
    t2 = primary - t1
    if school == "070101" and i == 1:
        return [str(t1), "-"]                 # not assessed: excluded from task 2
    if school == "070101" and i == 5:
        return [str(t1), "X"]                 # not attempted: 0 points
    return [str(t1), str(t2)]


def _works(year, school, msu, works):
    return [dict(academic_year=year, procedure="ВПР", subject_name="Русский язык", grade=4,
                 max_primary_score=38, msu_name=f"МСУ {msu}", fis_login=f"sch{school}",
                 school_name=f"Школа {school}", participant_code=f"{school[-3:]}{i:02d}",
                 class_name="4А", variant=1, task_scores=_cells(p, i, school),
                 primary_score=p, mark=m, journal_mark=j,
                 journal_mark_raw="" if j is None else str(j))
            for i, (p, m, j) in enumerate(works, start=1)]


VPR = {
    "m_vpr_rus4_2025": (_works(2025, "070101", "07", A_WORKS) + _works(2025, "070102", "07", B_WORKS)
                        + _works(2025, "070201", "012", C_WORKS)
                        + _works(2025, "070202", "012", D_WORKS)),
    "m_vpr_rus4_2024": _works(2024, "070101", "07", A_WORKS) + _works(2024, "070202", "012", D_WORKS),
}


def _oly(stage, subject, school, pid, status):
    return dict(academic_year=2025, stage=stage, subject_name=subject, school_code=school,
                participant_id=pid, grade=8, participation_grade=8, score=10.0,
                max_score=50.0, status=status)


OLYMPIAD = {
    "m_olympiad_2025": [
        _oly("школьный", "Математика", "070101", "a1", "участник"),
        _oly("школьный", "Физика", "070101", "a1", "призер"),
        _oly("школьный", "Математика", "070101", "a2", "победитель"),
        _oly("школьный", "Математика", "070101", "a3", "участник"),
        _oly("школьный", "Математика", "070102", "b1", "участник"),
        _oly("школьный", "Математика", "070201", "c1", "участник"),
        _oly("школьный", "Физика", "070201", "c1", "победитель"),
        _oly("школьный", "Математика", "070201", "c2", "участник"),
        _oly("школьный", "Математика", "070201", "c3", "участник"),
        _oly("школьный", "Математика", "070201", "c4", "участник"),
        _oly("школьный", "Математика", "070201", "c5", "участник"),
        _oly("региональный", "Математика", "070101", "a2", "победитель"),
        _oly("региональный", "Физика", "070201", "c1", "призёр"),
        _oly("региональный", "Физика", "070201", "c2", "участник"),
        _oly("региональный", "Физика", "070201", "c3", "участник"),
        _oly("региональный", "Физика", "070201", "c4", "участник"),
    ],
}


def _lit(school, code, score, level):
    return dict(academic_year=2025, school_code=school, participant_code=code, grade=8,
                domain="читательская", score=score, level=level)


LITERACY = {
    "m_literacy_2025": [
        _lit("070101", "LA1", 300.0, "1"), _lit("070101", "LA2", 420.0, "2"),
        _lit("070101", "LA3", 500.0, "3"),
        _lit("070201", "LC1", 650.0, "5"), _lit("070201", "LC2", 700.0, "6"),
        _lit("070201", "LC3", 550.0, "3"), _lit("070201", "LC4", 450.0, "2"),
        _lit("070201", "LC5", 380.0, "1"), _lit("070201", "LC6", 600.0, "4"),
    ],
}


def build_landing(path) -> None:
    """Create the raw landing tables and the file registry in the DuckDB file at `path`."""
    files = [("schools", {"m_schools_2024": _schools(2024), "m_schools_2025": _schools(2025)}),
             ("ege", EGE), ("oge", OGE), ("vpr", VPR), ("olympiad", OLYMPIAD),
             ("literacy", LITERACY)]
    # issue 21: the year 2023, its own cast (_marts_fixture_objectivity.py)
    from _marts_fixture_objectivity import VPR_TASKS_BY_FILE, files_2023
    files += files_2023()
    con = duckdb.connect(str(path))
    try:
        registry.ensure_registry(con)
        order = 0
        for source, by_file in files:
            for file_id, rows in by_file.items():
                order += 1
                year = rows[0]["academic_year"]
                _insert(con, source, [{**r, "_file_id": file_id, "_source_line": line,
                                       "row_no": str(line - 2)}
                                      for line, r in enumerate(rows, start=3)])
                _register(con, file_id, source, year, len(rows), order)
                if source == "vpr" and file_id in VPR_TASKS_BY_FILE:
                    _insert(con, "vpr_tasks", VPR_TASKS_BY_FILE[file_id](file_id))
                elif source == "vpr":
                    _insert(con, "vpr_tasks", [
                        dict(_file_id=file_id, _source_line=4, academic_year=year,
                             subject_name="Русский язык", grade=4, task_order=i, task=t,
                             max_points=m, task_level=lvl, source_header=f"{t} ({m}б)")
                        for i, (t, m, lvl) in enumerate(VPR_TASKS_SPEC, start=1)])
        # raw tables the staging layer expects even when this data set has none
        # directions 6 and 7 (staff, dpo, deficits, nokuod): _staff_fixture.py
        from _staff_fixture import build_staff_landing

        build_staff_landing(con, order)
        create_missing_landing_tables(con)
    finally:
        con.close()
