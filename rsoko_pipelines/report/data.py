"""What the reports show, read from a published version in a few bulk queries (one per
mart, never one per school: a country-size region has thousands of pages) and grouped by
territory in memory. Read-only and sandboxed like `rsoko sql`. Suppressed rates arrive as
NULL from the marts and stay None here: the pages show them as blank cells."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Rows:
    """Rows of one query: column names and tuples, with a dict view per row."""
    columns: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]


@dataclass
class ReportData:
    version: str
    published_at: str
    latest_year: int
    years: list[int]
    descriptions: dict[tuple[str, str], str]          # (table, column) -> comment
    municipalities: list[dict]                          # code, name
    schools: list[dict]                                 # school_context row (latest) + display
    indicators: list[dict]
    results: list[dict]                                 # assessment_results, latest year
    deficits: list[dict]                                # task_mastery deficit rows + region %
    objectivity: list[dict]                             # vpr_objectivity, latest year
    objectivity_schools: list[dict]                     # vpr_objectivity_schools, all years
    low_results: list[dict]                             # low_results_schools, latest year
    recommendations: list[dict] | None                  # None: the mart is not published
    tables: set[str] = field(default_factory=set)

    def by(self, rows_name: str, key: str) -> dict:
        grouped = defaultdict(list)
        for row in getattr(self, rows_name) or []:
            grouped[row.get(key)].append(row)
        return grouped


def _rows(con, sql: str, params=None) -> Rows:
    cur = con.execute(sql, params or [])
    return Rows([d[0] for d in cur.description], cur.fetchall())


def _has(con, table: str, column: str | None = None) -> bool:
    if column is None:
        return con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                           "AND table_name = ?", [table]).fetchone()[0] > 0
    return con.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'marts' "
                       "AND table_name = ? AND column_name = ?", [table, column]).fetchone()[0] > 0


def load(published_dir: Path, version: str | None = None) -> ReportData:
    from rsoko_pipelines.publish.query import connect

    con = connect(published_dir, version)
    try:
        return load_from(con)
    finally:
        con.close()


def _school_display(con) -> str:
    """The unique display name when the marts have it; else name (municipality)."""
    if _has(con, "school_context", "school_display_name"):
        return "school_display_name"
    return "school_name || ' (' || coalesce(municipality_name, municipality_code) || ')'"


def load_from(con) -> ReportData:
    version, published_at = con.execute(
        "SELECT version, strftime(published_at, '%Y-%m-%d %H:%M') FROM marts._publication"
    ).fetchone()
    years = [r[0] for r in con.execute(
        "SELECT DISTINCT academic_year FROM marts.indicators ORDER BY 1").fetchall()]
    latest = years[-1]
    descriptions = {(t, c): d for t, c, d in con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE schema_name = 'marts'").fetchall()}
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
    display = _school_display(con)
    schools = _rows(con, f"""
        SELECT *, {display} AS display_name FROM marts.school_context
        WHERE academic_year = ? ORDER BY municipality_code, school_name, school_code""",
                    [latest]).dicts()
    municipalities = _rows(con, """
        SELECT DISTINCT municipality_code AS code, municipality_name AS name
        FROM marts.school_context WHERE academic_year = ? ORDER BY 1""", [latest]).dicts()
    indicators = _rows(con, "SELECT * FROM marts.indicators ORDER BY direction, "
                            "indicator_code, academic_year").dicts()
    results = _rows(con, """
        SELECT * FROM marts.assessment_results WHERE academic_year = ?
        ORDER BY procedure, subject_code, grade""", [latest]).dicts()
    description = ("t.task_description" if _has(con, "task_mastery", "task_description")
                   else "NULL::VARCHAR AS task_description")
    deficits = _rows(con, f"""
        SELECT t.level, t.municipality_code, t.school_code, t.procedure, t.procedure_name,
               t.subject_code, t.subject_name, t.grade, t.task, t.task_order, t.task_level,
               {description}, t.participants, t.pct_mastered, r.pct_mastered AS region_pct
        FROM marts.task_mastery AS t
        LEFT JOIN marts.task_mastery AS r
          ON r.level = 'region' AND r.academic_year = t.academic_year
         AND r.procedure = t.procedure AND r.subject_code = t.subject_code
         AND r.grade = t.grade AND r.task = t.task
        WHERE t.academic_year = ? AND t.is_deficit
        ORDER BY t.procedure, t.subject_code, t.grade, t.task_order""", [latest]).dicts()
    objectivity = _rows(con, "SELECT * FROM marts.vpr_objectivity WHERE academic_year = ? "
                             "ORDER BY subject_code, grade", [latest]).dicts()
    objectivity_schools = _rows(con, "SELECT * FROM marts.vpr_objectivity_schools "
                                     "ORDER BY academic_year").dicts()
    low = _rows(con, "SELECT * FROM marts.low_results_schools WHERE academic_year = ?",
                [latest]).dicts()
    recommendations = None
    if "recommendations" in tables:
        recommendations = _rows(con, "SELECT * FROM marts.recommendations "
                                     "WHERE academic_year = ?", [latest]).dicts()
    return ReportData(version=version, published_at=published_at, latest_year=latest,
                      years=years, descriptions=descriptions, municipalities=municipalities,
                      schools=schools, indicators=indicators, results=results,
                      deficits=deficits, objectivity=objectivity,
                      objectivity_schools=objectivity_schools, low_results=low,
                      recommendations=recommendations, tables=tables)


TERRITORY = ("(level = 'region' OR municipality_code = $msu)")
WORKBOOK_SHEETS = {
    "Показатели": ("indicators", f"SELECT * FROM marts.indicators WHERE {TERRITORY} "
                                 "ORDER BY direction, indicator_code, academic_year, level, "
                                 "school_code"),
    "Результаты": ("assessment_results", f"SELECT * FROM marts.assessment_results WHERE "
                                         f"{TERRITORY} ORDER BY academic_year, procedure, "
                                         "subject_code, grade, level, school_code"),
    "Дефицитные задания": ("task_mastery", "SELECT * FROM marts.task_mastery WHERE "
                                           "municipality_code = $msu AND is_deficit ORDER BY "
                                           "academic_year, procedure, subject_code, grade, "
                                           "task_order, level, school_code"),
    "Объективность ВПР": ("vpr_objectivity", "SELECT * FROM marts.vpr_objectivity WHERE "
                                             "municipality_code = $msu ORDER BY academic_year, "
                                             "school_code, subject_code, grade"),
    "Низкие результаты": ("low_results_schools", "SELECT * FROM marts.low_results_schools "
                                                 "WHERE municipality_code = $msu ORDER BY "
                                                 "academic_year, school_code"),
    "Контекст": ("school_context", "SELECT * FROM marts.school_context WHERE "
                                   "municipality_code = $msu ORDER BY academic_year, school_code"),
    "Рекомендации": ("recommendations", "SELECT * FROM marts.recommendations WHERE "
                                        "municipality_code = $msu ORDER BY ALL"),
}


def workbook_tables_from(con, municipality_code: str) -> dict[str, tuple[str, Rows]]:
    out = {}
    for title, (table, sql) in WORKBOOK_SHEETS.items():
        if not _has(con, table):
            continue  # e.g. recommendations before that mart exists
        out[title] = (table, _rows(con, sql, {"msu": municipality_code}))
    return out
