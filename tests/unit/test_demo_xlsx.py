"""The minimal XLSX writer, read back by two independent readers (openpyxl, calamine)."""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from rsoko_pipelines.demo.xlsx import (
    Sheet, XlsxStreamWriter, col_letter, render_rows, write_xlsx,
)

RAW = [["ВПР 2025 Русский язык 4 класс"], ["Максимальный первичный балл: 5"],
       [None, None, "Б", "П", None]]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "Название ОО": ["МБОУ «СОШ № 1» <&> ", None, "Лицей"],
        "Код": ["007", "0100", "12"],
        "1 (2б)": ["2", "X", "Х"],
        "2 (1б)": ["-", "0", "1"],
        "Балл": [2.0, np.nan, 1.5],
        "Отметка": pd.array([3, None, 5], dtype="Int64"),
    })


KINDS = {"Код": "s", "1 (2б)": "auto", "2 (1б)": "auto"}


@pytest.fixture()
def book(tmp_path):
    path = tmp_path / "a.xlsx"
    extra = Sheet("Сводка", raw_rows=[["итого", 3, 2.5]])
    write_xlsx(path, _frame(), raw_rows=RAW, column_kinds=KINDS, sheet_name="Результаты",
               extra_sheets=[extra], trailing_empty_rows=2)
    return path


def test_col_letter():
    assert [col_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]
    with pytest.raises(ValueError):
        col_letter(16_384)


def test_openpyxl_reads_values_types_and_positions(book):
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Результаты", "Сводка"]
    ws = wb["Результаты"]
    assert ws["A1"].value == "ВПР 2025 Русский язык 4 класс"
    assert ws["A2"].value == "Максимальный первичный балл: 5"
    assert [ws.cell(3, c).value for c in range(1, 6)] == [None, None, "Б", "П", None]
    assert [c.value for c in ws[4]] == list(_frame().columns)
    assert [c.value for c in ws[5]] == ["МБОУ «СОШ № 1» <&> ", "007", 2, "-", 2, 3]
    # missing values are empty cells and do not shift the following cells
    assert [c.value for c in ws[6]] == [None, "0100", "X", 0, None, None]
    assert [c.value for c in ws[7]] == ["Лицей", "12", "Х", 1, 1.5, 5]
    # the trailing rows exist but are empty strings / empty
    tail = [[c.value for c in row] for row in ws.iter_rows(min_row=8)]
    assert len(tail) == 2 and all(not any(v not in (None, "") for v in r) for r in tail)
    assert [c.value for c in wb["Сводка"][1]] == ["итого", 3, 2.5]


def test_calamine_reads_the_same(book):
    wb = CalamineWorkbook.from_path(str(book))
    assert wb.sheet_names == ["Результаты", "Сводка"]
    rows = wb.get_sheet_by_index(0).to_python()
    assert rows[0][0] == "ВПР 2025 Русский язык 4 класс"
    assert rows[3] == list(_frame().columns)
    assert rows[4] == ["МБОУ «СОШ № 1» <&> ", "007", 2.0, "-", 2.0, 3.0]
    assert rows[5] == ["", "0100", "X", 0.0, "", ""]
    assert rows[6][2] == "Х" and rows[6][4] == 1.5
    assert len(rows) == 4 + 3 + 2
    assert all(v == "" for r in rows[7:] for v in r)


def test_package_is_well_formed_and_deterministic(book, tmp_path):
    with zipfile.ZipFile(book) as z:
        names = set(z.namelist())
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml",
                "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"} <= names
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A1:F9"/>' in sheet
    assert '<row r="5">' in sheet and 'r="F7"' in sheet
    assert "&lt;&amp;&gt;" in sheet and 'xml:space="preserve"' in sheet
    again = tmp_path / "b.xlsx"
    extra = Sheet("Сводка", raw_rows=[["итого", 3, 2.5]])
    write_xlsx(again, _frame(), raw_rows=RAW, column_kinds=KINDS, sheet_name="Результаты",
               extra_sheets=[extra], trailing_empty_rows=2)
    assert hashlib.sha256(book.read_bytes()).digest() == hashlib.sha256(again.read_bytes()).digest()


def test_numeric_column_rejects_text(tmp_path):
    with pytest.raises(ValueError, match="numeric"):
        write_xlsx(tmp_path / "x.xlsx", pd.DataFrame({"a": ["1", "x"]}), column_kinds={"a": "n"})
    with pytest.raises(ValueError, match="sheet name"):
        write_xlsx(tmp_path / "x.xlsx", pd.DataFrame({"a": [1]}), sheet_name="a/b")
    assert not list(tmp_path.glob("*.part"))


def test_stream_writer_slices_one_rendering_into_files(tmp_path):
    n = 2_500
    df = pd.DataFrame({"k": np.arange(n), "t": pd.Categorical(np.where(np.arange(n) % 3, "a", "б"))})
    cut = 1_000
    rownum = np.r_[np.arange(3, 3 + cut), np.arange(3, 3 + n - cut)]
    rendered = render_rows(df, rownum)
    for name, lo, hi in (("p1.xlsx", 0, cut), ("p2.xlsx", cut, n)):
        w = XlsxStreamWriter(tmp_path / name, header=["k", "t"], n_data_rows=hi - lo,
                             raw_rows=[["title"]])
        assert w.first_data_row == 3
        w.write_rendered(rendered.slice(lo, hi - lo))
        w.close()
    rows = CalamineWorkbook.from_path(str(tmp_path / "p2.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[1] == ["k", "t"] and rows[2] == [float(cut), "a"] and len(rows) == 2 + n - cut
    w = XlsxStreamWriter(tmp_path / "bad.xlsx", header=["k", "t"], n_data_rows=5)
    with pytest.raises(ValueError):
        w.close()
    assert not (tmp_path / "bad.xlsx").exists()


def test_big_sheet_is_fast_and_readable(tmp_path):
    import time
    n = 100_000
    rng = np.random.default_rng(1)
    df = pd.DataFrame({f"{i} (1б)": rng.integers(0, 2, n) for i in range(1, 21)})
    df.insert(0, "Название ОО", pd.Categorical(np.where(rng.random(n) < 0.5, "Школа № 1", "Лицей")))
    t = time.perf_counter()
    write_xlsx(tmp_path / "big.xlsx", df, raw_rows=RAW)
    elapsed = time.perf_counter() - t
    rows = CalamineWorkbook.from_path(str(tmp_path / "big.xlsx")).get_sheet_by_index(0).to_python()
    assert len(rows) == n + 4
    assert rows[-1][1:] == [float(v) for v in df.iloc[-1, 1:]]
    assert elapsed < 20  # ~1.5 s on an idle core; generous for a shared CI machine
