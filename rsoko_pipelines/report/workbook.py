"""The XLSX workbook of a municipality: the tables behind its pages (the municipality, its
schools and the region), one sheet each, with the marts' column names as headers so the
figures can be re-cut in Excel, and a sheet «Описание» with every column's description.
Suppressed rates are empty cells, as in the marts (never 0)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from rsoko_pipelines.report.data import Rows


def write_workbook(path: Path, title: str, sheets: dict[str, tuple[str, Rows]],
                   descriptions: dict[tuple[str, str], str]) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        bold = book.add_format({"bold": True, "bg_color": "#EEF1F5"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        for sheet_title, (_, rows) in sheets.items():
            sheet = book.add_worksheet(sheet_title[:31])
            for col, name in enumerate(rows.columns):
                sheet.write_string(0, col, name, bold)
            for r, row in enumerate(rows.rows, start=1):
                for col, value in enumerate(row):
                    _cell(sheet, r, col, value, day)
            sheet.freeze_panes(1, 0)
            if rows.rows:
                sheet.autofilter(0, 0, len(rows.rows), max(len(rows.columns) - 1, 0))
        about = book.add_worksheet("Описание")
        about.write_string(0, 0, title, bold)
        about.write_row(2, 0, ["лист / sheet", "таблица / table", "столбец / column",
                               "описание / description"], bold)
        line = 3
        for sheet_title, (table, rows) in sheets.items():
            for column in rows.columns:
                about.write_row(line, 0, [sheet_title, f"marts.{table}", column,
                                          descriptions.get((table, column)) or ""])
                line += 1
    finally:
        book.close()


def _cell(sheet, row: int, col: int, value, day) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float, Decimal)):
        sheet.write_number(row, col, float(value))
    elif isinstance(value, (datetime, date)):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), day)
    else:
        sheet.write_string(row, col, str(value))
