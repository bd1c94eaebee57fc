"""Hand-made landing rows of directions 6 and 7 (staff, dpo, deficits, nokuod) added to the
marts fixture (_marts_fixture.py: schools A 070101 and B 070102 in МСУ 07, C 070201 and
D 070202 in МСУ 012). Every expected number of test_marts_fixture.py's «directions 6 and 7»
section is computed by hand from the rows below (the arithmetic is in the test's comments).

Staff keys are readable stand-ins ('S01' …: the landing holds keys, never a СНИЛС).

Register 2025 (state 20.09.2024):
| key | school | position(s)                 | category          | exp | born | rate | note |
|-----|--------|-----------------------------|-------------------|-----|------|------|------|
| S01 | A | директор (since 01.09.2024)      | высшая            | 18  | 1978 | 1    | new head |
| S02 | A | учитель                          | высшая            | 20  | 1960 | 1    | 64: 60+ |
| S03 | A | учитель                          | первая            | 2   | 1998 | 1,5  | young |
| S04 | A | учитель                          | педагог-методист  | 15  | 1980 | 1    | |
| S05 | A | учитель                          | без категории     | 1   | 2000 | 0,5  | young |
| S06 | A + B | учитель (A main, B 0,5)      | соответствие      | 10  | 1985 | 1 / 0,5 | two schools |
| S07 | A | заместитель директора + учитель  | высшая            | 25  | 1970 | 1 / 0,5 | two rows |
| S11 | B | директор (since 01.06.2015)      | высшая            | 30  | 1965 | 1    | |
| S12 | B | учитель                          | высшая            | 30  | 1962 | 1    | 62: 60+ |
| S21 | C | директор (since 01.09.2022)      | первая            | 22  | 1972 | 1    | |
| S22…S26 | C | учитель                      | высшая, первая, первая, без категории, педагог-наставник | 12, 5, 8, 0, 20 | 1975, 1990, 1988, 2001, 1965 | 1 | |
Register 2024 (state 20.09.2023): A — S09 директор (since 01.09.2010), S02…S05 учитель;
B — S11 директор, S12 учитель. A second, older register file of 2025 lists A with S09 as
head: the latest loaded file of a school wins.
"""

from __future__ import annotations

import datetime as dt

from _star_landing import _insert, _register  # noqa: E402  (same folder, on sys.path)

D = dt.date
A, B, C, DD = "070101", "070102", "070201", "070202"


def _staff(year, key, school, position, category, exp, born, rate, appointed=None,
           main=True, category_date=D(2020, 5, 1)):
    if category in ("педагог-методист", "педагог-наставник"):
        category_date = D(2024, 3, 1)
    if category == "без категории":
        category_date = None
    return dict(academic_year=year, staff_key=key, birth_year=born, school_code=school,
                position=position, subjects="Математика" if position == "учитель" else None,
                category=category, category_date=category_date, experience_years=exp,
                appointment_date=appointed or D(2015, 9, 1), rate=rate,
                is_main_job="да" if main else "нет")


STAFF = {
    "m_staff_2024": [
        _staff(2024, "S09", A, "директор", "высшая", 35, 1962, 1.0, D(2010, 9, 1)),
        _staff(2024, "S02", A, "учитель", "высшая", 19, 1960, 1.0),
        _staff(2024, "S03", A, "учитель", "первая", 1, 1998, 1.5),
        _staff(2024, "S04", A, "учитель", "высшая", 14, 1980, 1.0),
        _staff(2024, "S05", A, "учитель", "без категории", 0, 2000, 0.5),
        _staff(2024, "S11", B, "директор", "высшая", 29, 1965, 1.0, D(2015, 6, 1)),
        _staff(2024, "S12", B, "учитель", "высшая", 29, 1962, 1.0),
    ],
    # an earlier 2025 file of school A (loaded first): superseded for A by the file below
    "m_staff_2025_old": [
        _staff(2025, "S09", A, "директор", "высшая", 36, 1962, 1.0, D(2010, 9, 1)),
        _staff(2025, "S02", A, "учитель", "высшая", 20, 1960, 1.0),
    ],
    "m_staff_2025": [
        _staff(2025, "S01", A, "директор", "высшая", 18, 1978, 1.0, D(2024, 9, 1)),
        _staff(2025, "S02", A, "учитель", "высшая", 20, 1960, 1.0),
        _staff(2025, "S03", A, "учитель", "первая", 2, 1998, 1.5),
        _staff(2025, "S04", A, "учитель", "педагог-методист", 15, 1980, 1.0),
        _staff(2025, "S05", A, "учитель", "без категории", 1, 2000, 0.5),
        _staff(2025, "S06", A, "учитель", "соответствие занимаемой должности", 10, 1985, 1.0),
        _staff(2025, "S06", B, "учитель", "соответствие занимаемой должности", 10, 1985, 0.5,
               main=False),
        _staff(2025, "S07", A, "заместитель директора", "высшая", 25, 1970, 1.0),
        _staff(2025, "S07", A, "учитель", "высшая", 25, 1970, 0.5),
        _staff(2025, "S11", B, "директор", "высшая", 30, 1965, 1.0, D(2015, 6, 1)),
        _staff(2025, "S12", B, "учитель", "высшая", 30, 1962, 1.0),
        _staff(2025, "S21", C, "директор", "первая", 22, 1972, 1.0, D(2022, 9, 1)),
        _staff(2025, "S22", C, "учитель", "высшая", 12, 1975, 1.0),
        _staff(2025, "S23", C, "учитель", "первая", 5, 1990, 1.0),
        _staff(2025, "S24", C, "учитель", "первая", 8, 1988, 1.0),
        _staff(2025, "S25", C, "учитель", "без категории", 0, 2001, 1.0),
        _staff(2025, "S26", C, "учитель", "педагог-наставник", 20, 1965, 1.0),
    ],
}

FUNC = "Формирование функциональной грамотности обучающихся"       # general, block М
MATH = "Методика преподавания математики в условиях реализации обновлённых ФГОС"  # П М


def _doc(key, reg, issued, programme, status="Оригинал"):
    return dict(academic_year=issued.year + (1 if issued.month >= 9 else 0),
                document_kind="Удостоверение о повышении квалификации", document_status=status,
                document_key=f"doc-{reg}-{status}", registration_number=reg, issue_date=issued,
                programme_kind="повышение квалификации", programme_name=programme,
                start_year=issued.year, end_year=issued.year, hours=36, birth_year=1970,
                sex="ж", staff_key=key, study_form="очная", funding_source="бюджет")


DPO_DOCS = [
    _doc("S02", "R-1", D(2022, 5, 10), FUNC),
    _doc("S02", "R-1", D(2025, 1, 15), FUNC, "Дубликат"),     # replaces R-1, dated 2022
    _doc("S03", "R-2", D(2024, 11, 20), "Оказание первой помощи"),
    _doc("S04", "R-3", D(2023, 3, 1), "Нормативно-правовое обеспечение деятельности педагога"),
    _doc("S06", "R-4", D(2024, 10, 1), "Цифровые образовательные ресурсы в работе учителя"),
    _doc("S07", "R-5", D(2021, 12, 1), "Профилактика профессионального выгорания педагогов"),
    _doc("S22", "R-6", D(2024, 12, 1), "Пожарно-технический минимум"),
    _doc("S23", "R-7", D(2025, 1, 10), "формирование функциональной грамотности обучающихся"),
    _doc("S04", "R-8", D(2025, 3, 1), "«МЕТОДИКА преподавания математики по обновленным  ФГОС.»"),
    _doc("S12", "R-9", D(2025, 2, 1), "Подготовка обучающихся к государственной итоговой "
                                      "аттестации по физике"),
    _doc("S05", "R-10", D(2024, 10, 10), MATH),                # exactly 12 months after
    _doc("S03", "R-11", D(2024, 10, 11), MATH),                # one day too late
    _doc("S23", "R-12", D(2025, 2, 1), "ОКАЗАНИЕ  ПЕРВОЙ ПОМОЩИ."),
]

# diagnostics: elements (label, max, block) and per person (key, school, points …)
MATH_ELEMENTS = [("e1", 1, "П"), ("e2", 2, "П"), ("e3", 3, "М"), ("e4", 4, "М")]
PHYS_ELEMENTS = [("f1", 2, "П")]
MGMT_ELEMENTS = [("u1", 2, "У"), ("u2", 4, "Н")]

DIAGNOSTICS = {
    # file id: (year, diagnostic, elements, date, [(key, school, position, cells)])
    "m_def_math_2024": (2024, "Математика", MATH_ELEMENTS, D(2023, 10, 10), [
        ("S02", A, "учитель", ["1", "2", "1", "4"]),
        ("S03", A, "учитель", ["0", "2", "3", "4"]),
        ("S04", A, "учитель", ["0", "0", "1", "4"]),
        ("S05", A, "учитель", ["1", "2", "1", "4"]),
        ("S06", A, "учитель", ["1", "2", "3", "4"]),
    ]),
    "m_def_math_2025": (2025, "Математика", MATH_ELEMENTS, D(2024, 11, 15), [
        ("S02", A, "учитель", ["1", "1", "1", "4"]),
        ("S03", A, "учитель", ["1", "2", "3", "4"]),
        ("S04", A, "учитель", ["0", "0", "2", "3"]),
        ("S05", A, "учитель", ["1", "2", "2", "3"]),
        ("S06", A, "учитель", ["1", "1", "2", "2"]),
        ("S12", B, "учитель", [None, "2", "3", "4"]),            # not answered: 0 points
        ("S22", C, "учитель", ["1", "2", "3", "3"]),
        ("S23", C, "учитель", ["0", "1", "1", "1"]),
    ]),
    "m_def_phys_2025": (2025, "Физика", PHYS_ELEMENTS, D(2024, 11, 20), [
        ("S02", A, "учитель", ["2"]),                             # S02 once per territory
    ]),
    "m_def_mgmt_2025": (2025, "Управленческие компетенции", MGMT_ELEMENTS, D(2024, 12, 1), [
        ("S01", A, "директор", ["0", "2"]),
        ("S21", C, "директор", ["2", "4"]),
    ]),
}

NOKUOD = {
    "m_nokuod_2024": [(2024, A, (80.0, 81.0, 79.0, 82.0, 80.5), 80.5)],
    "m_nokuod_2025": [(2025, B, (90.0, 91.0, 89.0, 90.5, 90.0), 90.1),
                      (2025, DD, (70.0, 70.0, 70.0, 70.0, 70.0), 70.0)],
}


def build_staff_landing(con, order: int) -> int:
    """Insert the rows above (and their registry rows, loaded in this order); returns the
    next registry order."""
    for file_id, rows in STAFF.items():
        order += 1
        _insert(con, "staff", [{**r, "_file_id": file_id, "_source_line": line}
                               for line, r in enumerate(rows, start=2)])
        _register(con, file_id, "staff", rows[0]["academic_year"], len(rows), order)
    by_year: dict[int, list] = {}
    for doc in DPO_DOCS:
        by_year.setdefault(doc["academic_year"], []).append(doc)
    for year, docs in sorted(by_year.items()):
        order += 1
        file_id = f"m_dpo_{year}"
        _insert(con, "dpo", [{**r, "_file_id": file_id, "_source_line": line}
                             for line, r in enumerate(docs, start=2)])
        _register(con, file_id, "dpo", year, len(docs), order)
    for file_id, (year, diagnostic, elements, date, people) in DIAGNOSTICS.items():
        order += 1
        total_max = sum(m for _, m, _ in elements)
        _insert(con, "deficits", [dict(
            _file_id=file_id, _source_line=line, academic_year=year, diagnostic=diagnostic,
            title_year=date.year, max_total_score=total_max, staff_key=key, school_code=school,
            position=position, diagnostic_date=date, element_scores=cells,
            total_score=float(sum(int(c) for c in cells if c)))
            for line, (key, school, position, cells) in enumerate(people, start=5)])
        _insert(con, "deficits_elements", [dict(
            _file_id=file_id, _source_line=4, academic_year=year, diagnostic=diagnostic,
            element_order=i, element=label, max_points=mx, block=block,
            source_header=f"{label} ({mx}б)")
            for i, (label, mx, block) in enumerate(elements, start=1)])
        _register(con, file_id, "deficits", year, len(people), order)
    for file_id, rows in NOKUOD.items():
        order += 1
        _insert(con, "nokuod", [dict(
            _file_id=file_id, _source_line=line, academic_year=year, school_code=school,
            inn="0701010117", school_name=f"Школа {school}", openness=c[0], comfort=c[1],
            accessibility=c[2], courtesy=c[3], satisfaction=c[4], total_score=total,
            n_respondents=100) for line, (year, school, c, total) in enumerate(rows, start=2)])
        _register(con, file_id, "nokuod", rows[0][0], len(rows), order)
    return order
