"""The defences the hostile corpus led to, on hand-made values: formulas, look-alike letters,
mixed encodings, formula/error cells of a workbook, operator-facing column names."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from rsoko_pipelines.extract import ExtractError
from rsoko_pipelines.extract.cells import check_formulas, check_letters
from rsoko_pipelines.extract.encodings import decode_bytes
from rsoko_pipelines.extract.schemas import source_spec


def _raises(fn, *args) -> ExtractError:
    with pytest.raises(ExtractError) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize("value", ["+-+1-2+", "-", "-5", "+3", "1(2)0(3)", "НЕТ ОТМЕТКИ", "11А",
                                   "МБОУ «СОШ № 1»", "призёр", "ниже 1", "VS-8600378E5A"])
def test_legitimate_values_are_not_formulas(value):
    check_formulas(pa.array([value]), np.array([5]), "f.csv", "H")


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0",
                                   "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
                                   "+cmd|' /C calc'!A0", "=1+1", "＝1+1"])
def test_formula_payloads_are_caught_naming_line_and_column(value):
    err = _raises(check_formulas, pa.array(["ok", value]), np.array([4, 9]), "f.csv", "Класс")
    assert err.check == "formula_text" and err.rows == [9] and err.columns == ["Класс"]
    assert value not in str(err)          # the value itself is never quoted


@pytest.mark.parametrize("letters, value, char", [
    ("digits", "07OO48", "U+004F"), ("digits", "0З12", "U+0417"),
    ("latin", "sсh070774", "U+0441"), ("cyrillic", "9A", "U+0041"),
    ("words", "Mатематика", "U+004D")])
def test_lookalike_letters_name_the_character(letters, value, char):
    err = _raises(check_letters, pa.array([value]), letters, np.array([7]), "f.csv", "Код ОО")
    assert err.check == "lookalike_letters" and err.rows == [7] and char in err.message


@pytest.mark.parametrize("letters, value", [
    ("digits", "070123"), ("digits", "Иванов"), ("latin", "sch070123"), ("cyrillic", "11Б"),
    ("words", "Искусство (МХК)"), ("words", "IT-класс")])
def test_values_without_lookalikes_pass(letters, value):
    """A surname shifted into a code column is a format error for the suite, not a
    look-alike; words in one alphabet each are fine."""
    check_letters(pa.array([value]), letters, np.array([7]), "f.csv", "H")


def test_mixed_encodings_name_the_pasted_lines():
    lines = ["01 - Русский язык 2025.06.03", "№;Класс", "1;11А", "2;11Б", "3;11В"]
    data = b"".join(ln.encode("utf-8" if i == 3 else "cp1251") + b"\r\n"
                    for i, ln in enumerate(lines))
    err = _raises(decode_bytes, data, source_spec("ege"), "ege/2025/x.csv", [])
    assert err.check == "encoding" and err.rows == [4] and "mixes encodings" in err.message
    utf8 = b"".join(ln.encode("cp1251" if i == 2 else "utf-8") + b"\n"
                    for i, ln in enumerate(lines))
    err = _raises(decode_bytes, utf8, source_spec("olympiad"), "olympiad/2025/x.csv", [])
    assert err.rows == [3] and "windows-1251" in err.message


def test_formula_and_error_cells_of_a_workbook(tmp_path):
    from rsoko_pipelines.demo.hostile_io import patch_sheet
    from rsoko_pipelines.demo.xlsx import write_xlsx
    from rsoko_pipelines.extract.xlsx_book import scan

    path = tmp_path / "book.xlsx"
    write_xlsx(path, raw_rows=[["title"], ["max"], [None], ["a", "b"], [1, 2], [3, 4], [5, 6]])
    assert scan(path.read_bytes()).errors == []
    data = patch_sheet(path.read_bytes(), {
        "B5": '<c r="B5"><f>A5+1</f><v>2</v></c>',
        "B6": '<c r="B6"><f>A6+1</f></c>',
        "B7": '<c r="B7" t="e"><v>#N/A</v></c>'})
    cells = scan(data)
    assert cells.cached_formulas == [(5, 1)] and cells.empty_formulas == [(6, 1)]
    assert cells.errors == [(7, 1, "#N/A")]


def test_findings_name_the_files_own_columns():
    from rsoko_pipelines.quality.headers import file_headers, humanize

    assert file_headers("ege", ["_school_known"]) == ["Код МСУ", "Код ОО"]
    assert file_headers("vpr", ["_school_known"]) == ["Логин ОО"]
    assert file_headers("literacy", ["_school_known"]) == ["Код ОО"]
    assert file_headers("oge", ["_mark_expected"]) == ["Первичный балл", "Оценка"]
    assert file_headers("schools", ["gia_school_code"]) == ["Код ОО РИС ГИА"]
    assert humanize("«test_score»: 0–100 / 'test_score': 0-100", "ege") == \
        "«Балл»: 0–100 / 'Балл': 0-100"


@pytest.mark.parametrize("name, ignored", [
    ("~$ВПР.xlsx", True), (".~lock.x.csv#", True), ("x.csv.part", True), ("Thumbs.db", True),
    ("x.xlsx.crdownload", True), ("ВПР (копия) 'итог'.xlsx", False), ("01_20250610.csv", False)])
def test_inbox_ignores_what_is_not_an_extract(name, ignored, tmp_path):
    from rsoko_pipelines.inbox import is_ignored

    assert is_ignored(tmp_path / name) is ignored
