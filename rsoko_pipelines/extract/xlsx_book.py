"""Reading an XLSX package defensively: the first sheet, formula and error cells.

A damaged package fails inside python-calamine in many ways (zip, deflate and XML errors —
and Rust panics, which Python sees as a BaseException): each is the same problem for the
operator, so each becomes ``xlsx_unreadable`` (:func:`read_first_sheet`); a file that is not
a workbook at all is named for what it is (:func:`what_it_is`).

python-calamine returns a formula cell's *cached* value, and an empty string for an error
cell (``#DIV/0!``, ``#N/A``) or for a formula saved without its value (files written by
scripts, never opened in Excel). Read as empty, such a cell would surface later as a
misleading "score is empty" failure, or not at all in an optional column. So the first
sheet's XML is scanned for them (only when it holds a formula or an error cell at all: a
byte search, cheap):

- formula with a cached value → the value loads (it is what the operator saw in Excel), and
  a warning names the cells;
- formula without a cached value, error cell → the file is quarantined naming the cells.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from rsoko_pipelines.extract.errors import ExtractError

_FORMULA = re.compile(rb"<f[ >/]")
_ERROR = re.compile(rb'\bt="e"')
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_SHEET = re.compile(rb'<sheet\b[^>]*?\br:id="([^"]+)"')
MAX_CELLS = 1000


@dataclass
class SheetCells:
    cached_formulas: list[tuple[int, int]] = field(default_factory=list)   # (row, col index)
    empty_formulas: list[tuple[int, int]] = field(default_factory=list)
    errors: list[tuple[int, int, str]] = field(default_factory=list)      # (row, col, '#N/A')


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def first_sheet_xml(data: bytes) -> bytes | None:
    """The XML of the workbook's first sheet (None if the package does not say which)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        m = _SHEET.search(zf.read("xl/workbook.xml")) if "xl/workbook.xml" in names else None
        rels = "xl/_rels/workbook.xml.rels"
        if m is None or rels not in names:
            return None
        rel = re.search(rb'<Relationship\b[^>]*?Id="' + re.escape(m.group(1)) +
                        rb'"[^>]*?Target="([^"]+)"', zf.read(rels)) or re.search(
            rb'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="' + re.escape(m.group(1)) + rb'"',
            zf.read(rels))
        if rel is None:
            return None
        target = rel.group(1).decode()
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        return zf.read(path) if path in names else None


def scan(data: bytes) -> SheetCells:
    out = SheetCells()
    try:
        xml = first_sheet_xml(data)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError):
        return out   # calamine has already read the sheet; nothing more to learn here
    if not xml or not any(marker in xml for marker in (b"<f>", b"<f ", b"<f/", b't="e"')):
        return out   # the usual case, decided by a byte search (no regex over the sheet)
    for m in _CELL.finditer(xml):
        attrs, body = m.group(1), m.group(2) or b""
        is_error = _ERROR.search(attrs) is not None
        has_formula = _FORMULA.search(body) is not None
        if not (is_error or has_formula):
            continue
        ref = _REF.search(attrs)
        if ref is None:
            continue
        where = (int(ref.group(2)), col_index(ref.group(1).decode()))
        value = _VALUE.search(body)
        if is_error:
            out.errors.append((*where, value.group(1).decode(errors="replace") if value else "?"))
        elif value is not None and value.group(1):
            out.cached_formulas.append(where)
        else:
            out.empty_formulas.append(where)
        if len(out.errors) + len(out.empty_formulas) + len(out.cached_formulas) >= MAX_CELLS:
            break
    return out


def what_it_is(data: bytes) -> str:
    head = data[:512].lstrip()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return " (it is an old Excel 97-2003 .xls file, or a password-protected workbook)"
    if head[:1] == b"<":
        return " (it is an HTML or XML page saved under an .xlsx name)"
    if head and all(32 <= b or b in (9, 10, 13) for b in head[:64]):
        return " (it is a text file, perhaps a CSV renamed to .xlsx)"
    return ""


def read_first_sheet(data: bytes, name: str) -> tuple[list[list], list[str]]:
    """The first sheet's rows and the sheet names (see the module docstring)."""
    from python_calamine import CalamineWorkbook

    hint = "the file was probably cut off or damaged while copying; copy or export it again"
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_names = wb.sheet_names
        if not sheet_names:
            raise ExtractError("xlsx_unreadable", f"{name}: the workbook has no sheets",
                               hint="export the form from ФИС ОКО again")
        return wb.get_sheet_by_index(0).to_python(skip_empty_area=False), sheet_names
    except ExtractError:
        raise
    except Exception as err:  # CalamineError, ZipError, XmlError, …
        problem = type(err).__name__
    except BaseException as err:  # pyo3 PanicException: a Rust panic on a malformed file
        if type(err).__name__ != "PanicException":
            raise
        problem = "PanicException"
    raise ExtractError("xlsx_unreadable", f"{name}: the workbook cannot be read (truncated or "
                       f"corrupt: {problem})", hint=hint)


def check_formula_cells(data: bytes, header: list, name: str, warnings: list[str]) -> None:
    """Error cells and formulas without a computed value quarantine the file; formulas
    with a value load it, with a warning naming the cells."""
    cells = scan(data)

    def label(col: int) -> str:
        h = header[col] if col < len(header) else None
        return str(h).strip() if h not in (None, "") else f"column {col + 1}"

    for found, check, what in (
            (cells.errors, "xlsx_error_cell", "error value(s) such as '#DIV/0!' or '#N/A'"),
            (cells.empty_formulas, "xlsx_formula", "formula(s) saved without a computed value")):
        if found:
            raise ExtractError(
                check, f"{name}: {len(found)} cell(s) hold {what}",
                rows=sorted({c[0] for c in found}),
                columns=list(dict.fromkeys(label(c[1]) for c in found)),
                hint="open the file in Excel, fix or replace the formulas by their values "
                     "(Paste Special → Values), save it, or export the form from ФИС ОКО again")
    if cells.cached_formulas:
        rows = sorted({r for r, _ in cells.cached_formulas})
        cols = list(dict.fromkeys(label(c) for _, c in cells.cached_formulas))
        warnings.append(f"{name}: {len(cells.cached_formulas)} cell(s) hold formulas; their "
                        f"computed values were loaded (columns {', '.join(map(repr, cols[:5]))}; "
                        f"rows {', '.join(map(str, rows[:10]))})")
