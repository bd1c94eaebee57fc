"""XLSX "table" extracts: the first sheet, a header row, one record per row (``dpo``,
``graduates`` …), read with python-calamine.

The column map drives everything, exactly as for the CSV sources: ``header_row`` (1-based,
default 1; rows above it are ignored), the columns (found by header name in any order, typed
with the same casts as the CSV readers: ``common.cast_column``), the personal columns and what
is derived from them (``personal.derive_from_personal``), and the ``slice``. The defences of
the ВПР reader apply: a file that is not a workbook, a damaged package, formulas without a
value and error cells (``xlsx_book``), formula text, over-long cells and look-alike letters
(``cells``), codes typed as numbers, repeated header rows (sheets glued together).

Cell values become text first (a number cell → its whole-number text, a date cell →
``ДД.ММ.ГГГГ``), then the CSV casts apply, so a value typed as text or as a number in Excel
loads the same.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.cells import check_text
from rsoko_pipelines.extract.common import (assemble, cast_column, constant, map_headers,
                                            slice_of)
from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.personal import derive_from_personal
from rsoko_pipelines.extract.schemas import ColumnSpec, SourceSpec, normalize_header
from rsoko_pipelines.extract.xlsx_book import check_formula_cells, read_first_sheet, what_it_is


# --------------------------------------------------------------------------- the sheet
def open_first_sheet(data: bytes, name: str, warnings: list[str],
                     export_hint: str = "export the file again") -> list[list]:
    """The first sheet's rows; an empty file, a file that is not a workbook or an empty
    sheet is an error; other sheets are ignored with a warning."""
    if not data:
        raise ExtractError("empty_file", f"{name}: the file is empty", hint=export_hint)
    if not data.startswith(b"PK\x03\x04"):
        raise ExtractError("file_type", f"{name}: the file is not an XLSX workbook"
                           f"{what_it_is(data)}",
                           hint="save the file as .xlsx (not .xls/.csv) and drop it again")
    rows, sheet_names = read_first_sheet(data, name)
    if len(sheet_names) > 1:
        warnings.append(f"{name}: only the first sheet {sheet_names[0]!r} was read; "
                        f"{len(sheet_names) - 1} other sheet(s) ignored")
    if not rows or not any(c not in ("", None) for r in rows for c in r):
        raise ExtractError("empty_file", f"{name}: the first sheet is empty", hint=export_hint)
    return rows


def data_columns(rows: list[list], header_row: int, width: int, name: str,
                 warnings: list[str], export_hint: str) -> tuple[list[tuple], np.ndarray]:
    """The rows below the header, column-major, and their 1-based sheet row numbers. Empty
    rows are dropped: trailing ones silently, inner ones with a warning."""
    data_rows = rows[header_row:]
    empty = np.fromiter(((r.count("") + r.count(None)) >= len(r) for r in data_rows),
                        dtype=bool, count=len(data_rows))
    nonempty_idx = np.flatnonzero(~empty)
    if len(nonempty_idx) == 0:
        raise ExtractError("header_only", f"{name}: the sheet has its header (row "
                           f"{header_row}) but no data rows", hint=export_hint)
    inner_empty = np.flatnonzero(empty[: nonempty_idx[-1]])
    if len(inner_empty):
        warnings.append(f"{name}: {len(inner_empty)} empty row(s) inside the data were skipped "
                        f"(rows {', '.join(str(header_row + 1 + i) for i in inner_empty[:10])})")
    if len(nonempty_idx) != len(data_rows):
        data_rows = [data_rows[i] for i in nonempty_idx]
    lines = (nonempty_idx + header_row + 1).astype(np.int64)
    if any(len(r) != width for r in data_rows):     # calamine's rows are rectangular
        data_rows = [r + [""] * (width - len(r)) if len(r) < width else r[:width]
                     for r in data_rows]
    return list(zip(*data_rows)), lines


def check_shape(columns: list[tuple], found: dict, header: list, unnamed: list[int],
                lines: np.ndarray, name: str) -> None:
    """Values under an empty header cell (nobody can name them: loading would drop them
    silently) and the header repeated among the data rows (sheets glued together) are
    errors."""
    unnamed = [i for i in unnamed if not normalize_header(header[i])]
    if unnamed:
        bad = sorted({int(lines[r]) for i in unnamed for r, v in enumerate(columns[i])
                      if v not in ("", None) and not (isinstance(v, str) and not v.strip())})
        if bad:
            raise ExtractError(
                "row_shape", f"{name}: {len(bad)} row(s) have a value in column position(s) "
                f"{', '.join(str(i + 1) for i in unnamed[:10])} that have no header", rows=bad,
                columns=[f"column {i + 1} (no header)" for i in unnamed[:10]],
                hint="give the column its header or remove the stray cells, and export again")
    positions = list(found.values())[:2]
    if len(positions) < 2:
        return
    keys = [normalize_header(header[p]) for p in positions]
    same = None
    for p, key in zip(positions, keys):
        values = columns[p]
        match = {u: isinstance(u, str) and normalize_header(u) == key for u in set(values)}
        hit = np.fromiter((match[v] for v in values), dtype=bool, count=len(values))
        same = hit if same is None else same & hit
    idx = np.flatnonzero(same)
    if len(idx):
        raise ExtractError("repeated_header", f"{name}: the header is repeated at {len(idx)} "
                           "row(s) among the data: sheets were glued together",
                           rows=lines[idx].tolist(),
                           hint="export the sheet again as one piece, with one header row")


# --------------------------------------------------------------------------- cells → text
def num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def cells_to_text(values, col: ColumnSpec, lines: np.ndarray, name: str, header: str,
                  warnings: list[str]) -> pa.Array:
    """Cell values → text (trimmed, '' → NULL): a number cell → its number text (zero-padded
    to ``pad_digits`` if set), a date cell → 'ДД.ММ.ГГГГ'. A number cell in a ``code`` column
    is an error (``numeric_cells: error``) or a warning (``warn``)."""
    if set(map(type, values)) <= {str}:      # the usual case: all text
        arr = pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    out, numeric = [], []
    for i, v in enumerate(values):
        if isinstance(v, str):
            out.append(v.strip() or None)
        elif v is None:
            out.append(None)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            numeric.append(i)
            text = num_text(v)
            if col.pad_digits and text.isdigit():
                text = text.zfill(col.pad_digits)
            out.append(text)
        elif isinstance(v, (dt.date, dt.datetime)):
            out.append(f"{v.day:02d}.{v.month:02d}.{v.year:04d}")
        else:  # bool, time, timedelta …
            out.append(str(v))
    if numeric and col.type == "varchar":
        number_cells_verdict(lines[numeric].tolist(), col, name, header, warnings,
                             padded=bool(col.pad_digits))
    return pa.array(out, type=pa.string())


def number_cells_verdict(bad_lines: list[int], col: ColumnSpec, name: str, header: str,
                         warnings: list[str], padded: bool = False) -> None:
    """Number cells in a text column (sheet rows `bad_lines`): a warning when they were read
    as zero-padded text (`pad_digits`) or the column tolerates them (`numeric_cells: warn`);
    in any other code column an error (`code_as_number`); elsewhere (a name, a comment) fine."""
    shown = ", ".join(map(str, bad_lines[:10]))
    if padded:
        warnings.append(f"{name}: column {header!r} holds {len(bad_lines)} number cell(s) "
                        f"instead of text; read as {col.pad_digits}-digit text (leading "
                        f"zeros restored) (rows {shown})")
    elif col.code and col.numeric_cells == "warn":
        warnings.append(f"{name}: column {header!r} holds {len(bad_lines)} number cell(s) "
                        "instead of text; kept as whole-number text (leading zeros, if "
                        f"any, are lost) (rows {shown})")
    elif col.code:
        raise ExtractError("code_as_number", f"{name}: column {header!r} holds codes typed "
                           f"as numbers in {len(bad_lines)} cell(s); codes must be text",
                           rows=bad_lines, columns=[header],
                           hint="format the column as text in the export (a code such as "
                                "'070123' typed as a number loses its leading zero)")


def int_column(values, lines: np.ndarray, name: str, header: str) -> pa.Array | None:
    """Fast path of an integer column of number cells (None: not all cells are numbers)."""
    if set(map(type, values)) <= {float}:
        arr = np.asarray(values, dtype=np.float64)
        if len(arr) == 0 or (np.all(arr == np.floor(arr)) and np.all(np.abs(arr) < 2**31)):
            return pa.array(arr.astype(np.int32), type=pa.int32())
    return None


def read_column(values, col: ColumnSpec, lines: np.ndarray, name: str, header: str,
                warnings: list[str]) -> pa.Array:
    """One non-personal column of cells → its landing type (the CSV casts and guards)."""
    if col.type == "integer":
        fast = int_column(values, lines, name, header)
        if fast is not None:
            return fast
    text = cells_to_text(values, col, lines, name, header, warnings)
    if col.type == "varchar":
        text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        check_text(text, col, lines, name, header)
        return text
    return cast_column(text, col, lines, name, header)


def read_file_columns(spec: SourceSpec, columns: list[tuple], found: dict, header: list,
                      lines: np.ndarray, name: str, pseudonymizer, warnings: list[str],
                      skip=frozenset()) -> dict[str, pa.Array]:
    """Every mapped column of the file (except ``skip``) in its landing type, personal columns
    replaced by what the column map derives from them."""
    cols: dict[str, pa.Array] = {}
    for col in spec.file_columns:
        if col.name not in found or col.personal or col.name in skip:
            continue
        values = columns[found[col.name]]
        cols[col.name] = read_column(values, col, lines, name, _header(header, found, col.name),
                                     warnings)

    def read_personal(column: str):
        if column not in found:
            return None
        col = next(c for c in spec.columns if c.name == column)
        h = _header(header, found, column)
        # cells_to_text's messages name the column and rows only, never a value
        return cells_to_text(columns[found[column]], col, lines, name, h, warnings), h

    cols.update(derive_from_personal(spec, read_personal, lines, name, pseudonymizer,
                                     warnings))
    return cols


def _header(header: list, found: dict, column: str) -> str:
    h = header[found[column]]
    return num_text(h) if isinstance(h, float) else str(h).strip()


# --------------------------------------------------------------------------- the reader
def parse_xlsx_table(path, data: bytes, spec: SourceSpec, name: str, academic_year: int,
                     file_id: str, pseudonymizer, warnings: list[str]):
    """Returns (tables, slice, rows) like the other readers."""
    hint = "export the file again from the source system"
    rows = open_first_sheet(data, name, warnings, hint)
    header_row = int(spec.get("header_row", 1))
    if len(rows) < header_row or not any(c not in ("", None) for c in rows[header_row - 1]):
        raise ExtractError("header", f"{name}: row {header_row} (the header) is empty",
                           rows=[header_row], hint=f"export the sheet with its header in row "
                           f"{header_row}")
    header = rows[header_row - 1]
    found, unnamed = map_headers(header, spec, name, f"the header (row {header_row})",
                                 warnings)
    check_formula_cells(data, header, name, warnings)
    columns, lines = data_columns(rows, header_row, len(header), name, warnings, hint)
    del rows
    check_shape(columns, found, header, unnamed, lines, name)
    n = len(lines)
    cols = read_file_columns(spec, columns, found, header, lines, name, pseudonymizer,
                             warnings)
    del columns
    cols["_file_id"] = constant(file_id, n, pa.string())
    cols["_source_line"] = pa.array(lines, type=pa.int32())
    cols["academic_year"] = constant(academic_year, n, pa.int32())
    table = assemble(spec.tables[spec.main_table].schema, cols, n)
    return {spec.main_table: table}, slice_of(spec, table, academic_year), n
