"""ВПР/РПР XLSX forms built with openpyxl: 4 header rows, X/Х/-, НЕТ ОТМЕТКИ, trailing empty
rows, a second sheet, and the failure cases."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from rsoko_pipelines.extract import ExtractError, landing_schema, parse_only

HEADER = ["Муниципалитет", "Логин ОО", "Название ОО", "Код участника", "Класс", "Вариант",
          "1 (2б)", "2 (1б)", "3.1 (1б)", "2К1 (1б)", "Первичный балл", "Отметка",
          "Отметка по журналу"]
LEVELS = ["", "", "", "", "", "", "Б", "Б", "П", "В", "", "", ""]
ROWS = [
    ["г. Нальчик", "sch070123", "МБОУ СОШ № 1", "10001", "4А", 1, 2, 1, "X", "-", 3, 3, 4],
    ["г. Нальчик", "sch070123", "МБОУ СОШ № 1", "10002", "4А", 2, 1, "Х", 0, 1, 2, 2,
     "НЕТ ОТМЕТКИ"],
    ["Лесной район", "sch070124", "МКОУ ООШ", "00017", "4Б", 1, 0, 0, 1, 1, 2, 2, None],
]


def build(tmp_path, title="ВПР 2025 Русский язык 4 класс", max_line="Максимальный первичный "
          "балл: 5", levels=LEVELS, header=HEADER, rows=ROWS, trailing_empty=2,
          second_sheet=True, source="vpr", name="any name.xlsx"):
    wb = Workbook()
    ws = wb.active
    ws.title = "Результаты"
    ws.append([title])
    ws.append([max_line])
    ws.append(levels)
    ws.append(header)
    for r in rows:
        ws.append(r)
    for _ in range(trailing_empty):
        ws.append([None] * len(header))
    if trailing_empty:  # force the empty rows into the sheet dimension
        ws.cell(row=4 + len(rows) + trailing_empty, column=1, value="")
    if second_sheet:
        other = wb.create_sheet("Справка")
        other.append(["ВПР 2024 Математика 5 класс"])
        other.append(["ignored", 1, 2])
    folder = tmp_path / source / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    wb.save(path)
    return path


def test_vpr_values_tasks_lines_and_slice(tmp_path):
    parsed = parse_only(build(tmp_path), "vpr", 2025)
    t = parsed.tables["vpr"]
    assert t.schema == landing_schema("vpr")
    assert parsed.rows == 3 == t.num_rows
    assert t["_source_line"].to_pylist() == [5, 6, 7]
    assert t["procedure"].to_pylist() == ["ВПР"] * 3
    assert t["subject_name"][0].as_py() == "Русский язык"
    assert t["grade"][0].as_py() == 4 and t["max_primary_score"][0].as_py() == 5
    assert t["participant_code"].to_pylist() == ["10001", "10002", "00017"]
    assert t["fis_login"].to_pylist() == ["sch070123", "sch070123", "sch070124"]
    assert t["variant"].to_pylist() == [1, 2, 1]
    assert t["task_scores"].to_pylist() == [["2", "1", "X", "-"], ["1", "X", "0", "1"],
                                            ["0", "0", "1", "1"]]
    assert t["primary_score"].to_pylist() == [3, 2, 2]
    assert t["mark"].to_pylist() == [3, 2, 2]
    assert t["journal_mark"].to_pylist() == [4, None, None]
    assert t["journal_mark_raw"].to_pylist() == ["4", "НЕТ ОТМЕТКИ", ""]
    tasks = parsed.tables["vpr_tasks"]
    assert tasks.schema == landing_schema("vpr_tasks")
    assert tasks["task"].to_pylist() == ["1", "2", "3.1", "2К1"]
    assert tasks["max_points"].to_pylist() == [2, 1, 1, 1]
    assert tasks["task_level"].to_pylist() == ["Б", "Б", "П", "В"]
    assert tasks["task_order"].to_pylist() == [1, 2, 3, 4]
    assert parsed.slice == {"academic_year": 2025, "subject_name": "Русский язык", "grade": 4,
                            "scope": "region", "scope_id": None}
    assert any("first sheet" in w for w in parsed.warnings)


def test_scope_school_and_msu(tmp_path):
    school = parse_only(build(tmp_path, rows=ROWS[:2], name="a.xlsx"), "vpr", 2025)
    assert school.slice["scope"] == "school" and school.slice["scope_id"] == "sch070123"
    rows = [ROWS[0], ["г. Нальчик", "sch070125", "Гимназия", "7", "4В", 1, 2, 1, 1, 1, 5, 5, 5]]
    msu = parse_only(build(tmp_path, rows=rows, name="b.xlsx"), "vpr", 2025)
    assert msu.slice["scope"] == "msu" and msu.slice["scope_id"] == "г. Нальчик"


def test_rpr_shuffled_columns_and_numeric_participant_code(tmp_path):
    order = [12, 0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]
    header = [HEADER[i] for i in order] + ["Комментарий"]
    levels = [LEVELS[i] for i in order] + [""]
    rows = [[r[i] for i in order] + ["x"] for r in ROWS]
    rows[0][order.index(3)] = 10001  # a number cell in a code column: warned, kept as text
    parsed = parse_only(build(tmp_path, title="РПР 2025 Математика 6 класс", header=header,
                              levels=levels, rows=rows, source="rpr"), "rpr", 2025)
    t = parsed.tables["rpr"]
    assert t["procedure"].to_pylist() == ["РПР"] * 3
    assert t["participant_code"].to_pylist() == ["10001", "10002", "00017"]
    assert t["task_scores"].to_pylist()[0] == ["2", "1", "X", "-"]
    assert parsed.tables["rpr_tasks"]["task"].to_pylist() == ["1", "2", "3.1", "2К1"]
    assert any("Комментарий" in w for w in parsed.warnings)
    assert any("Код участника" in w for w in parsed.warnings)


def _err(tmp_path, source="vpr", **kw) -> ExtractError:
    path = kw.pop("path", None) or build(tmp_path, source=source, **kw)
    with pytest.raises(ExtractError) as info:
        parse_only(path, source, 2025)
    assert f"{source}/2025/" in info.value.message
    return info.value


@pytest.mark.parametrize("title", ["Индивидуальные результаты", "ВПР Русский язык 4 класс",
                                   "НИКО 2025 Русский язык 4 класс", ""])
def test_error_unknown_title(tmp_path, title):
    err = _err(tmp_path, title=title)
    assert err.check == "title" and err.rows == [1]


def test_error_rpr_file_in_vpr_folder(tmp_path):
    err = _err(tmp_path, title="РПР 2025 Русский язык 4 класс")
    assert err.check == "title" and "rpr" in err.hint


def test_error_title_year_mismatch(tmp_path):
    err = _err(tmp_path, title="ВПР 2024 Русский язык 4 класс")
    assert err.check == "title_year"


def test_error_task_header_without_max(tmp_path):
    header = list(HEADER)
    header[8] = "3.1"
    err = _err(tmp_path, header=header)
    assert err.check == "task_header" and err.columns == ["3.1"]


def test_error_missing_max_score_row(tmp_path):
    assert _err(tmp_path, max_line="Макс балл").check == "max_score"


def test_error_missing_column(tmp_path):
    header = [h if h != "Отметка по журналу" else "Отметка учителя" for h in HEADER]
    err = _err(tmp_path, header=header)
    assert err.check == "missing_columns" and err.columns == ["Отметка по журналу"]


def test_error_login_typed_as_number(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][1] = 70123
    err = _err(tmp_path, rows=rows)
    assert err.check == "code_as_number" and err.rows == [6]


def test_error_text_in_primary_score(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[2][10] = "много"
    err = _err(tmp_path, rows=rows)
    assert err.check == "type" and err.rows == [7] and err.columns == ["Первичный балл"]


def test_error_header_only(tmp_path):
    assert _err(tmp_path, rows=[]).check == "header_only"


def test_error_truncated_xlsx(tmp_path):
    path = build(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert _err(tmp_path, path=path).check == "xlsx_unreadable"


def test_error_not_xlsx_and_empty(tmp_path):
    folder = tmp_path / "vpr" / "2025"
    folder.mkdir(parents=True)
    csv_path = folder / "x.xlsx"
    csv_path.write_text("Муниципалитет;Логин ОО\n", encoding="utf-8")
    assert _err(tmp_path, path=csv_path).check == "file_type"
    empty = folder / "empty.xlsx"
    empty.write_bytes(b"")
    assert _err(tmp_path, path=empty).check == "empty_file"


def test_task_cell_above_its_column_maximum_quarantines(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1][7] = 2                       # task '2 (1б)' holds 2 points
    rows[1][10] = 3
    with pytest.raises(ExtractError) as err:
        parse_only(build(tmp_path, rows=rows), "vpr", 2025)
    assert err.value.check == "task_points_above_max"
    assert err.value.rows == [6] and err.value.columns == ["2 (1б)"]


def _works(n, bad):
    """n works of 2 (of 1 X and 1 point … ): `bad` of them declare a wrong primary score."""
    out = []
    for i in range(n):
        primary = 3 if i >= bad else 4
        out.append(["г. Нальчик", "sch070123", "МБОУ СОШ № 1", f"{i:05d}", "4А", 1, 2, 1, "X",
                    "-", primary, 3, 4])
    return out


def test_task_points_not_adding_up_quarantine_above_the_tolerance(tmp_path):
    with pytest.raises(ExtractError) as err:     # 2 of 100 works: more than 1 %
        parse_only(build(tmp_path, rows=_works(100, 2)), "vpr", 2025)
    assert err.value.check == "task_points_sum"
    assert err.value.rows == [5, 6] and "Первичный балл" in err.value.columns


def test_task_points_not_adding_up_within_the_tolerance_are_a_warning(tmp_path):
    parsed = parse_only(build(tmp_path, rows=_works(100, 1)), "vpr", 2025)
    assert parsed.rows == 100
    assert any("1 of 100 work(s) do not add up" in w and "rows 5)" in w
               for w in parsed.warnings), parsed.warnings
