"""A hand-made raw landing for the management cycle (test_measures_fixture.py): twenty
schools over three academic years (2023, 2024, 2025), ОГЭ mathematics (10 results per
school and year: OGE_FAIL_PCT = 10 × the number of marks «2») and three registers of
measures. Every expected figure of the test is computed by hand from the tables below.

Context: only `Доля родителей с высшим образованием` differs between schools (the other
three ИСБШ inputs are equal, their z is 0), so the ИСБШ orders the schools by it and
ntile(4) puts five schools in each quartile. Cluster = settlement × size band.

| quartile | schools (higher ed %)                           | cluster                               |
|----------|-------------------------------------------------|---------------------------------------|
| 4        | T1 90, T2 89, C1 88, C2 87, C6 86               | город, 100–500                        |
| 3        | T3 70, C3 69, C4 68, C5 67, C7 66               | город, 100–500 (C7: село, <100)       |
| 2        | T5 50, X1 49, X2 48, X3 47, X4 46               | город, 100–500                        |
| 1        | T4 30, Y1 29, Y2 28, Y3 27, Y4 26               | город, 100–500 (T4: село, 100–500)    |

Marks «2» out of 10 (2023 → 2025; 2024 only where listed):
T1 5 → 2 (2024: 0), T2 4 → 3 (2024: 9), C1 3 → 3, C2 4 → 3, C6 4 → 2, T3 6 → 3, C3 5 → 4,
C4 5 → 0, C5 4 → 5, C7 2 → 9, T5 3 → (no ОГЭ in 2025), X1 3 → 3, X2 2 → 2, X3 1 → 1,
X4 0 → 0, T4 5 → 1, Y1–Y4 1 → 1.

Measures (kind K = «методическое сопровождение», target OGE_FAIL_PCT unless said):
register 2023: C4 K from 01.10.2022 (ongoing); C6 K 01.10.2021–31.05.2022 (ended);
register 2024: T1, T2, T4, T5 K from 01.10.2023; T3 K from 31.08.2024 (the last day of
2023/24); C5 «наставничество» from 01.11.2023; C4 K from 01.10.2022 again (listed anew);
X2 K from 01.10.2023 with target OGE_GOOD_PCT;
register 2025: T1 «сетевое взаимодействие» from 01.09.2024; X1 K from 01.09.2024.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from rsoko_pipelines.extract.schemas import landing_schemas
from rsoko_pipelines.ingest import registry

from _marts_fixture import _oge  # noqa: E402  (same folder, on sys.path)
from _star_landing import _insert, _register  # noqa: E402

D = dt.date
YEARS = (2023, 2024, 2025)
K = "методическое сопровождение"

# code, label, higher_ed, settlement, n_students, МСУ, marks «2» by year (None: no ОГЭ)
SCHOOLS = [
    ("070101", "T1", 90.0, "город", 300, "07", {2023: 5, 2024: 0, 2025: 2}),
    ("070102", "T2", 89.0, "город", 300, "07", {2023: 4, 2024: 9, 2025: 3}),
    ("070103", "C1", 88.0, "город", 300, "07", {2023: 3, 2025: 3}),
    ("070104", "C2", 87.0, "город", 300, "07", {2023: 4, 2025: 3}),
    ("070105", "C6", 86.0, "город", 300, "07", {2023: 4, 2025: 2}),
    ("070201", "T3", 70.0, "город", 300, "07", {2023: 6, 2025: 3}),
    ("070202", "C3", 69.0, "город", 300, "07", {2023: 5, 2025: 4}),
    ("070203", "C4", 68.0, "город", 300, "07", {2023: 5, 2025: 0}),
    ("070204", "C5", 67.0, "город", 300, "07", {2023: 4, 2025: 5}),
    ("070205", "C7", 66.0, "село", 80, "07", {2023: 2, 2025: 9}),
    ("070301", "T5", 50.0, "город", 300, "012", {2023: 3}),
    ("070302", "X1", 49.0, "город", 300, "012", {2023: 3, 2025: 3}),
    ("070303", "X2", 48.0, "город", 300, "012", {2023: 2, 2025: 2}),
    ("070304", "X3", 47.0, "город", 300, "012", {2023: 1, 2025: 1}),
    ("070305", "X4", 46.0, "город", 300, "012", {2023: 0, 2025: 0}),
    ("070401", "T4", 30.0, "село", 200, "012", {2023: 5, 2025: 1}),
    ("070402", "Y1", 29.0, "город", 300, "012", {2023: 1, 2025: 1}),
    ("070403", "Y2", 28.0, "город", 300, "012", {2023: 1, 2025: 1}),
    ("070404", "Y3", 27.0, "город", 300, "012", {2023: 1, 2025: 1}),
    ("070405", "Y4", 26.0, "город", 300, "012", {2023: 1, 2025: 1}),
]
CODE = {label: code for code, label, *_ in SCHOOLS}


def _registry(year):
    return [dict(academic_year=year, school_code=code, school_name=f"Школа {label}",
                 msu_code=msu, msu_name=f"МСУ {msu}", gia_school_code=code[-4:],
                 fis_login=f"sch{code}", school_kind="СОШ", settlement=settle,
                 n_students=n, n_students_4_11=n * 2 // 3, n_teachers=20, pct_ovz=1.0,
                 pct_parents_higher_ed=higher, pct_lowincome=10.0, pct_singleparent=10.0,
                 pct_nonnative=5.0, pct_vacancies=2.0, status="действующая",
                 successor_code=None)
            for code, label, higher, settle, n, msu, _ in SCHOOLS]


def _oge_year(year):
    rows = []
    for code, label, _h, _s, _n, msu, fails in SCHOOLS:
        if year in fails:
            marks = [2] * fails[year] + [3] * (10 - fails[year])
            rows += _oge(year, msu, code[-4:], f"{label}{year}-", marks)
    return rows


def _measure(code, label, kind, start, end=None, indicator="OGE_FAIL_PCT", level="ОО"):
    school = CODE[label]
    return dict(measure_code=code, measure_kind=kind, direction=1, target_level=level,
                school_code=school, msu_code=None, start_date=start, end_date=end,
                target_indicator=indicator, basis="Приказ (тест)")


MEASURES = {
    2023: [_measure("M23-1", "C4", K, D(2022, 10, 1)),
           _measure("M23-2", "C6", K, D(2021, 10, 1), D(2022, 5, 31))],
    2024: [_measure("M24-1", "T1", K, D(2023, 10, 1)),
           _measure("M24-2", "T2", K, D(2023, 10, 1)),
           _measure("M24-3", "T3", K, D(2024, 8, 31)),
           _measure("M24-4", "T4", K, D(2023, 10, 1)),
           _measure("M24-5", "T5", K, D(2023, 10, 1)),
           _measure("M24-6", "C5", "наставничество", D(2023, 11, 1)),
           _measure("M24-7", "C4", K, D(2022, 10, 1)),
           _measure("M24-8", "X2", K, D(2023, 10, 1), indicator="OGE_GOOD_PCT")],
    2025: [_measure("M25-1", "T1", "сетевое взаимодействие", D(2024, 9, 1)),
           _measure("M25-2", "X1", K, D(2024, 9, 1))],
}


def build_landing(path, with_measures: bool = True) -> None:
    """Create the raw landing tables and the file registry in the DuckDB file at `path`."""
    con = duckdb.connect(str(path))
    try:
        registry.ensure_registry(con)
        order = 0

        def land(source, file_id, year, rows):
            nonlocal order
            order += 1
            _insert(con, source, [{**r, "academic_year": year, "_file_id": file_id,
                                   "_source_line": line, "row_no": str(line - 1)}
                                  for line, r in enumerate(rows, start=2)])
            _register(con, file_id, source, year, len(rows), order)

        for year in YEARS:
            land("schools", f"c_schools_{year}", year, _registry(year))
        for year in YEARS:
            land("oge", f"c_oge_math_{year}", year, _oge_year(year))
        if with_measures:
            for year, rows in MEASURES.items():
                land("measures", f"c_measures_{year}", year, rows)
        # every other landing table the staging layer reads, empty in this data set
        made = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
        for table in sorted(set(landing_schemas()) - made):
            _insert(con, table, [])
    finally:
        con.close()
