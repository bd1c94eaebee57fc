"""Parsers of the sources of directions 4 and 9 and НИКО (issue 18) on hand-made files:
НИКО through the ВПР form reader (no journal mark, the mark optional), graduates in any
column order, the navigator's child id and the survey respondent code re-hashed with their
own domains, and the column-map keys drop_columns / override_columns."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from rsoko_pipelines.demo.xlsx import write_xlsx
from rsoko_pipelines.extract import ExtractError, parse_extract
from rsoko_pipelines.extract.pseudonym import Pseudonymizer
from rsoko_pipelines.extract.schemas import _resolve_extends, source_spec

KEY = b"unit-test-key"
LEAD = ["Муниципалитет", "Логин ОО", "Название ОО", "Код участника", "Класс", "Вариант"]


def _niko(path, title="НИКО 2025 Физическая культура 7 класс", extra=(), mark=False):
    header = LEAD + ["1 (2б)", "2 (1б)", "Первичный балл"] + (["Отметка"] if mark else []) \
        + list(extra)
    rows = [["МСУ 07", "sch070101", "Школа", "n01", "7А", 1, 2, "X", 2] + ([3] if mark else [])
            + ["5"] * len(extra),
            ["МСУ 07", "sch070101", "Школа", "n02", "7А", 2, 1, 1, 2] + ([3] if mark else [])
            + [""] * len(extra)]
    write_xlsx(path, raw_rows=[[title], ["Максимальный первичный балл: 3"],
                               [None] * 6 + ["Б", "П"], header, *rows])
    return path


def test_niko_map_is_vpr_without_the_journal_mark():
    spec = source_spec("niko")
    names = {c.name: c for c in spec.columns}
    assert "journal_mark" not in names and "journal_mark_raw" not in names
    assert names["mark"].required is False and names["primary_score"].required is True
    assert spec.get("procedure_title") == "НИКО" and set(spec.tables) == {"niko", "niko_tasks"}
    with pytest.raises(ValueError, match="unknown column"):
        _resolve_extends("x", {"vpr": {"columns": [{"name": "a"}]},
                               "x": {"extends": "vpr", "drop_columns": ["nope"]}})


def test_niko_file_without_marks_parses(tmp_path):
    parsed = parse_extract(_niko(tmp_path / "n.xlsx"), "niko", 2025, Pseudonymizer(KEY))
    t = parsed.tables["niko"].to_pylist()
    assert [r["task_scores"] for r in t] == [["2", "X"], ["1", "1"]]
    assert [r["mark"] for r in t] == [None, None] and t[0]["procedure"] == "НИКО"
    assert parsed.slice == {"academic_year": 2025, "subject_name": "Физическая культура",
                            "grade": 7, "scope": "school", "scope_id": "sch070101"}
    tasks = parsed.tables["niko_tasks"].to_pylist()
    assert [(r["task"], r["max_points"], r["task_level"]) for r in tasks] == [
        ("1", 2, "Б"), ("2", 1, "П")]


def test_niko_journal_mark_column_is_ignored_with_a_warning(tmp_path):
    parsed = parse_extract(_niko(tmp_path / "n.xlsx", extra=["Отметка по журналу"], mark=True),
                           "niko", 2025, Pseudonymizer(KEY))
    assert [r["mark"] for r in parsed.tables["niko"].to_pylist()] == [3, 3]
    assert any("Отметка по журналу" in w and "ignored" in w for w in parsed.warnings)


def test_vpr_form_in_the_niko_folder_is_named(tmp_path):
    path = _niko(tmp_path / "v.xlsx", title="ВПР 2025 Математика 5 класс")
    with pytest.raises(ExtractError) as err:
        parse_extract(path, "niko", 2025, Pseudonymizer(KEY))
    assert err.value.check == "title" and "ВПР file in the niko folder" in err.value.message
    assert "vpr folder" in err.value.hint


def _graduates(path, order):
    cols = {"Код ОО": "070101", "Класс выпуска": 9, "Всего выпускников": 3,
            "10 класс своей ОО": 2, "Не учатся и не работают": 1}
    every = [c.headers[0] for c in source_spec("graduates").file_columns]
    header = [c for c in order if c in every] + [c for c in every if c not in order]
    write_xlsx(path, raw_rows=[header, [cols.get(h) for h in header]])
    return path


def test_graduates_column_order_does_not_matter(tmp_path):
    every = [c.headers[0] for c in source_spec("graduates").file_columns]
    a = parse_extract(_graduates(tmp_path / "a.xlsx", every), "graduates", 2025, None)
    b = parse_extract(_graduates(tmp_path / "b.xlsx", list(reversed(every))), "graduates",
                      2025, None)
    drop = ("_file_id",)
    assert a.table.drop_columns(list(drop)).to_pylist() == \
        b.table.drop_columns(list(drop)).to_pylist()
    row = a.table.to_pylist()[0]
    assert (row["school_code"], row["cohort"], row["to_10_own_school"], row["neet"],
            row["army"]) == ("070101", 9, 2, 1, None)


def _hmac(domain: str, value: str) -> str:
    return hmac.new(KEY, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()


def test_navigator_child_id_and_respondent_code_are_rehashed(tmp_path):
    nav = tmp_path / "nav.csv"
    nav.write_text(
        "Идентификатор ребёнка;Год рождения;Код МСУ;Код ОО;ОВЗ;Организация;ИНН организации;"
        "Программа;Направленность;Дата зачисления;Дата отчисления;Статус;"
        "Источник финансирования\n"
        " 125000000001 ;2014;07;070101;нет;ЦДТ;1234567890;Робототехника;техническая;"
        "10.09.2024;;зачислен;бюджет\n"
        "125000000001;2014;07;;нет;ЦДТ;1234567890;Хореография;художественная;"
        "10.09.2024;01.02.2025;отчислен;сертификат ПФ\n", encoding="utf-8")
    rows = parse_extract(nav, "additional_ed", 2025, Pseudonymizer(KEY)).table.to_pylist()
    assert [r["child_key"] for r in rows] == [_hmac("child", "125000000001")] * 2
    assert "child_id" not in rows[0] and rows[1]["school_code"] is None
    assert rows[1]["leave_date"].isoformat() == "2025-02-01" and rows[0]["birth_year"] == 2014
    survey = tmp_path / "survey.csv"
    survey.write_text("Код ОО;Анкета;Код респондента;Класс;Код вопроса;Ответ\n"
                      "070101;обучающиеся;125000000001;7А;S01;да\n", encoding="utf-8")
    row, = parse_extract(survey, "survey", 2025, Pseudonymizer(KEY)).table.to_pylist()
    # the same text as a child id gives another key: each system its own domain
    assert row["respondent_key"] == _hmac("respondent", "125000000001") != rows[0]["child_key"]
    assert "respondent_code" not in row
