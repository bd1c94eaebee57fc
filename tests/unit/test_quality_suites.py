"""The expectation suites (expectations/*.json) are valid GX 1.x suites that follow our
conventions and match the landing schema of rsoko_pipelines/extract/sources/<source>.yaml."""

from __future__ import annotations

import json

import pytest

from rsoko_pipelines.extract.schemas import source_spec, table_spec
from rsoko_pipelines.quality import suites
from rsoko_pipelines.settings import EXPECTATIONS_DIR, SOURCES

ALL_SUITES = list(SOURCES) + ["vpr_tasks", "rpr_tasks", "niko_tasks"]


def test_every_source_has_a_suite():
    assert set(ALL_SUITES) <= set(suites.suite_names())


@pytest.mark.parametrize("name", ALL_SUITES)
def test_suite_loads_in_gx(name):
    from great_expectations.core import ExpectationSuite

    doc = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    suite = ExpectationSuite(**doc)   # raises on an unknown expectation type or bad kwargs
    assert suite.name == name
    assert len(suite.expectations) == len(doc["expectations"]) > 10
    assert suites.load_suite(name) is suites.load_suite(name)   # cached


@pytest.mark.parametrize("name", ALL_SUITES)
def test_suite_conventions(name):
    doc = suites.load_suite_document(name)
    types = {e["type"] for e in doc["expectations"]}
    assert "expect_table_row_count_to_be_between" in types
    for exp in doc["expectations"]:
        meta = exp["meta"]
        assert meta["id"].startswith(f"{name}.")
        assert meta["severity"] in ("error", "warning")
        assert " / " in meta["description"] and " / " in meta["hint"]   # Russian / English
    assert any(e["meta"]["severity"] == "warning" for e in doc["expectations"]) or \
        name.endswith("_tasks")


@pytest.mark.parametrize("name", ALL_SUITES)
def test_suite_columns_match_the_landing_schema(name):
    landing = {c.name for c in table_spec(name).columns}
    doc = suites.load_suite_document(name)
    for exp in doc["expectations"]:
        kw = exp["kwargs"]
        cols = [kw.get(k) for k in ("column", "column_A", "column_B") if kw.get(k)]
        cols += kw.get("column_list") or []
        for col in cols:
            derived = col.startswith("_") and col not in ("_file_id", "_source_line")
            assert derived or col in landing, f"{exp['meta']['id']}: {col} not in raw.{name}"


@pytest.mark.parametrize("name", ALL_SUITES)
def test_uniqueness_in_the_file_is_checked_per_file(name):
    """The ingest validates a batch of a source × year's files in one run (a failing batch is
    split until the failing files stand alone). A rule "once in the file" must then name
    `_file_id`: without it a key that legitimately recurs in two files (a teacher in two
    diagnostics of `deficits`) failed every batch, and each was bisected down to single
    files — 17 Great Expectations runs instead of one per batch at tier S."""
    doc = suites.load_suite_document(name)
    for exp in doc["expectations"]:
        in_the_file = "in the file" in exp["meta"]["description"]
        if "unique" in exp["type"] and in_the_file:
            assert exp["type"] == "expect_compound_columns_to_be_unique", exp["meta"]["id"]
            assert exp["kwargs"]["column_list"][0] == "_file_id", exp["meta"]["id"]
            assert exp["kwargs"].get("ignore_row_if") == "any_value_is_missing", exp["meta"]["id"]


@pytest.mark.parametrize("name", SOURCES)
def test_required_columns_are_checked(name):
    required = {c.name for c in source_spec(name).columns if c.required and not c.personal}
    doc = suites.load_suite_document(name)
    checked = {e["kwargs"]["column"] for e in doc["expectations"]
               if e["type"] == "expect_column_to_exist"}
    assert required <= checked, required - checked


def test_mark_checks_are_blocking_above_one_percent_only():
    """ЕГЭ базовая: more than 1 % of marks off the seed's scale blocks the file; ОГЭ: a region
    may set its own scale (docs/assumptions.md), so both ОГЭ mark checks are findings."""
    doc = suites.load_suite_document("ege")
    marks = [e for e in doc["expectations"] if e["kwargs"].get("column") == "_mark_expected"]
    by_sev = {e["meta"]["severity"]: e["kwargs"] for e in marks}
    assert by_sev["error"]["mostly"] == 0.99
    assert "mostly" not in by_sev["warning"]
    doc = suites.load_suite_document("oge")
    marks = [e for e in doc["expectations"] if e["kwargs"].get("column") == "_mark_expected"]
    assert [(e["meta"]["severity"], e["kwargs"].get("mostly")) for e in marks] == [
        ("warning", 0.99), ("warning", None)]


def test_vpr_marks_against_the_seed_are_findings_only():
    """extracts.md, ВПР: a mark that disagrees with the boundaries is a finding, not a reason
    to drop the row (docs/assumptions.md)."""
    for name in ("vpr", "rpr"):
        doc = suites.load_suite_document(name)
        marks = [e for e in doc["expectations"] if e["kwargs"].get("column") == "_mark_expected"]
        assert [e["meta"]["severity"] for e in marks] == ["warning"]
        assert "mostly" not in marks[0]["kwargs"]
