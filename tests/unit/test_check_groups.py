"""The checks an operator sees on a raw asset (rsoko_pipelines/quality/check_groups.py): the
expectations of the suites grouped by the file column they are about, named as words, each
described by its rules."""

from __future__ import annotations

import re

import pytest

from rsoko_pipelines.quality.check_groups import (FILE_CONTRACT, FILE_LAYOUT, UNIQUE_ROWS,
                                                  check_groups, group_of_expectation)
from rsoko_pipelines.quality.suites import has_suite, load_suite_document
from rsoko_pipelines.settings import SOURCES


def _suite_ids(source: str) -> list[str]:
    from rsoko_pipelines.extract.schemas import source_spec

    return [e["meta"]["id"] for t in source_spec(source).tables if has_suite(t)
            for e in load_suite_document(t)["expectations"]]


@pytest.mark.parametrize("source", SOURCES)
def test_every_expectation_belongs_to_exactly_one_named_check(source):
    groups = check_groups(source)
    names = [g.name for g in groups]
    assert names[0] == FILE_CONTRACT and len(names) == len(set(names))
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", n) and len(n) <= 60 for n in names)
    # no hash, no truncation: every name is a column, a place or a fixed group
    assert not [n for n in names if re.search(r"[0-9a-f]{6,}", n)]
    ids = _suite_ids(source)
    grouped = [i for g in groups for i in g.expectation_ids]
    assert sorted(grouped) == sorted(ids) and len(ids) > 20
    assert group_of_expectation(source) == {i: g.name for g in groups
                                            for i in g.expectation_ids}
    for g in groups:
        assert g.description and "None" not in g.description, g.name
        assert g.expectation_ids or g.name == FILE_CONTRACT, g.name
    assert {FILE_LAYOUT, UNIQUE_ROWS} <= set(names)


def test_ege_checks_are_the_sheet_columns():
    groups = {g.name: g for g in check_groups("ege")}
    assert {"file_contract", "file_layout", "title_line", "msu_code", "gia_school_code",
            "participant_key", "primary_score", "test_score", "mark", "status",
            "unique_rows"} <= set(groups)
    score = groups["test_score"]
    assert (score.table, score.column, score.header) == ("ege", "test_score", "Балл")
    assert score.expectation_ids == ["ege.test_score.exists", "ege.test_score.type",
                                     "ege.test_score.range"]
    assert score.description.startswith("«Балл»: ")
    assert "тестовый балл 0–100 / 'Балл': test score 0-100" in score.description
    # the three columns of the title line are one check: the operator fixes one line
    title = groups["title_line"]
    assert {"ege.source_subject_code.exists", "ege.subject_name.exists",
            "ege.exam_date.exists"} <= set(title.expectation_ids)
    assert groups["file_contract"].description.startswith(
        "Файл читается по контракту выгрузки")
    assert "ege.participant_unique" in groups["unique_rows"].expectation_ids
    assert groups["unique_rows"].description.startswith("Строки не повторяются")
    assert "ege.non_empty" in groups["file_layout"].expectation_ids


def test_derived_columns_are_checked_under_the_file_column_they_come_from():
    """The registry look-ups are computed columns (`_school_known`): an operator sees them
    under the file column they are computed from, never under an internal name."""
    assert group_of_expectation("ege")["ege.school_known_in_registry"] == "msu_code"
    assert group_of_expectation("vpr")["vpr.school_known_in_registry"] == "fis_login"
    assert group_of_expectation("vpr")["vpr.mark_consistent_with_boundaries_all"] == "primary_score"
    for source in SOURCES:
        for g in check_groups(source):
            # only the lineage columns (`_file_id`, `_source_line`) are named in a rule
            internal = set(re.findall(r"«(_\w+)»", g.description)) - {"_file_id", "_source_line"}
            assert not g.name.startswith("_") and not internal, (g.name, internal)


def test_companion_tables_get_prefixed_checks():
    names = [g.name for g in check_groups("vpr")]
    assert names[:3] == ["file_contract", "file_layout", "title_line"]
    assert [n for n in names if n.startswith("vpr_tasks__")] == [
        "vpr_tasks__file_layout", "vpr_tasks__task_headers", "vpr_tasks__unique_rows"]
    groups = {g.name: g for g in check_groups("vpr")}
    assert groups["max_score_line"].header.startswith("строка 2")
    assert groups["fis_login"].header == "Логин ОО"
    assert all(g.table == "vpr_tasks" for n, g in groups.items() if n.startswith("vpr_tasks__"))
    # РПР shares ВПР's column map: the same checks, its own names
    assert [g.name for g in check_groups("rpr")] == [n.replace("vpr_tasks", "rpr_tasks")
                                                     for n in names]
