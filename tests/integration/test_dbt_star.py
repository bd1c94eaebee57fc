"""The star schema with a real DuckDB file and a real `dbt build`, on a small hand-made
landing data set (tests/integration/_star_landing.py) whose every value is chosen so that a
wrong model gives a visibly wrong number; the build scope (an incremental build replaces
exactly the build slices in `raw._build_scope`) and the release (the models read released
files only); plus the Dagster wiring (the dbt steps of the night produce the same tables as a
standalone dbt build)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rsoko_pipelines.settings import DBT_PROJECT_DIR

sys.path.insert(0, str(Path(__file__).parent))
from _star_landing import build_landing, landing_row_counts  # noqa: E402

DBT = str(Path(sys.executable).parent / "dbt")


def dbt(warehouse: Path, tmp: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "RSOKO_WAREHOUSE": str(warehouse),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run([DBT, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True,
                          text=True)
    if check:
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


def checksums(path: Path) -> dict[str, tuple]:
    """Order-independent content hash of every dbt-built table (views excluded)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
            "('staging', 'intermediate', 'core', 'marts') ORDER BY 1, 2").fetchall()
        return {f"{s}.{t}": con.execute(
            f'SELECT count(*), sum(hash(x)::hugeint) FROM "{s}"."{t}" AS x').fetchall()[0]
            for s, t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Landing → `dbt build` (every year). Returns (warehouse, tmp, checksums)."""
    tmp = tmp_path_factory.mktemp("star")
    warehouse = tmp / "rsoko.duckdb"
    build_landing(warehouse)
    shutil.copy(warehouse, tmp / "landing_only.duckdb")
    dbt(warehouse, tmp, "build")
    return warehouse, tmp, checksums(warehouse)


@pytest.fixture(scope="module")
def con(built):
    c = duckdb.connect(str(built[0]), read_only=True)
    yield c
    c.close()


def rows(con, sql, *params):
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_retake_resolved_to_the_later_date(con):
    p1 = rows(con, "SELECT exam_date::varchar AS d, primary_score, is_result_of_record, "
                   "sitting_rank, n_sittings FROM core.fct_assessment_result "
                   "WHERE participant_key = 'P1' AND subject_code = 'rus' ORDER BY exam_date")
    assert [(r["d"], r["primary_score"], r["is_result_of_record"]) for r in p1] == [
        ("2025-06-03", 42, False), ("2025-06-20", 48, True)]
    assert {r["n_sittings"] for r in p1} == {2}


def test_removed_and_annulled_kept_but_not_of_record(con):
    got = rows(con, "SELECT participant_key, result_status, is_result_of_record, is_failed, "
                    "school_code FROM core.fct_assessment_result "
                    "WHERE participant_key IN ('P2', 'P7') ORDER BY 1")
    assert got == [
        {"participant_key": "P2", "result_status": "removed", "is_result_of_record": False,
         "is_failed": None, "school_code": "070001"},
        {"participant_key": "P7", "result_status": "annulled", "is_result_of_record": False,
         "is_failed": None, "school_code": "070003"},
    ]


def test_failing_outcomes(con):
    got = dict(con.execute(
        "SELECT participant_key || ':' || subject_code, is_failed FROM core.fct_assessment_result "
        "WHERE procedure = 'EGE' AND result_status = 'ok' AND academic_year = 2025").fetchall())
    # P3: test score 20 < minimum 24; P1 базовая математика: mark 2
    assert got == {"P1:rus": False, "P3:rus": True, "P1:math_base": True}


def test_gve_and_oge_decoded(con):
    got = rows(con, "SELECT procedure, subject_code, grade, source_subject_code "
                    "FROM core.fct_assessment_result WHERE source = 'oge' ORDER BY 1")
    assert got == [
        {"procedure": "GVE9", "subject_code": "rus", "grade": 9, "source_subject_code": "51"},
        {"procedure": "OGE", "subject_code": "math", "grade": 9, "source_subject_code": "02"},
    ]


def test_crosswalk_gia_and_fis_login_to_registry_code(con):
    # (012, 0001) and (07, 0001) share the 4-digit code: only the pair identifies the school
    got = dict(con.execute(
        "SELECT participant_id, school_code FROM core.fct_assessment_result "
        "WHERE participant_id IN ('P3', 'P1', '070003/30001', '070002/20001')").fetchall())
    assert got == {"P3": "070002", "P1": "070001", "070003/30001": "070003",
                   "070002/20001": "070002"}
    types = dict(con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'core' "
        "AND table_name = 'fct_assessment_result'").fetchall())
    assert types["school_code"] == "VARCHAR" and types["msu_code"] == "VARCHAR"
    assert con.execute("SELECT msu_code FROM core.fct_assessment_result "
                       "WHERE participant_id = 'P3'").fetchone()[0] == "012"


def test_reorganised_school_rolls_up_transitively(con):
    assert rows(con, "SELECT school_code, current_school_code, rollup_depth FROM core.dim_school "
                     "WHERE school_code IN ('070004', '070005') AND academic_year = 2024 "
                     "ORDER BY 1") == [
        {"school_code": "070004", "current_school_code": "070003", "rollup_depth": 2},
        {"school_code": "070005", "current_school_code": "070003", "rollup_depth": 1}]
    assert con.execute("SELECT f.school_code, d.current_school_code "
                       "FROM core.fct_assessment_result f JOIN core.dim_school d "
                       "USING (academic_year, school_code) "
                       "WHERE f.participant_key = 'Q1'").fetchall() == [("070004", "070003")]


def test_vpr_tasks_unnested(con):
    got = rows(con, """
        SELECT r._file_id, t.task_order, t.task, t.task_level, t.raw_value, t.points,
               t.max_points, t.attempted, t.assessed, t.is_result_of_record
        FROM core.fct_task_score t JOIN core.fct_assessment_result r USING (result_id)
        WHERE r.participant_id = '070001/10001' ORDER BY r._file_id, t.task_order""")
    region = [g for g in got if g["_file_id"] == "f_vpr_rus4_region"]
    assert [(g["task"], g["raw_value"], g["points"], g["max_points"], g["attempted"],
             g["assessed"]) for g in region] == [
        ("1К1", "4", 4.0, 4, True, True),
        ("1К2", "X", 0.0, 3, False, True),       # X: 0 points, not attempted
        ("2", "-", None, 3, None, False)]        # '-': not assessed, no points
    assert region[2]["task_level"] == "П"
    # the overlapping school-scope file, loaded later, is the result of record
    assert {g["_file_id"]: g["is_result_of_record"] for g in got} == {
        "f_vpr_rus4_region": False, "f_vpr_rus4_school": True}
    mastery = con.execute("""
        SELECT avg(points) FROM core.fct_task_score
        WHERE task_key = 'VPR|2025|rus|4|3' AND assessed AND is_result_of_record""").fetchone()[0]
    assert mastery == 1.0    # the '-' cell is excluded, not counted as 0


def test_gia_strings_parsed(con):
    tasks = rows(con, """
        SELECT t.task_order, t.answer_part, t.raw_value, t.points, t.max_points
        FROM core.fct_task_score t JOIN core.fct_assessment_result r USING (result_id)
        WHERE r.participant_key = 'P1' AND r.exam_date = DATE '2025-06-03'
          AND r.subject_code = 'rus' ORDER BY t.task_order""")
    assert len(tasks) == 27
    by_no = {t["task_order"]: t for t in tasks}
    assert (by_no[1]["raw_value"], by_no[1]["points"]) == ("+", 1)
    assert (by_no[2]["raw_value"], by_no[2]["points"]) == ("-", 0)
    assert (by_no[3]["raw_value"], by_no[3]["points"]) == ("1", 1)
    assert (by_no[8]["raw_value"], by_no[8]["points"], by_no[8]["max_points"]) == ("+", 2, 2)
    assert (by_no[27]["answer_part"], by_no[27]["points"], by_no[27]["max_points"]) == (
        "extended", 15, 22)
    # every result's task points add up to its primary score (ГИА and ВПР alike)
    bad = con.execute("""
        SELECT r.participant_id, r.primary_score, sum(t.points)
        FROM core.fct_assessment_result r JOIN core.fct_task_score t USING (result_id)
        GROUP BY ALL HAVING r.primary_score IS DISTINCT FROM sum(t.points)""").fetchall()
    assert bad == []
    gve = con.execute("""SELECT list(points ORDER BY task_order) FROM core.fct_task_score
                         WHERE procedure = 'GVE9'""").fetchone()[0]
    assert gve == [5, 3, 4, 2, 6]


def test_olympiad_status_one_spelling(con):
    assert con.execute("SELECT list(DISTINCT status ORDER BY status) FROM "
                       "core.fct_olympiad_result").fetchone()[0] == ["победитель", "призёр"]


def test_hashed_grain_test_catches_a_repeated_task_cell(built, tmp_path):
    """The grain test of core.fct_task_score groups by a 64-bit hash (via_hash): one repeated
    cell must still fail it, with the exact (result_id, task_order) reported — as the two
    whole rows of the duplicated cell (docs/dbt_tests.md §5), with the group size n_rows."""
    copy = tmp_path / "rsoko.duckdb"
    shutil.copy(built[0], copy)
    with duckdb.connect(str(copy)) as c:
        result_id, task_order = c.execute(
            "SELECT result_id, task_order FROM core.fct_task_score WHERE procedure = 'VPR' "
            "ORDER BY result_id, task_order LIMIT 1").fetchone()
        c.execute("INSERT INTO core.fct_task_score SELECT * FROM core.fct_task_score "
                  "WHERE result_id = ? AND task_order = ?", [result_id, task_order])
    select = "fct_task_score,test_name:unique_combination_of_columns"
    failing = dbt(copy, tmp_path, "test", "--select", select, "--store-failures",
                  check=False)
    # tests run with severity warn (dbt_project.yml): dbt never stops on one, the night
    # decides what a failing test holds back (orchestration/transform.py)
    assert failing.returncode == 0
    assert "Got 2 results" in failing.stdout and "WARN=" in failing.stdout
    with duckdb.connect(str(copy), read_only=True) as c:
        failures = c.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE '%dbt_test__audit'").fetchall()
        assert len(failures) == 1
        schema, table = failures[0]
        assert c.execute(f'SELECT result_id, task_order, n_rows, procedure, points IS NOT NULL '
                         f'FROM "{schema}"."{table}"').fetchall() == [
            (result_id, task_order, 2, "VPR", True)] * 2
    assert dbt(built[0], tmp_path, "test", "--select", select).returncode == 0


def test_tests_of_the_task_cells_read_the_slices_in_scope(built, tmp_path):
    """The big task-cell tests (macros/test_scope.sql) read only the build slices of the
    night: a repeated cell and a wrong task point in another slice are not theirs to see;
    in a slice in scope, with `*` in scope and with no slice named (a `dbt test` by hand)
    they fail. The compiled SQL names the slices as literals."""
    copy = tmp_path / "rsoko.duckdb"
    shutil.copy(built[0], copy)
    with duckdb.connect(str(copy)) as c:
        result_id, task_order, mine = c.execute(
            "SELECT result_id, task_order, _slice FROM core.fct_task_score "
            "WHERE procedure = 'VPR' ORDER BY result_id, task_order LIMIT 1").fetchone()
        [other] = c.execute("SELECT min(_slice) FROM core.fct_task_score WHERE _slice <> ?",
                            [mine]).fetchone()
        c.execute("INSERT INTO core.fct_task_score SELECT * FROM core.fct_task_score "
                  "WHERE result_id = ? AND task_order = ?", [result_id, task_order])
        # a primary score that its task points no longer add up to
        assert c.execute("UPDATE intermediate.int_vpr_rpr_results SET primary_score = "
                         "primary_score + 1 WHERE result_id = ?", [result_id]).fetchone()[0] == 1
    tests = ("fct_task_score,test_name:unique_combination_of_columns "
             "assert_vpr_task_points_sum_to_primary_score")

    def failing(*slices: str) -> set[str]:
        _scope(copy, *slices)
        out = dbt(copy, tmp_path, "test", "--select", *tests.split()).stdout
        return {line.split("WARN ", 1)[1].split()[1] for line in out.splitlines()
                if " WARN " in line and " of " in line and "START" not in line}

    assert failing(other) == set()
    both = {"fct_task_score__unique_result_id_task_order",
            "assert_vpr_task_points_sum_to_primary_score"}
    assert failing(mine) == both
    compiled = next((tmp_path / "target").rglob("fct_task_score__unique_result_id_task_order.sql"))
    assert f"_slice in ('{mine}')" in compiled.read_text(encoding="utf-8")
    assert failing("*") == both
    assert failing() == both            # no slice named: the whole table
    assert failing("-") == both


def test_every_landing_row_accounted(con):
    expected = landing_row_counts()
    got = {s: (l, f, r, u) for s, l, f, r, u in con.execute(
        "SELECT source, sum(landing_rows), sum(fact_rows), sum(rejected_rows), "
        "sum(unaccounted) FROM core.landing_accounting GROUP BY source").fetchall()}
    assert {s: v[0] for s, v in got.items()} == expected
    assert all(v[3] == 0 and v[1] + v[2] == v[0] for v in got.values())
    rejects = set(con.execute("SELECT source, reject_reason, _file_id, _source_line "
                              "FROM core.rejected_results").fetchall())
    assert rejects == {
        ("ege", "unknown_school", "f_ege_rus_0603", 6),
        ("vpr", "unknown_school", "f_vpr_rus4_region", 8),
        ("vpr", "unknown_subject", "f_vpr_astro11", 5),
        ("olympiad", "unknown_school", "f_olympiad_2025", 5),
        ("literacy", "unknown_school", "f_literacy_2025", 4),
    }


def test_docs_persisted_and_contract_types(con):
    comment = con.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' "
                          "AND table_name = 'fct_assessment_result'").fetchone()[0]
    assert "grain" in comment.lower() and "Результаты" in comment
    missing = con.execute("""
        SELECT table_name || '.' || column_name FROM duckdb_columns()
        WHERE schema_name = 'core' AND (comment IS NULL OR comment = '')""").fetchall()
    assert missing == []


def _scope(path: Path, *slices: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("DELETE FROM raw._build_scope")
        for s in slices:
            con.execute("INSERT INTO raw._build_scope (build_slice) VALUES (?)", [s])
    finally:
        con.close()


def test_an_incremental_build_with_nothing_in_scope_changes_nothing(built):
    warehouse, tmp, before = built
    work = tmp / "rerun.duckdb"
    shutil.copy(warehouse, work)
    _scope(work)
    dbt(work, tmp, "run")
    assert checksums(work) == before
    # every slice in scope, and a full refresh: the same tables again
    _scope(work, "*")
    dbt(work, tmp, "run")
    assert checksums(work) == before
    _scope(work)
    dbt(work, tmp, "run", "--full-refresh")
    assert checksums(work) == before


def test_an_incremental_build_replaces_exactly_the_slices_in_scope(built):
    warehouse, tmp, before = built
    work = tmp / "scope.duckdb"
    shutil.copy(warehouse, work)
    con = duckdb.connect(str(work))
    slices = sorted(r[0] for r in con.execute(
        "SELECT DISTINCT _slice FROM core.fct_assessment_result").fetchall())
    assert {"ege|2024", "ege|2025"} <= set(slices)
    con.execute("UPDATE core.fct_assessment_result SET primary_score = -1 "
                "WHERE _slice IN ('ege|2024', 'ege|2025')")
    con.close()
    _scope(work, "ege|2025")
    dbt(work, tmp, "run", "--select", "fct_assessment_result")
    con = duckdb.connect(str(work), read_only=True)
    try:
        scores = dict(con.execute(
            "SELECT _slice, count(*) FILTER (WHERE primary_score = -1) FROM "
            "core.fct_assessment_result WHERE _slice IN ('ege|2024', 'ege|2025') "
            "GROUP BY ALL").fetchall())
        total = con.execute("SELECT count(*) FROM core.fct_assessment_result "
                            "WHERE _slice = 'ege|2024'").fetchone()[0]
    finally:
        con.close()
    assert scores == {"ege|2025": 0, "ege|2024": total} and total > 0   # 2024 untouched
    _scope(work, "*")
    dbt(work, tmp, "run", "--select", "fct_assessment_result")
    assert checksums(work)["core.fct_assessment_result"] == before["core.fct_assessment_result"]


def test_models_read_released_files_only(built):
    """A landed file the release has not let through (or that a correction replaced) is not
    read: its rows leave every model when its slice is rebuilt, and come back on release."""
    warehouse, tmp, before = built
    work = tmp / "release.duckdb"
    shutil.copy(warehouse, work)
    con = duckdb.connect(str(work))
    file_id, slice_, rows = con.execute(
        "SELECT _file_id, _slice, count(*) FROM core.fct_assessment_result WHERE _slice "
        "LIKE 'ege|%' GROUP BY ALL ORDER BY 3 DESC, 1 LIMIT 1").fetchone()
    con.execute("UPDATE raw._file_registry SET released = false WHERE file_id = ?", [file_id])
    con.close()
    _scope(work, slice_)
    dbt(work, tmp, "build", "--select", "path:models/staging path:models/intermediate "
        "path:models/core")
    con = duckdb.connect(str(work))
    try:
        assert con.execute("SELECT count(*) FROM core.fct_assessment_result WHERE _file_id = ?",
                           [file_id]).fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM staging.stg_ege WHERE _file_id = ?",
                           [file_id]).fetchone()[0] == 0
        con.execute("UPDATE raw._file_registry SET released = true WHERE file_id = ?", [file_id])
    finally:
        con.close()
    dbt(work, tmp, "build", "--select", "path:models/staging path:models/intermediate "
        "path:models/core")
    got = checksums(work)
    assert {k: v for k, v in got.items() if k.startswith(("core.", "staging.", "intermediate."))} \
        == {k: v for k, v in before.items() if k.startswith(("core.", "staging.", "intermediate."))}
    assert rows > 0


def test_dagster_materialize_equals_standalone_build(built, tmp_path, monkeypatch):
    """The night's dbt steps (reference, models, marts) as Dagster assets on the same
    landing: every model and mart equal to the standalone `dbt build`, every dbt test a
    passing check with a description."""
    import dagster as dg

    from rsoko_pipelines.orchestration.dbt_assets import (build_marts_asset,
                                                          build_models_asset,
                                                          build_reference_asset)
    from rsoko_pipelines.orchestration.resources import dbt_resource

    warehouse, tmp, standalone = built
    work = tmp_path / "dagster.duckdb"
    shutil.copy(tmp / "landing_only.duckdb", work)
    monkeypatch.setenv("RSOKO_WAREHOUSE", str(work))
    monkeypatch.setenv("RSOKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))

    reference, models, marts = build_reference_asset(), build_models_asset(), build_marts_asset()
    resources = {"dbt": dbt_resource()}
    spec_keys = {k.to_user_string() for k in models.keys}
    assert {"core/fct_assessment_result", "staging/stg_vpr_tasks",
            "intermediate/int_school_rollup"} <= spec_keys
    deps = {k.to_user_string() for k in models.dependency_keys}
    assert {"raw/vpr", "raw/ege", "raw/schools", "raw/file_registry",
            "reference/ref_subjects"} <= deps
    assert models.partitions_def is None and marts.partitions_def is None
    specs = list(models.check_specs) + list(marts.check_specs)
    assert len(specs) > 300                                   # dbt tests as asset checks
    assert all(spec.description and "None" not in spec.description for spec in specs)

    with dg.instance_for_test() as instance:
        assert dg.materialize([reference], resources=resources, instance=instance).success
        result = dg.materialize([models], resources=resources, instance=instance)
        assert result.success
        assert [e for e in result.get_asset_check_evaluations() if not e.passed] == []
        result = dg.materialize([marts], resources=resources, instance=instance)
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        assert evaluations and all(e.passed for e in evaluations)
        assert any(e.check_name == "marts_indicators_cover_catalogue" for e in evaluations)
    # the night commits its release (released_at stamped): the models that show when a file
    # was released differ by those timestamps only
    got = checksums(work)
    stamped = {"staging.stg_file_registry", "marts.data_status"}
    assert {k: v for k, v in got.items() if k not in stamped} == \
        {k: v for k, v in standalone.items() if k not in stamped}
    assert set(got) == set(standalone)
    con = duckdb.connect(str(work), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw._file_registry WHERE status = 'loaded' "
                           "AND released_at IS NULL").fetchone()[0] == 0
        assert con.execute("SELECT value FROM raw._build_state WHERE key = 'dbt_project'"
                           ).fetchone()[0]
    finally:
        con.close()
