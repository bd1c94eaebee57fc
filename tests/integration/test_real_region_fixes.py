"""Issue 13 «Real regions»: what a contract-conforming region may deliver and our demo region
never did, on the hand-made star landing (tests/integration/_star_landing.py) with a real
`dbt build`:

- functional-literacy participant codes are unique only within a school: the same code `L1`
  at two schools is two participants (core.fct_literacy_result.participant_id);
- removed / annulled ГИА lines that still carry the scanned answer strings: no task cells from
  them, the ГИА task-sum test passes, task mastery is unchanged;
- a source that is never delivered (here: the olympiad): the indicator-catalogue test does not
  demand its indicators;
- a year without its own registry of schools (2026: literacy only): the 2025 registry stands
  in (intermediate.int_registry_year, core.dim_school.registry_year).

Regression: the landing above is built twice, once as the star tests use it and once with
these differences; every table outside the slices the differences touch is byte-for-byte the
same (order-independent checksums), so the fixes change nothing they should not."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _star_landing import (EGE_RUS_SHORT_2, _gia, _insert, _register,  # noqa: E402
                           build_landing)
from test_dbt_star import dbt, rows  # noqa: E402

D = __import__("datetime").date


def _differences(path: Path) -> None:
    """Apply the real-region differences to a landing built by build_landing()."""
    with duckdb.connect(str(path)) as con:
        # the same participant code L1 at another school (070003), same domain: a second child
        con.execute("""INSERT INTO raw.literacy BY NAME SELECT
            'f_literacy_2025' AS _file_id, 5 AS _source_line, 2025 AS academic_year,
            '070003' AS school_code, 'L1' AS participant_code, 8 AS grade,
            'читательская' AS domain, 380.0 AS score, '1' AS level""")
        # removed / annulled lines that still carry what was scanned before the removal
        _insert(con, "ege", [{**r, "_file_id": "f_ege_rus_0603"} for r in (
            _gia(2025, "01", "Русский язык", D(2025, 6, 3), 8, "07", "0001", "P8",
                 EGE_RUS_SHORT_2, "15(22)", None, status="Удален"),
            _gia(2025, "01", "Русский язык", D(2025, 6, 3), 9, "012", "0001", "P9",
                 "+-+", "", None, status="Аннулирован"))])
        # the olympiad is never delivered in this region
        con.execute("DELETE FROM raw.olympiad")
        con.execute("DELETE FROM raw._file_registry WHERE source = 'olympiad'")
        # 2026: a literacy file, no registry of schools of 2026
        con.execute("""INSERT INTO raw.literacy BY NAME SELECT
            'f_literacy_2026' AS _file_id, 2 AS _source_line, 2026 AS academic_year,
            '070002' AS school_code, 'L1' AS participant_code, 9 AS grade,
            'финансовая' AS domain, 510.0 AS score, '3' AS level""")
        _register(con, "f_literacy_2026", "literacy", 2026, 1, 99)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(base warehouse, real-region warehouse, tmp, base checksums, real checksums)."""
    tmp = tmp_path_factory.mktemp("real_region")
    base, real = tmp / "base.duckdb", tmp / "real.duckdb"
    build_landing(base)
    shutil.copy(base, real)
    _differences(real)
    dbt(base, tmp / "b", "build")
    proc = dbt(real, tmp / "r", "build")
    done = proc.stdout.split("Done.")[-1]
    assert "ERROR=0" in done and "WARN=0" in done, done
    return base, real, tmp, checksums_to(base, 2025), checksums_to(real, 2025)


def checksums_to(path: Path, last_year: int) -> dict[str, tuple]:
    """checksums() of the rows up to `last_year` (tables without academic_year: all rows)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
            "('staging', 'intermediate', 'core', 'marts') ORDER BY 1, 2").fetchall()
        out = {}
        for s, t in tables:
            cols = {c for c, in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND "
                "table_name = ?", [s, t]).fetchall()}
            where = f"WHERE academic_year <= {last_year}" if "academic_year" in cols else ""
            out[f"{s}.{t}"] = con.execute(
                f'SELECT count(*), sum(hash(x)::hugeint) FROM (SELECT * FROM "{s}"."{t}" '
                f'{where}) AS x').fetchall()[0]
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def con(builds):
    c = duckdb.connect(str(builds[1]), read_only=True)
    yield c
    c.close()


def test_literacy_codes_are_unique_only_within_a_school(con):
    got = rows(con, """SELECT participant_id, school_code, participant_code, domain, level_num,
                              _source_line
                       FROM core.fct_literacy_result WHERE academic_year = 2025
                       ORDER BY participant_id""")
    assert got == [
        dict(participant_id="070001/L1", school_code="070001", participant_code="L1",
             domain="читательская", level_num=2, _source_line=2),
        dict(participant_id="070003/L1", school_code="070003", participant_code="L1",
             domain="читательская", level_num=1, _source_line=5),
        dict(participant_id="070003/L2", school_code="070003", participant_code="L2",
             domain="математическая", level_num=0, _source_line=3),
    ]
    region = rows(con, """SELECT domain, participants FROM marts.literacy_results
                          WHERE level = 'region' AND academic_year = 2025 ORDER BY domain""")
    assert region == [dict(domain="математическая", participants=1),
                      dict(domain="читательская", participants=2)]
    # LIT_BELOW2_PCT: below level 2 are 070003/L2 (ниже 1) and 070003/L1 (1) of 3 results
    lit = rows(con, """SELECT participants FROM marts.indicators
                       WHERE indicator_code = 'LIT_BELOW2_PCT' AND level = 'region'
                         AND academic_year = 2025""")
    assert lit == [dict(participants=3)]


def test_removed_lines_with_answer_strings_count_for_nothing(con):
    removed = rows(con, """SELECT participant_key, result_status, primary_score,
                                  is_result_of_record
                           FROM core.fct_assessment_result
                           WHERE participant_key IN ('P8', 'P9') ORDER BY 1""")
    assert removed == [
        dict(participant_key="P8", result_status="removed", primary_score=None,
             is_result_of_record=False),
        dict(participant_key="P9", result_status="annulled", primary_score=None,
             is_result_of_record=False)]
    # no task cell of any removed/annulled result, in the view and in the stored fact
    assert con.execute("""SELECT count(*) FROM intermediate.int_gia_task_scores t
                          JOIN intermediate.int_gia_results r USING (result_id)
                          WHERE r.result_status <> 'ok'""").fetchone()[0] == 0
    assert con.execute("""SELECT count(*) FROM core.fct_task_score t
                          JOIN core.fct_assessment_result r USING (result_id)
                          WHERE r.result_status <> 'ok'""").fetchone()[0] == 0
    # GIA_REMOVED_PER_1000 sees them (2 more removals than the base landing's P2 and P7)
    n = con.execute("""SELECT numerator FROM marts.indicators
                       WHERE indicator_code = 'GIA_REMOVED_PER_1000' AND level = 'region'
                         AND academic_year = 2025""").fetchone()[0]
    assert n == 4


def test_an_absent_source_is_not_demanded_by_the_catalogue_test(con):
    """The olympiad is never delivered: its indicators are not computed, yet never silently
    absent either: a region row per catalogue code × year with data, value NULL with the
    reason (its source is not loaded). The catalogue test accepts that (the build of the
    fixture has WARN=0: tests run with severity warn)."""
    assert con.execute("SELECT count(*) FROM core.fct_olympiad_result").fetchone()[0] == 0
    codes = [c for c, in con.execute("SELECT indicator_code FROM reference.indicator_catalogue "
                                     "WHERE indicator_code LIKE 'OLY_%' ORDER BY 1").fetchall()]
    years = [y for y, in con.execute("SELECT DISTINCT academic_year FROM marts.indicators "
                                     "ORDER BY 1").fetchall()]
    assert codes and years == [2024, 2025, 2026]
    got = con.execute("""SELECT indicator_code, academic_year, level, value, numerator,
                                missing_reason
                         FROM marts.indicators WHERE indicator_code LIKE 'OLY_%'
                         ORDER BY 1, 2""").fetchall()
    assert [(c, y) for c, y, *_ in got] == [(c, y) for c in codes for y in years]
    for code, year, level, value, numerator, reason in got:
        assert (level, value, numerator) == ("region", None, None), code
        assert reason.startswith("источник не загружен / source not loaded: "), (code, reason)
        assert f"olympiad {year}" in reason, (code, reason)


def test_a_year_without_its_registry_uses_the_nearest_one(con):
    assert rows(con, "SELECT * FROM intermediate.int_registry_year ORDER BY 1") == [
        dict(academic_year=2024, registry_year=2024), dict(academic_year=2025, registry_year=2025),
        dict(academic_year=2026, registry_year=2025)]
    schools = con.execute("""SELECT list(school_code ORDER BY school_code), min(registry_year),
                                    max(registry_year)
                             FROM core.dim_school WHERE academic_year = 2026""").fetchone()
    assert schools == (["070001", "070002", "070003", "070004", "070005"], 2025, 2025)
    assert rows(con, """SELECT participant_id, msu_code, level_num FROM core.fct_literacy_result
                        WHERE academic_year = 2026""") == [
        dict(participant_id="070002/L1", msu_code="012", level_num=3)]
    assert con.execute("""SELECT count(*) FROM core.rejected_results
                          WHERE academic_year = 2026""").fetchone()[0] == 0


def test_nothing_else_changes(builds):
    """Regression: only the tables of the slices the differences touch change (rows up to
    2025; 2026 is new)."""
    *_, before, after = builds
    changed = {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}
    assert changed == {
        "staging.stg_ege", "core.fct_assessment_result",            # P8, P9: kept, removed
        "staging.stg_literacy", "core.fct_literacy_result",         # 070003/L1
        "marts.literacy_results",
        "staging.stg_olympiad", "core.fct_olympiad_result",         # no olympiad
        "core.rejected_results",                                    # its rejected line
        "marts.olympiad_coverage", "marts.olympiad_objectivity",
        "marts.olympiad_objectivity_schools",
        "marts.data_status",                                        # olympiad: not loaded
        "marts.indicators",                                         # LIT, OLY, GIA_REMOVED
        "marts.assessment_results",                                 # n_removed only (below)
        "core.dim_academic_year",                                   # 2026 is now the latest
    }
    for unchanged in ("core.fct_task_score", "marts.task_mastery", "marts.low_results_schools",
                      "marts.vpr_objectivity", "marts.school_context"):
        assert before[unchanged] == after[unchanged], unchanged
    sql = ("SELECT count(*), sum(hash(x)::hugeint) FROM "
           "(SELECT * EXCLUDE (n_removed) FROM marts.assessment_results) AS x")
    removed = ("SELECT level, school_code, n_removed FROM marts.assessment_results WHERE "
               "procedure = 'EGE' AND subject_code = 'rus' AND academic_year = 2025 "
               "AND level <> 'municipality' ORDER BY level, school_code")
    with duckdb.connect(str(builds[0]), read_only=True) as b, \
            duckdb.connect(str(builds[1]), read_only=True) as r:
        assert b.execute(sql).fetchall() == r.execute(sql).fetchall()
        # base: P2 removed at 070001, P7 annulled at 070003; real adds P8 (070001), P9 (070002)
        assert b.execute(removed).fetchall() == [
            ("region", None, 2), ("school", "070001", 1), ("school", "070002", 0),
            ("school", "070003", 1)]
        assert r.execute(removed).fetchall() == [
            ("region", None, 4), ("school", "070001", 2), ("school", "070002", 1),
            ("school", "070003", 1)]


def test_a_failing_test_stores_whole_rows_with_file_and_line(builds, tmp_path):
    """Break the literacy grain behind the ingest's back (a duplicate within one school): the
    grain test fails and its stored failures are the two whole rows, file and line included;
    its manifest entry says the rule and what to do."""
    real = builds[1]
    copy = tmp_path / "broken.duckdb"
    shutil.copy(real, copy)
    with duckdb.connect(str(copy)) as c:
        c.execute("""INSERT INTO core.fct_literacy_result SELECT * REPLACE (
                         md5('dup') AS literacy_result_id, 9 AS _source_line)
                     FROM core.fct_literacy_result WHERE participant_id = '070003/L1'""")
    failing = dbt(copy, tmp_path, "test", "--select", "fct_literacy_result__grain",
                  "--store-failures", check=False)
    # every dbt test runs with severity warn (the night decides what to hold back): the
    # failure is a warning, and its rows are stored all the same
    done = failing.stdout.split("Done.")[-1]
    assert failing.returncode == 0 and "WARN=1" in done and "ERROR=0" in done, failing.stdout
    assert "Got 2 results" in failing.stdout
    with duckdb.connect(str(copy), read_only=True) as c:
        (schema, table), = c.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE '%dbt_test__audit'").fetchall()
        assert table == "fct_literacy_result__grain"
        stored = c.execute(f'SELECT participant_id, domain, n_rows, _file_id, _source_line '
                           f'FROM "{schema}"."{table}" ORDER BY _source_line').fetchall()
    assert stored == [("070003/L1", "читательская", 2, "f_literacy_2025", 5),
                      ("070003/L1", "читательская", 2, "f_literacy_2025", 9)]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text(encoding="utf-8"))
    node, = [n for n in manifest["nodes"].values() if n["name"] == "fct_literacy_result__grain"]
    assert node["description"].startswith("Каждый участник (school_code/participant_code)")
    assert "platform team" in node["config"]["meta"]["hint"]
