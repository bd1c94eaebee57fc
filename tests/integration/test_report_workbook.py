"""The municipal workbook of `rsoko report`, read back with python-calamine (an independent
reader): its «Результаты» sheet equals marts.assessment_results for the municipality, its
schools and the region, cell for cell (suppressed rates are empty cells, not 0), and every
column is described in the «Описание» sheet. Uses the tier XS reference night."""

from __future__ import annotations

import duckdb
from python_calamine import CalamineWorkbook

from rsoko_pipelines.publish.versions import published_database
from rsoko_pipelines.report.build import build_report
from tests.integration import _nightly as n


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):  # Excel keeps 15 significant digits
        return float(f"{float(value):.12g}")
    return str(value)


def test_municipal_workbook_equals_the_mart(tmp_path_factory):
    reference = n.reference_night(tmp_path_factory)
    published = n.settings_for(reference.data).published_dir
    out = tmp_path_factory.mktemp("report_xlsx") / "site"
    counts = build_report(published, out, log=lambda m: None, only_schools=set())
    con = duckdb.connect(str(published_database(published)), read_only=True)
    msu = con.execute("SELECT municipality_code FROM marts.assessment_results WHERE level = "
                      "'school' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    cur = con.execute("""
        SELECT * FROM marts.assessment_results
        WHERE level = 'region' OR municipality_code = ?
        ORDER BY academic_year, procedure, subject_code, grade, level, school_code""", [msu])
    header = [d[0] for d in cur.description]
    expected = [[_cell(x) for x in row] for row in cur.fetchall()]
    comments = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE "
                                "table_name = 'assessment_results'").fetchall())
    con.close()

    book = CalamineWorkbook.from_path(str(out / "xlsx" / f"msu_{msu}.xlsx"))
    assert counts["municipalities"] >= 2 and "Результаты" in book.sheet_names
    sheet = book.get_sheet_by_name("Результаты").to_python()
    assert sheet[0] == header
    got = [[_cell(x) if x != "" else "" for x in row] for row in sheet[1:]]
    assert len(got) == len(expected) > 100
    assert got == expected
    suppressed = header.index("is_suppressed")
    pct_failed = header.index("pct_failed")
    blanks = [row for row in got if row[suppressed] is True]
    assert blanks and all(row[pct_failed] == "" for row in blanks)  # empty, never 0
    about = book.get_sheet_by_name("Описание").to_python()
    described = {r[2]: r[3] for r in about[3:] if r[0] == "Результаты"}
    assert described == {c: comments[c] for c in header}


def test_recommendations_are_rendered_when_that_mart_is_published(tmp_path_factory):
    """The reports show `marts.recommendations` when a publication has it (the night
    publishes it). Here a copy of the reference night's published file gains one row of it
    for a school, with a text the reports must show."""
    import json
    import shutil

    reference = n.reference_night(tmp_path_factory)
    source = published_database(n.settings_for(reference.data).published_dir)
    published = tmp_path_factory.mktemp("report_rec") / "published"
    version_dir = published / "versions" / "20990101T000000Z"
    version_dir.mkdir(parents=True)
    db = version_dir / "rsoko_marts.duckdb"
    shutil.copyfile(source, db)
    db.chmod(0o644)
    (version_dir / "manifest.json").write_text(json.dumps({"version": version_dir.name}))
    (published / "current").symlink_to(f"versions/{version_dir.name}")
    con = duckdb.connect(str(db))
    school, msu, year = con.execute(
        "SELECT school_code, municipality_code, academic_year FROM marts.school_context "
        "ORDER BY academic_year DESC, school_code LIMIT 1").fetchone()
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
    assert "recommendations" in tables                 # the night publishes the mart
    con.execute("""INSERT INTO marts.recommendations BY NAME SELECT * FROM (VALUES
        (?, 'school', ?, ?, 'VPR_FLAGGED_2Y', 'Перекрёстная проверка работ ВПР',
         'признаки необъективности два года подряд', 'cross_check'))
        t(academic_year, level, municipality_code, school_code, rule_code, recommendation,
          evidence, suggested_measure_kind)""", [year, msu, school])
    con.close()
    out = tmp_path_factory.mktemp("report_rec_site") / "site"
    counts = build_report(published, out, log=lambda m: None, only_schools={school})
    assert counts["recommendations"] is True
    page = (out / "school" / f"{school}.html").read_text(encoding="utf-8")
    assert "Адресные рекомендации" in page and "Перекрёстная проверка работ ВПР" in page
    assert "признаки необъективности два года подряд" in page
    sheets = CalamineWorkbook.from_path(str(out / "xlsx" / f"msu_{msu}.xlsx")).sheet_names
    assert "Рекомендации" in sheets
