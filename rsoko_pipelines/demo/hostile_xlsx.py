"""Hostile ФИС ОКО workbooks (ВПР/РПР XLSX) for demo/hostile.py.

Cells are edited in the sheet XML of a generated workbook (hostile_io.patch_sheet), so the
rest of the package stays as the generator wrote it; each function returns its Case.
"""

from __future__ import annotations

import random
import re

from rsoko_pipelines.demo.hostile_case import Case, Ctx
from rsoko_pipelines.demo.hostile_io import (CsvDoc, col_letter, expected_values, member_offset,
                                             patch_sheet, text_cell, xlsx_rows)

HEADER_ROW = 4
SCORE = "Первичный балл"
CYRILLIC_TO_LATIN = dict(zip("асеорхуАВСЕНКМОРТХ", "aceopxyABCEHKMOPTX"))


class Book:
    """A generated workbook: its bytes, its rows as calamine reads them, cell references."""

    def __init__(self, ctx: Ctx, path):
        self.ctx, self.path = ctx, path
        self.data = path.read_bytes()
        self.rows = xlsx_rows(self.data)
        self.header = [str(h).strip() if h not in (None, "") else "" for h in
                       self.rows[HEADER_ROW - 1]]
        self.body = [r for r in self.rows[HEADER_ROW:] if any(c not in ("", None) for c in r)]

    def ref(self, header: str, row: int) -> str:
        return f"{col_letter(self.header.index(header))}{row}"

    def value(self, header: str, row: int):
        return self.rows[row - 1][self.header.index(header)]

    def middle_row(self) -> int:
        return HEADER_ROW + len(self.body) // 2 + 1

    def expected(self, source: str) -> dict:
        lines = list(range(HEADER_ROW + 1, HEADER_ROW + 1 + len(self.body)))
        return expected_values(source, self.header, self.body, lines)


def _book(ctx: Ctx, source: str = "vpr", year: int | None = None, take=False, index=0):
    year = year or ctx.year
    return Book(ctx, ctx.take(source, year) if take else ctx.any(source, year, index))


def _load(ctx, case_id, book: Book, source, name, data, description, **kw) -> Case:
    rel = ctx.write(source, ctx.year, name, data)
    return Case(case_id, source, ctx.year, [rel], "load", description, rows=len(book.body),
                values=book.expected(source), origin=ctx.rel(book.path), **kw)


def _quarantine(ctx, case_id, book: Book, name, data, description, check, message=(),
                lines=(), source="vpr", year=None) -> Case:
    year = year or ctx.year
    rel = ctx.write(source, year, name, data)
    return Case(case_id, source, year, [rel], "quarantine", description, check=check,
                message=list(message), lines=list(lines),
                origin=ctx.rel(book.path) if book else None)


# ------------------------------------------------------------------------------ loads
def extra_columns(ctx: Ctx) -> Case:
    book = _book(ctx, take=True)
    letter = col_letter(len(book.header))
    last = HEADER_ROW + len(book.body)     # not on the trailing empty rows of the export

    def add_column(xml: str) -> str:
        def row(m):
            r = int(m.group(2))
            cell = (text_cell(f"{letter}{r}", "Примечание") if r == HEADER_ROW else
                    text_cell(f"{letter}{r}", "проверено") if HEADER_ROW < r <= last else "")
            return m.group(1) + m.group(3) + cell + "</row>"
        xml = re.sub(r'(<row r="(\d+)"[^>]*>)(.*?)</row>', row, xml, flags=re.S)
        return re.sub(r'<dimension ref="A1:[A-Z]+(\d+)"/>', rf'<dimension ref="A1:{letter}\1"/>',
                      xml)

    return _load(ctx, "extra_columns", book, "vpr", "ВПР_доп_столбец.xlsx",
                 patch_sheet(book.data, {}, add_column),
                 "A column 'Примечание' added by the school after the form's columns: not in "
                 "the contract, so ignored with a warning; the file loads.")


def formula_with_value(ctx: Ctx) -> Case:
    book = _book(ctx, take=True)
    first, last = col_letter(book.header.index(SCORE) - 3), col_letter(book.header.index(SCORE) - 1)
    cells = {}
    scored = [r for r in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(book.body))
              if isinstance(book.value(SCORE, r), float)]
    for r in scored[:3]:
        ref = book.ref(SCORE, r)
        cells[ref] = (f'<c r="{ref}"><f>SUM({first}{r}:{last}{r})</f>'
                      f"<v>{int(book.value(SCORE, r))}</v></c>")
    return _load(ctx, "formula_with_value", book, "vpr", "ВПР_формулы.xlsx",
                 patch_sheet(book.data, cells),
                 "Three 'Первичный балл' cells recalculated with =SUM() in Excel: a formula "
                 "saved with its value; the value (what the operator saw) loads, with a "
                 "warning naming the cells. The formula text never reaches a table.")


def odd_file_name(ctx: Ctx) -> Case:
    book = _book(ctx, "rpr", take=True)
    return _load(ctx, "odd_file_name", book, "rpr", "РПР (копия) #2 'итог'; 100%.xlsx",
                 book.data, "An operator's file name with spaces, quotes, '#', ';' and '%': "
                 "names are free in the contract; the file loads.")


# ----------------------------------------------------------------------------- ignored
def excel_owner_file(ctx: Ctx) -> Case:
    book = _book(ctx)
    data = b"\x0bOperator RCOKO" + b"\x20" * 40 + b"\x00" * 111
    rel = ctx.write("vpr", ctx.year, "~$" + book.path.name, data)
    return Case("excel_owner_file", "vpr", ctx.year, [rel], "ignore",
                "Excel's owner file '~$…' (exists while the workbook is open in Excel): not "
                "an extract; left alone.", origin=ctx.rel(book.path))


def directory_named_like_file(ctx: Ctx) -> Case:
    rel = f"vpr/{ctx.year}/Математика 5 класс.xlsx"
    (ctx.out / rel).mkdir(parents=True, exist_ok=True)
    return Case("directory_named_like_file", "vpr", ctx.year, [rel], "ignore",
                "An empty folder named like a workbook: not a file; left alone (not moved, "
                "not registered), and the night goes on.")


# -------------------------------------------------------------------------- quarantine
def truncated(ctx: Ctx) -> Case:
    book = _book(ctx)
    return _quarantine(ctx, "truncated_xlsx", book, "ВПР_обрезан.xlsx",
                       book.data[: len(book.data) * 6 // 10], "A workbook cut off while "
                       "copying (60 % of its bytes): unreadable; rejected asking for a new "
                       "copy.", "xlsx_unreadable", ["cannot be read"])


def corrupted(ctx: Ctx) -> Case:
    book = _book(ctx, index=1)
    start, size = member_offset(book.data)
    for seed in range(100):
        data = bytearray(book.data)
        rnd = random.Random(seed)
        at = start + size // 2
        data[at:at + 64] = bytes(rnd.randrange(256) for _ in range(64))
        try:
            xlsx_rows(bytes(data))
        except Exception:
            break
    return _quarantine(ctx, "corrupted_xlsx", book, "ВПР_повреждён.xlsx", bytes(data),
                       "64 random bytes inside the sheet's compressed data (a damaged "
                       "disk or transfer): unreadable; rejected, never a crash.",
                       "xlsx_unreadable", ["cannot be read"])


def xls_not_xlsx(ctx: Ctx) -> Case:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088)
    return _quarantine(ctx, "xls_not_xlsx", None, "ВПР_старый_формат.xlsx", data,
                       "An Excel 97-2003 .xls renamed to .xlsx: another format; rejected "
                       "saying which one and what to save it as.", "file_type", ["97-2003"])


def error_cell(ctx: Ctx) -> Case:
    book = _book(ctx)
    r = book.middle_row()
    ref = book.ref(SCORE, r)
    data = patch_sheet(book.data, {ref: f'<c r="{ref}" t="e"><v>#DIV/0!</v></c>'})
    return _quarantine(ctx, "xlsx_error_cell", book, "ВПР_ДЕЛ0.xlsx", data,
                       "'#DIV/0!' in 'Первичный балл': calamine reads an error cell as empty; "
                       "rejected naming the cell instead of a misleading 'score is empty'.",
                       "xlsx_error_cell", [SCORE], [r])


def formula_without_value(ctx: Ctx) -> Case:
    book = _book(ctx)
    r = book.middle_row()
    ref = book.ref(SCORE, r)
    data = patch_sheet(book.data, {ref: f'<c r="{ref}"><f>SUM(G{r}:H{r})</f></c>'})
    return _quarantine(ctx, "xlsx_formula_without_value", book, "ВПР_формула_без_значения.xlsx",
                       data, "A formula saved without its computed value (written by a "
                       "script, never opened in Excel): the score is unknown; rejected naming "
                       "the cell.", "xlsx_formula", [SCORE], [r])


def injection_text(ctx: Ctx) -> Case:
    book = _book(ctx)
    r = book.middle_row()
    ref = book.ref("Название ОО", r)
    payload = "@SUM(1+1)*cmd|' /C calc'!A0"
    return _quarantine(ctx, "xlsx_injection_text", book, "ВПР_инъекция.xlsx",
                       patch_sheet(book.data, {ref: text_cell(ref, payload)}),
                       "A formula payload typed as text in 'Название ОО': harmless in the "
                       "workbook, executed once exported to CSV and opened; quarantined.",
                       "formula_text", ["Название ОО"], [r])


def lookalike_login(ctx: Ctx) -> Case:
    book = _book(ctx)
    r = book.middle_row()
    ref = book.ref("Логин ОО", r)
    login = str(book.value("Логин ОО", r)).replace("c", "с", 1)       # Cyrillic с
    return _quarantine(ctx, "lookalike_login", book, "ВПР_логин.xlsx",
                       patch_sheet(book.data, {ref: text_cell(ref, login)}),
                       "A login typed 'sсh…' with a Cyrillic 'с': identical on screen, "
                       "matches no school; rejected naming the letter.", "lookalike_letters",
                       ["Логин ОО", "U+0441"], [r])


def lookalike_subject(ctx: Ctx) -> Case:
    book = _book(ctx)
    title = str(book.rows[0][0])
    words = title.split(" ")
    subject = words[2]
    i = next(k for k, ch in enumerate(subject) if ch in CYRILLIC_TO_LATIN)
    words[2] = subject[:i] + CYRILLIC_TO_LATIN[subject[i]] + subject[i + 1:]
    data = patch_sheet(book.data, {"A1": text_cell("A1", " ".join(words))})
    return _quarantine(ctx, "lookalike_subject", book, "ВПР_предмет.xlsx", data,
                       "The subject in the title typed half in the Latin layout: it would "
                       "load as an unknown subject and drop out of every report; rejected.",
                       "lookalike_letters", ["subject", "Latin"], [1])


def empty_sheet(ctx: Ctx) -> Case:
    book = _book(ctx)

    def empty(xml: str) -> str:
        xml = re.sub(r"<sheetData>.*</sheetData>", "<sheetData/>", xml, flags=re.S)
        return re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1"/>', xml)

    return _quarantine(ctx, "empty_sheet", book, "ВПР_пустой_лист.xlsx",
                       patch_sheet(book.data, {}, empty), "A workbook whose sheet is empty "
                       "(the export was interrupted): rejected as empty.", "empty_file",
                       ["empty"])


def unknown_school_vpr(ctx: Ctx) -> Case:
    book = _book(ctx)
    schools = ctx.base_inbox / next(r for r in ctx.base if r.startswith(f"schools/{ctx.year}/"))
    known = set(CsvDoc.read(schools, "schools").values("Логин ФИС ОКО"))
    login = next(f"sch07{n:04d}" for n in range(9999, 0, -1) if f"sch07{n:04d}" not in known)
    r = book.middle_row()
    ref = book.ref("Логин ОО", r)
    return _quarantine(ctx, "unknown_school_vpr", book, "ВПР_чужая_школа.xlsx",
                       patch_sheet(book.data, {ref: text_cell(ref, login)}),
                       "A login that is not in the registry of the year: rejected; the report "
                       "names the column 'Логин ОО' (the defect was an internal column name).",
                       "vpr.school_known_in_registry", ["«Логин ОО»"], [r])


def year_mismatch_vpr(ctx: Ctx) -> Case:
    book = _book(ctx, year=ctx.prev)
    return _quarantine(ctx, "year_mismatch_vpr", book, "ВПР_прошлый_год.xlsx", book.data,
                       f"A ВПР {ctx.prev} form (the year is in its title) dropped into the "
                       f"{ctx.year} folder: rejected saying where it belongs.", "title_year",
                       [f"vpr/{ctx.prev}/"], [1])


CASES = (extra_columns, formula_with_value, odd_file_name, excel_owner_file,
         directory_named_like_file, truncated, corrupted, xls_not_xlsx, error_cell,
         formula_without_value, injection_text, lookalike_login, lookalike_subject, empty_sheet,
         unknown_school_vpr, year_mismatch_vpr)
