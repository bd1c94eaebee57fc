"""A small hand-made raw landing data set with the exact landing schema
(rsoko_pipelines.extract.schemas.landing_schema), for the star-schema tests.

Every value here is chosen so that a wrong model gives a visibly wrong number; the
expected values are asserted in test_dbt_star.py."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from rsoko_pipelines.extract.schemas import landing_schema
from rsoko_pipelines.ingest import registry

D = dt.date


def _school(year, code, msu, gia, login, kind="СОШ", status="действующая", successor=None,
            line=2):
    return dict(academic_year=year, school_code=code, school_name=f"Школа {code}",
                msu_code=msu, msu_name=f"МСУ {msu}", gia_school_code=gia, fis_login=login,
                school_kind=kind, settlement="город", n_students=500, n_students_4_11=400,
                n_teachers=40, pct_ovz=2.5, pct_nonnative=1.0, pct_lowincome=10.0,
                pct_singleparent=12.0, pct_parents_higher_ed=40.0, pct_vacancies=3.0,
                status=status, successor_code=successor, _source_line=line)


SCHOOLS = {
    "f_schools_2024": [
        _school(2024, "070001", "07", "0001", "sch070001", line=2),
        _school(2024, "070002", "012", "0001", "sch070002", kind="лицей", line=3),
        _school(2024, "070004", "07", "0004", "sch070004", line=4),
        _school(2024, "070005", "07", "0005", "sch070005", line=5),
    ],
    "f_schools_2025": [
        _school(2025, "070001", "07", "0001", "sch070001", line=2),
        # the same 4-digit РИС ГИА code in another МСУ: only (msu, code) identifies a school
        _school(2025, "070002", " 012 ", "0001", "sch070002", kind="лицей", line=3),
        _school(2025, "070003", "07", "0003", "sch070003", kind="гимназия", line=4),
        # 070004 → 070005 → 070003: a transitive roll-up
        _school(2025, "070004", "07", None, None, status="реорганизована", successor="070005",
                line=5),
        _school(2025, "070005", "07", None, None, status="реорганизована", successor="070003",
                line=6),
    ],
}
for rows in SCHOOLS.values():
    for r in rows:
        r["academic_year"] = r["academic_year"]

EGE_RUS_SHORT_1 = "+-1" + "+" * 23     # 1 + 0 + 1 + 25 (tasks 8 and 22 are worth 2) = 27
EGE_RUS_SHORT_2 = "+" * 26             # 28


def _gia(year, code, name, date, line, msu, school, key, short, ext, primary, test=None,
         mark=None, status=""):
    return dict(academic_year=year, source_subject_code=code, subject_name=name,
                exam_date=date, row_no=str(line - 2), msu_code=msu, gia_school_code=school,
                class_name="11А" if code in ("01", "22") else "9Б", ppe_code="0701",
                room="0001", participant_key=key, short_answers=short,
                extended_answers=ext, primary_score_written=None, primary_score_oral=None,
                primary_score=primary, test_score=test, mark=mark, status=status,
                _source_line=line)


EGE = {
    "f_ege_rus_0603": [
        # P1 sits Russian on the main day (42) and again on the reserve day (48)
        _gia(2025, "01", "Русский язык", D(2025, 6, 3), 3, "07", "0001", "P1",
             EGE_RUS_SHORT_1, "15(22)", 42, test=64),
        # P2 removed for a violation: empty score cells
        _gia(2025, "01", "Русский язык", D(2025, 6, 3), 4, "07", "0001", "P2", "", "", None,
             status="Удален"),
        # P3 at (012, 0001) = school 070002, below the minimum test score 24
        _gia(2025, "01", "Русский язык", D(2025, 6, 3), 5, "012", "0001", "P3",
             "-" * 26, "10(22)", 10, test=20),
        # P4 at a school that is not in the registry → rejected
        _gia(2025, "01", "Русский язык", D(2025, 6, 3), 6, "07", "9999", "P4",
             EGE_RUS_SHORT_2, "0(22)", 28, test=55),
        # P7 annulled
        _gia(2025, "01", "Русский язык", D(2025, 6, 3), 7, "07", "0003", "P7", "", "", None,
             status="Аннулирован"),
    ],
    "f_ege_rus_0620": [
        _gia(2025, "01", "Русский язык", D(2025, 6, 20), 3, "07", "0001", "P1",
             EGE_RUS_SHORT_2, "20(22)", 48, test=72),
    ],
    "f_ege_mathb_0605": [
        # базовая математика: a mark, no test score; mark 2 fails
        _gia(2025, "22", "Математика базовая", D(2025, 6, 5), 3, "07", "0001", "P1",
             "+" * 5 + "-" * 16, "", 5, mark=2),
    ],
    "f_ege_rus_2024": [
        # 2024 result of school 070004, reorganised in 2025 (rolls up to 070003)
        _gia(2024, "01", "Русский язык", D(2024, 6, 1), 3, "07", "0004", "Q1",
             EGE_RUS_SHORT_2, "12(22)", 40, test=60),
    ],
}

OGE = {
    "f_oge_math_0610": [
        _gia(2025, "02", "Математика", D(2025, 6, 10), 3, "07", "0003", "P5",
             "+" * 10 + "-" * 9, "2(2)1(2)0(2)2(2)0(2)1(2)", 16, mark=4),
    ],
    "f_gve_rus_0604": [
        # code 51 = ГВЭ-9 Russian: extended answers only
        _gia(2025, "51", "Русский язык", D(2025, 6, 4), 3, "07", "0003", "P6",
             "", "5(7)3(4)4(4)2(4)6(9)", 20, mark=4),
    ],
}


def _work(proc, subject, grade, maxp, line, login, code, cells, primary, mark, journal,
          journal_raw, msu="МСУ 07"):
    return dict(academic_year=2025, procedure=proc, subject_name=subject, grade=grade,
                max_primary_score=maxp, msu_name=msu, fis_login=login,
                school_name="Школа", participant_code=code, class_name=f"{grade}А",
                variant=1, task_scores=cells, primary_score=primary, mark=mark,
                journal_mark=journal, journal_mark_raw=journal_raw, _source_line=line)


VPR_TASKS_RUS4 = [("1К1", 4, "Б"), ("1К2", 3, "Б"), ("2", 3, "П")]
VPR = {
    # region-scope file, loaded first
    "f_vpr_rus4_region": [
        _work("ВПР", "Русский язык", 4, 10, 5, "sch070001", "10001", ["4", "X", "-"], 4, 3,
              4, "4"),
        _work("ВПР", "Русский язык", 4, 10, 6, "sch070001", "10002", ["3", "2", "1"], 6, 4,
              None, "НЕТ ОТМЕТКИ"),
        _work("ВПР", "Русский язык", 4, 10, 7, "SCH070003", "30001", ["1", "1", "1"], 3, 3,
              None, ""),
        _work("ВПР", "Русский язык", 4, 10, 8, "sch079999", "99999", ["1", "1", "1"], 3, 3,
              None, ""),
    ],
    # school-scope file of 070001 overlapping the region file, loaded later: it wins
    "f_vpr_rus4_school": [
        _work("ВПР", "Русский язык", 4, 10, 5, "sch070001", "10001", ["4", "1", "-"], 5, 3,
              4, "4"),
    ],
    "f_vpr_astro11": [
        _work("ВПР", "Астрономия", 11, 5, 5, "sch070001", "11001", ["1"], 1, 3, None, ""),
    ],
}
VPR_TASKS = {
    "f_vpr_rus4_region": ("Русский язык", 4, VPR_TASKS_RUS4),
    "f_vpr_rus4_school": ("Русский язык", 4, VPR_TASKS_RUS4),
    "f_vpr_astro11": ("Астрономия", 11, [("1", 5, "Б")]),
}
RPR = {
    "f_rpr_math5": [
        _work("РПР", "Математика", 5, 3, 5, "sch070002", "20001", ["1", "X"], 1, 2, 3, "3"),
    ],
}
RPR_TASKS = {"f_rpr_math5": ("Математика", 5, [("1", 1, "Б"), ("2", 2, "П")])}


def _oly(line, stage, subject, school, pid, status, score=10.0):
    return dict(academic_year=2025, stage=stage, subject_name=subject, school_code=school,
                participant_id=pid, grade=9, participation_grade=9, score=score,
                max_score=50.0, status=status, _source_line=line)


OLYMPIAD = {
    "f_olympiad_2025": [
        _oly(2, "школьный", "Математика", "070001", "O1", "призер"),
        _oly(3, "муниципальный", "Математика", "070001", "O1", "призёр"),
        _oly(4, "региональный", "Право", "070002", "O2", "победитель", 45.0),
        _oly(5, "школьный", "Математика", "079999", "O3", "участник"),
    ],
}


def _lit(line, school, code, domain, score, level):
    return dict(academic_year=2025, school_code=school, participant_code=code, grade=8,
                domain=domain, score=score, level=level, _source_line=line)


LITERACY = {
    "f_literacy_2025": [
        _lit(2, "070001", "L1", "читательская", 450.5, "2"),
        _lit(3, "070003", "L2", "математическая", 300.0, "ниже 1"),
        _lit(4, "079999", "L3", "читательская", 500.0, "3"),
    ],
}

SOURCE_OF = {}


def _insert(con, table: str, rows: list[dict]) -> None:
    schema = landing_schema(table)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    exists = con.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name='raw' AND "
                         "table_name=?", [table]).fetchall()
    data = pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)
    con.register("_rows", data)
    if not exists:
        con.execute(f"CREATE TABLE raw.{table} AS SELECT * FROM _rows LIMIT 0")
    con.execute(f"INSERT INTO raw.{table} BY NAME SELECT * FROM _rows")
    con.unregister("_rows")


def create_missing_landing_tables(con) -> None:
    """Every landing table of the column maps exists (empty when this data set has none):
    the staging layer reads them all."""
    from rsoko_pipelines.ingest.tables import ensure_all_landing_tables

    ensure_all_landing_tables(con)


def _register(con, file_id, source, year, rows, order, status="loaded"):
    """A registry row as the night leaves it after its release: a loaded file released, a
    superseded one not (the models read released files only)."""
    con.execute(
        "INSERT INTO raw._file_registry (file_id, source, academic_year, inbox_path, file_name,"
        " size_bytes, mtime_ns, archive_path, slice_key, rows, status, loaded_at, released) "
        "VALUES (?, ?, ?, ?, ?, 1, 1, NULL, ?, ?, ?, TIMESTAMP '2025-07-01 00:00:00' + "
        "to_seconds(?), ?)",
        [file_id, source, year, f"{source}/{year}/{file_id}", file_id, file_id, rows, status,
         order, status == "loaded"])


def landing_row_counts() -> dict[str, int]:
    return {
        "ege": sum(len(v) for v in EGE.values()),
        "oge": sum(len(v) for v in OGE.values()),
        "vpr": sum(len(v) for v in VPR.values()),
        "rpr": sum(len(v) for v in RPR.values()),
        "olympiad": sum(len(v) for v in OLYMPIAD.values()),
        "literacy": sum(len(v) for v in LITERACY.values()),
    }


def build_landing(path) -> None:
    """Create the raw landing tables and the file registry in the DuckDB file at `path`."""
    con = duckdb.connect(str(path))
    try:
        registry.ensure_registry(con)
        order = 0
        for source, files in (("schools", SCHOOLS), ("ege", EGE), ("oge", OGE), ("vpr", VPR),
                              ("rpr", RPR), ("olympiad", OLYMPIAD), ("literacy", LITERACY)):
            for file_id, rows in files.items():
                order += 1
                year = rows[0]["academic_year"]
                _insert(con, source, [{**r, "_file_id": file_id} for r in rows])
                _register(con, file_id, source, year, len(rows), order)
                tasks = (VPR_TASKS if source == "vpr" else RPR_TASKS).get(file_id)
                if source in ("vpr", "rpr") and tasks:
                    subject, grade, spec = tasks
                    _insert(con, f"{source}_tasks", [
                        dict(_file_id=file_id, _source_line=4, academic_year=year,
                             subject_name=subject, grade=grade, task_order=i, task=t,
                             max_points=m, task_level=lvl, source_header=f"{t} ({m}б)")
                        for i, (t, m, lvl) in enumerate(spec, start=1)])
        # directions 6 and 7: raw tables the staging layer expects, empty in this data set
        for table in ("staff", "dpo", "deficits", "deficits_elements", "nokuod"):
            _insert(con, table, [])
        # a superseded correction: registered, its rows deleted from the landing
        _register(con, "f_ege_rus_0603_old", "ege", 2025, 5, 0, status="superseded")
        create_missing_landing_tables(con)
    finally:
        con.close()
