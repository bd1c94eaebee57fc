"""Failing dbt tests explained and attributed (rsoko_pipelines/quality/dbt_failures.py): the
rule of every test kind in words, the failing rows stored and sampled with their file and
line, and the source × years of tonight's new data a failure holds back."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from rsoko_pipelines.ingest import registry
from rsoko_pipelines.quality import dbt_failures as f
from rsoko_pipelines.settings import DBT_PROJECT_DIR


def _generic(kind: str, column: str | None = None, **kwargs) -> dict:
    kw = {"model": "{{ get_where_subquery(ref('fct_x')) }}", **kwargs}
    if column:
        kw["column_name"] = column
    return {"name": f"{kind}_fct_x", "description": "", "column_name": column,
            "test_metadata": {"name": kind, "kwargs": kw}, "config": {"meta": {}}}


@pytest.mark.parametrize("node, rule", [
    (_generic("not_null", "school_code"),
     "«school_code» заполнен в каждой строке / «school_code» is never empty"),
    (_generic("unique", "result_id"),
     "Значения «result_id» не повторяются / values of «result_id» are unique"),
    (_generic("accepted_values", "level", values=["region", "school"]),
     "«level» — одно из: region, school / «level» is one of: region, school"),
    (_generic("relationships", "school_code", to="ref('dim_school')", field="school_code"),
     "Каждое значение «school_code» есть в dim_school.school_code / every «school_code» "
     "exists in dim_school.school_code"),
    (_generic("accepted_range", "mark", min_value=2, max_value=5),
     "«mark» в пределах [2; 5] / «mark» within [2, 5]"),
    (_generic("accepted_range", "participants", min_value=0),
     "«participants» не меньше 0 / «participants» is at least 0"),
    (_generic("accepted_range", "share", max_value=100),
     "«share» не больше 100 / «share» is at most 100"),
    (_generic("unique_combination_of_columns",
              combination_of_columns=["academic_year", "school_code"]),
     "Каждая комбинация (academic_year, school_code) встречается один раз / each "
     "(academic_year, school_code) combination occurs once"),
    (_generic("expression_is_true", expression="points <= max_points"),
     "В каждой строке выполняется points <= max_points / points <= max_points holds on "
     "every row"),
    (_generic("composite_relationships", columns=["academic_year", "school_code"],
              to="ref('dim_school')"),
     "Каждая комбинация (academic_year, school_code) есть в dim_school / every "
     "(academic_year, school_code) combination exists in dim_school"),
    (_generic("marts_level_codes"),
     "Коды территории соответствуют уровню (регион / муниципалитет / школа) / "
     "municipality_code and school_code are set exactly down to the row's level"),
    (_generic("some_new_test", "x", threshold=3),
     "dbt test some_new_test(threshold=3, column_name=x)"),
    ({"name": "assert_something", "description": "", "config": {}},
     "singular test assert_something returns no rows"),
    # a description always wins: the test's own, or its meta's
    ({**_generic("not_null", "x"), "description": "Код школы задан / school code set"},
     "Код школы задан / school code set"),
    ({**_generic("not_null", "x"), "config": {"meta": {"description": "From meta"}}},
     "From meta"),
])
def test_rule_of_every_test_kind_in_words(node, rule):
    assert f.rule_text(node) == rule


def test_own_generic_tests_name_their_columns():
    loaded = f.rule_text(_generic("from_loaded_file", "_file_id"))
    assert loaded.startswith("Каждая строка из выпущенного файла реестра («_file_id»)")
    assert "quarantined, pending or replaced" in loaded
    cells = f.rule_text(_generic("marts_small_cells_suppressed", columns=["pct", "mean"]))
    assert "rsoko:min_cell_size" in cells and "(pct, mean)" in cells


def test_every_test_of_the_project_has_a_rule_in_words():
    """The real manifest (dbt parse of the project): no test falls back to its machine name,
    and no rule says `None` (a one-sided range used to read `within [0, None]`)."""
    from rsoko_pipelines.orchestration.resources import dbt_project

    manifest = json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert len(tests) > 300
    rules = {n["unique_id"]: f.rule_text(n) for n in tests}
    fallbacks = {u: r for u, r in rules.items()
                 if r.startswith(("dbt test ", "singular test ")) or "None" in r}
    assert fallbacks == {}
    assert all(" / " in r for r in rules.values())            # RU / EN
    hints = {f.hint_text(n) for n in tests}
    assert all(h and "None" not in h for h in hints)
    assert (DBT_PROJECT_DIR / "tests" / "_singular_tests.yml").is_file()


def test_hint_from_meta_or_the_default():
    assert f.hint_text({"config": {"meta": {"hint": " Пришлите файл "}}}) == "Пришлите файл"
    assert f.hint_text({"config": {}}) == f.DEFAULT_HINT
    assert "audit.<test>" in f.DEFAULT_HINT


MANIFEST = {
    "nodes": {
        "model.rsoko.stg_ege": {"resource_type": "model", "name": "stg_ege",
                                "schema": "staging", "depends_on": {"nodes": [
                                    "source.rsoko.raw.ege", "source.rsoko.raw._file_registry"]}},
        "model.rsoko.stg_vpr_tasks": {"resource_type": "model", "name": "stg_vpr_tasks",
                                      "schema": "staging", "depends_on": {"nodes": [
                                          "source.rsoko.raw.vpr_tasks"]}},
        "model.rsoko.fct_result": {"resource_type": "model", "name": "fct_result",
                                   "schema": "core", "depends_on": {"nodes": [
                                       "model.rsoko.stg_ege", "model.rsoko.stg_vpr_tasks",
                                       "seed.rsoko.ref_subjects"]}},
        "test.rsoko.not_null_fct_result_mark": {
            **_generic("not_null", "mark"), "unique_id": "test.rsoko.not_null_fct_result_mark",
            "name": "not_null_fct_result_mark", "resource_type": "test",
            "attached_node": "model.rsoko.fct_result",
            "depends_on": {"nodes": ["model.rsoko.fct_result"]}},
    },
    "sources": {
        "source.rsoko.raw.ege": {"name": "ege"},
        "source.rsoko.raw.vpr_tasks": {"name": "vpr_tasks"},
        "source.rsoko.raw._file_registry": {"name": "_file_registry"},
    },
}


def test_collection_from_run_results():
    run_results = {"results": [
        {"unique_id": "test.rsoko.not_null_fct_result_mark", "status": "warn", "failures": 2},
        {"unique_id": "test.rsoko.gone", "status": "fail"},            # not in the manifest
        {"unique_id": "test.rsoko.ok", "status": "pass"},
        {"unique_id": "model.rsoko.fct_result", "status": "success"},
        {"unique_id": "model.rsoko.stg_ege", "status": "error"},
        {"unique_id": "seed.rsoko.ref_subjects", "status": "error"},
        {"unique_id": "test.rsoko.broken", "status": "error"},          # a test, not a model
    ]}
    failing = f.failing_tests(run_results, MANIFEST)
    assert [(n["name"], r["status"]) for n, r in failing] == [("not_null_fct_result_mark", "warn")]
    assert f.errored_models(run_results) == ["model.rsoko.stg_ege", "seed.rsoko.ref_subjects"]
    node = MANIFEST["nodes"]["test.rsoko.not_null_fct_result_mark"]
    assert f.attached_model(node, MANIFEST) == "core.fct_result"
    assert f.attached_model({"name": "lonely", "depends_on": {"nodes": []}}, MANIFEST) == "lonely"
    # the raw sources behind a test, through every model; vpr_tasks belongs to ВПР; the
    # registry tables are not a source; seeds are not either
    assert f.upstream_sources(node["unique_id"], MANIFEST) == {"ege", "vpr"}


@pytest.mark.parametrize("file_pairs, years, sources, held", [
    # the failing rows' files: exactly their source × years among tonight's candidates
    ({("ege", 2025), ("ege", 2024)}, set(), {"ege"}, [("ege", 2025)]),
    # no file column: the tested model's sources in the failing rows' years
    (set(), {2025}, {"ege", "vpr"}, [("ege", 2025), ("vpr", 2025)]),
    # neither: every candidate the model reads
    (set(), set(), {"vpr"}, [("vpr", 2024), ("vpr", 2025)]),
    # not in tonight's data at all, but tonight's registry of schools of that year changed
    (set(), {2025}, {"oge"}, [("schools", 2025)]),
    # not in tonight's new data: nothing to hold back (a problem of the models)
    (set(), {2023}, {"ege"}, []),
])
def test_attribution_to_tonights_source_years(file_pairs, years, sources, held):
    candidates = {("ege", 2025), ("vpr", 2024), ("vpr", 2025), ("schools", 2025)}
    found = f.attribute(file_pairs, years, sources, candidates, "fct: rule — 3 row(s) fail")
    assert list(found) == held
    assert all(why == "не прошёл тест / failing test: fct: rule — 3 row(s) fail"
               for why in found.values())


@pytest.fixture()
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    registry.ensure_registry(con)
    for file_id, source, year, path in (("f25", "ege", 2025, "ege/2025/01_20250603.csv"),
                                        ("f24", "ege", 2024, "ege/2024/01_20240603.csv")):
        con.execute("INSERT INTO raw._file_registry (file_id, source, academic_year, "
                    "inbox_path, file_name, size_bytes, mtime_ns, status) VALUES "
                    "(?, ?, ?, ?, ?, 1, 1, 'loaded')", [file_id, source, year, path,
                                                        path.rsplit("/", 1)[-1]])
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE TABLE core.fct_result AS SELECT * FROM (VALUES "
                "('f25', 12, 2025, 'P1', NULL), ('f25', 14, 2025, 'P2', NULL), "
                "('f24', 3, 2024, 'P3', NULL), ('f25', 15, 2025, 'P4', 4)) "
                "t(_file_id, _source_line, academic_year, participant_key, mark)")
    yield con
    con.close()


def _node(name="not_null_fct_result_mark"):
    return {**MANIFEST["nodes"]["test.rsoko.not_null_fct_result_mark"], "name": name}


def test_explain_stores_samples_with_file_and_line_and_holds_back_tonights_file(warehouse):
    result = {"status": "warn", "failures": 3,
              "compiled_code": "select * from core.fct_result where mark is null"}
    failure = f.explain(warehouse, _node(), result, MANIFEST, {("ege", 2025), ("vpr", 2025)})
    assert failure.model == "core.fct_result" and failure.failures == 3
    assert failure.rule == "«mark» заполнен в каждой строке / «mark» is never empty"
    assert failure.audit_table == 'audit."not_null_fct_result_mark"'
    assert warehouse.execute(f"SELECT count(*) FROM {failure.audit_table}").fetchone()[0] == 3
    assert sorted((s["source_file"], s["_source_line"]) for s in failure.samples) == [
        ("ege/2024/01_20240603.csv", 3), ("ege/2025/01_20250603.csv", 12),
        ("ege/2025/01_20250603.csv", 14)]
    # only tonight's candidate: ЕГЭ 2025 (ЕГЭ 2024 was released before: not tonight's)
    assert list(failure.held) == [("ege", 2025)]
    message = failure.message()
    assert message.startswith("core.fct_result: «mark» заполнен в каждой строке / «mark» is "
                              "never empty — 3 row(s) fail (test not_null_fct_result_mark); "
                              "e.g. ege/20")
    assert ", line " in message and message.endswith(f"What to do: {f.DEFAULT_HINT}")
    assert "None" not in message
    markdown = failure.markdown()
    assert markdown.startswith("**core.fct_result** — «mark» заполнен")
    assert 'SELECT * FROM audit."not_null_fct_result_mark"' in markdown
    # where the row comes from leads the table (a wide model would push it out)
    assert ("| source_file | _source_line | academic_year | participant_key | mark |"
            in markdown)
    assert "| ege/2025/01_20250603.csv | 12 | 2025 | P1 | NULL |" in markdown
    assert "None" not in markdown


def test_explain_counts_rows_when_dbt_gives_no_count_and_a_test_that_errors_holds_nothing(
        warehouse):
    result = {"status": "fail", "failures": None,
              "compiled_code": "select participant_key from core.fct_result where mark is null"}
    failure = f.explain(warehouse, _node("t2"), result, MANIFEST, {("ege", 2025)})
    assert failure.failures == 3                  # counted in the stored rows
    # no _file_id and no academic_year among the failing rows: every candidate it reads
    assert list(failure.held) == [("ege", 2025)]
    assert failure.samples[0].keys() == {"participant_key"}
    broken = f.explain(warehouse, _node("t3"), {"status": "error", "message": "Catalog Error"},
                       MANIFEST, {("ege", 2025)})
    assert broken.held == {} and broken.audit_table == ""
    assert broken.rule.endswith("(the test could not run: Catalog Error)")


def test_a_finding_is_explained_but_holds_nothing_back(warehouse):
    """`meta.finding: true` (the contract makes the rule a data-quality finding, e.g. task
    points that do not add up to the primary score): the rows are stored and explained, but
    no source × year is held back for them."""
    node = _node("finding_fct_result_mark")
    node["config"] = {**node.get("config", {}), "meta": {"finding": True}}
    result = {"status": "warn", "failures": 3,
              "compiled_code": "select * from core.fct_result where mark is null"}
    failure = f.explain(warehouse, node, result, MANIFEST, {("ege", 2025)})
    assert failure.finding and failure.held == {} and failure.failures == 3
    assert warehouse.execute(f"SELECT count(*) FROM {failure.audit_table}").fetchone()[0] == 3
    assert not f.is_finding(_node())



def test_a_full_disk_or_memory_is_named_with_what_to_do(tmp_path):
    def results(message):
        return {"results": [
            {"unique_id": "model.rsoko.fct_survey_answer", "status": "error",
             "message": message},
            {"unique_id": "model.rsoko.fct_result", "status": "success", "message": "OK"}]}

    disk = f.resource_hint(results(
        'Runtime Error in model fct_survey_answer\n  IO Error: Could not write file '
        '"/data/warehouse/rsoko.duckdb.tmp/duckdb_temp_1.tmp": No space left on device'),
        tmp_path)
    assert disk.startswith("The disk is full") and str(tmp_path) in disk
    assert re.search(r"\d+\.\d GB free now", disk) and "RSOKO_DATA_DIR" in disk
    memory = f.resource_hint(results("Out of Memory Error: could not allocate block of size "
                                     "256.0 KiB (7.0 GiB/7.0 GiB used)"), tmp_path)
    assert "RSOKO_DUCKDB_MEMORY_LIMIT" in memory and "RSOKO_DBT_THREADS" in memory
    assert f.resource_hint(results("Binder Error: column x not found"), tmp_path) == ""
    # a success whose message mentions a full disk is not an error
    assert f.resource_hint({"results": [{"status": "success",
                                         "message": "No space left on device"}]}, tmp_path) == ""
