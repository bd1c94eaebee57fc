"""A minimal, fast XLSX writer for the demo generator.

openpyxl needs ~30 s for a 100k-row sheet; the ВПР forms of one tier-F year are 30M rows.
This writer builds the sheet XML column by column with pyarrow compute kernels (C++; no
per-cell Python), uses inline strings (no shared-string table) and streams the XML into a
deflate-1 zip member. It writes what the generator needs and nothing more:

- leading *raw rows* (title, max score, level row …): arbitrary Python cell lists;
- a header row and the data of a DataFrame, with per-column numeric/text handling;
- NaN/None → no cell (empty), XML escaping, ``xml:space="preserve"`` where needed;
- optional extra sheets (raw rows only) placed after the first sheet;
- optional trailing "empty" rows (cells holding empty strings, as real exports have).

Every row and cell carries its ``r`` reference and the sheet has a ``<dimension>``, so
Excel, LibreOffice, openpyxl and python-calamine read the file the same way.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ColumnKind = Literal["n", "s", "auto"]
"""Column kinds: ``n`` numeric (numbers; anything else is an error), ``s`` text,
``auto`` per cell: a value that looks like a number is written as a number, else text."""

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
_CHUNK_ROWS = 100_000
_NUM_RE = r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

_STYLES = (
    _XML_DECL + f'<styleSheet xmlns="{_NS_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


_ZIP_DATE = (1980, 1, 1, 0, 0, 0)   # fixed member timestamps: same input, same bytes


def _member(name: str) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    zi.compress_type = zipfile.ZIP_DEFLATED
    # deflate level 1: the attribute is private in Python 3.11/3.12 (public from 3.13)
    setattr(zi, "compress_level" if hasattr(zi, "compress_level") else "_compresslevel", 1)
    zi.external_attr = 0o644 << 16
    return zi


@dataclass
class Sheet:
    """One worksheet: raw rows, then (optionally) a header row and a DataFrame."""

    name: str
    raw_rows: Sequence[Sequence[Any]] = ()
    data: pd.DataFrame | None = None
    header: Sequence[str] | None = None            # default: data.columns
    column_kinds: Mapping[str, ColumnKind] = field(default_factory=dict)
    trailing_empty_rows: int = 0


def col_letter(idx: int) -> str:
    """0-based column index → Excel letters (0 → A, 25 → Z, 26 → AA)."""
    if not 0 <= idx < MAX_COLS:
        raise ValueError(f"column index out of range: {idx}")
    out = ""
    idx += 1
    while idx:
        idx, rem = divmod(idx - 1, 26)
        out = chr(65 + rem) + out
    return out


def _esc(text: str) -> str:
    text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;")


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _py_cell(ref: str, v: Any) -> str:
    """One cell from a Python value (raw rows, header). Empty → ''."""
    if _is_missing(v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, np.integer)):
        return f'<c r="{ref}"><v>{int(v)}</v></c>'
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            raise ValueError(f"non-finite number in cell {ref}: {v}")
        return f'<c r="{ref}"><v>{repr(float(v))}</v></c>'
    s = str(v)
    space = ' xml:space="preserve"' if s != s.strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{_esc(s)}</t></is></c>'


def _py_row(rownum: int, values: Sequence[Any]) -> str:
    cells = "".join(_py_cell(f"{col_letter(i)}{rownum}", v) for i, v in enumerate(values))
    return f'<row r="{rownum}">{cells}</row>' if cells else f'<row r="{rownum}"/>'


def _to_arrow(series: pd.Series) -> pa.Array:
    """A column as an arrow array with nulls for NaN/None (not the string 'nan')."""
    try:
        arr = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array(
            [None if _is_missing(v) else str(v) for v in series.tolist()], type=pa.string()
        )
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    return arr


def _text_cells(strs: pa.Array, prefix: pa.Array) -> pa.Array:
    strs = pc.replace_substring_regex(strs, "[\x00-\x08\x0b\x0c\x0e-\x1f]", "")
    strs = pc.replace_substring(strs, "&", "&amp;")
    strs = pc.replace_substring(strs, "<", "&lt;")
    strs = pc.replace_substring(strs, ">", "&gt;")
    padded = pc.fill_null(pc.match_substring_regex(strs, r"^\s|\s$"), False)
    t_open = pc.if_else(padded, '" t="inlineStr"><is><t xml:space="preserve">',
                        '" t="inlineStr"><is><t>')
    return pc.binary_join_element_wise(prefix, t_open, strs, "</t></is></c>", "")


def _num_cells(strs: pa.Array, prefix: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(prefix, '"><v>', strs, "</v></c>", "")


def _num_strings(arr: pa.Array, name: str) -> pa.Array:
    t = arr.type
    if pa.types.is_boolean(t):
        return pc.cast(pc.cast(arr, pa.int8()), pa.string())
    if pa.types.is_integer(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_floating(t):
        arr = arr.cast(pa.float64())
        finite = pc.is_finite(arr)
        if not pc.all(pc.or_(finite, pc.is_null(arr))).as_py():
            raise ValueError(f"column {name!r}: infinite values cannot be written")
        # integral floats as integers ("3", not "3.0"), the rest in shortest round-trip form
        integral = pc.equal(arr, pc.floor(arr))
        as_int = pc.cast(pc.cast(pc.if_else(integral, arr, 0.0), pa.int64()), pa.string())
        return pc.if_else(integral, as_int, pc.cast(arr, pa.string()))
    if pa.types.is_string(t):
        bad = pc.and_(pc.invert(pc.match_substring_regex(arr, _NUM_RE)), pc.is_valid(arr))
        if pc.any(bad).as_py():
            sample = arr.filter(pc.fill_null(bad, False))[0].as_py()
            raise ValueError(f"column {name!r} is numeric but holds {sample!r}")
        return arr
    raise TypeError(f"column {name!r}: cannot write arrow type {t} as numbers")


def _column_cells(series: pd.Series, letter: str, rowstr: pa.Array, kind: ColumnKind,
                  name: str) -> pa.Array:
    arr = _to_arrow(series)
    prefix = pc.binary_join_element_wise('<c r="', letter, rowstr, "")
    if kind == "n":
        cells = _num_cells(_num_strings(arr, name), prefix)
    elif kind == "s":
        strs = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
        cells = _text_cells(strs, prefix)
    elif kind == "auto":
        if not pa.types.is_string(arr.type):
            cells = _num_cells(_num_strings(arr, name), prefix)
        else:
            isnum = pc.fill_null(pc.match_substring_regex(arr, _NUM_RE), False)
            cells = pc.if_else(isnum, _num_cells(arr, prefix), _text_cells(arr, prefix))
    else:
        raise ValueError(f"unknown column kind {kind!r} for {name!r}")
    return pc.fill_null(cells, "")


def _default_kind(series: pd.Series) -> ColumnKind:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return "n"
    return "s"


def _buffer_bytes(arr: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a null-free string array (zero copy)."""
    if arr.null_count:
        raise ValueError("internal: null in row strings")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    start, end = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    data = arr.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[start:end]


def render_rows(df: pd.DataFrame, row_numbers: np.ndarray,
                column_kinds: Mapping[str, ColumnKind] | None = None) -> pa.Array:
    """The complete ``<row r="…">…</row>`` XML of every row of ``df`` (an arrow string array).

    ``row_numbers`` are the 1-based sheet rows of the DataFrame rows, so one rendering
    can be sliced into several files (each restarting its numbering). Keep ``df`` under a
    few hundred thousand rows per call (arrow strings have 32-bit offsets).
    """
    n = len(df)
    if len(row_numbers) != n:
        raise ValueError("one row number per DataFrame row is needed")
    if n == 0:
        return pa.array([], type=pa.string())
    kinds_map = dict(column_kinds or {})
    kinds = [kinds_map.get(c) or _default_kind(df[c]) for c in df.columns]
    rowstr = pc.cast(pa.array(np.asarray(row_numbers, dtype=np.int64)), pa.string())
    pieces = [pc.binary_join_element_wise('<row r="', rowstr, '">', "")]
    for j, name in enumerate(df.columns):
        pieces.append(_column_cells(df.iloc[:, j], col_letter(j), rowstr, kinds[j], str(name)))
    pieces.append("</row>")
    rows = pc.binary_join_element_wise(*pieces, "")
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    return rows


def _content_types(k: int) -> str:
    return (_XML_DECL
            + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT_SHEET}"/>'
                      for i in range(1, k + 1))
            + "</Types>")


def _check_names(names: Sequence[str]) -> None:
    for n in names:
        if not n or len(n) > 31 or any(ch in n for ch in '[]:*?/\\'):
            raise ValueError(f"invalid sheet name {n!r}")
    if len({n.lower() for n in names}) != len(names):
        raise ValueError(f"duplicate sheet names: {list(names)}")


class XlsxStreamWriter:
    """Stream one workbook: the first sheet's data rows arrive as pre-rendered XML.

    ``n_data_rows`` must be known up front (for the sheet's ``<dimension>``); exactly that
    many rows must be passed to :meth:`write_rendered` before :meth:`close`. Extra sheets
    (raw rows only) are written after the first one.
    """

    def __init__(self, path: str | Path, *, header: Sequence[str], n_data_rows: int,
                 raw_rows: Sequence[Sequence[Any]] = (), sheet_name: str = "Лист1",
                 extra_sheets: Sequence[Sheet] = (), trailing_empty_rows: int = 0) -> None:
        names = [sheet_name, *[s.name for s in extra_sheets]]
        _check_names(names)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(self.path.name + ".part")
        self._extra = list(extra_sheets)
        self._trailing = int(trailing_empty_rows)
        self._width = max([len(r) for r in raw_rows] + [len(header), 1])
        self._first_data = len(raw_rows) + 2
        self._expected = int(n_data_rows)
        self._written = 0
        last = len(raw_rows) + 1 + self._expected + self._trailing
        if last > MAX_ROWS:
            raise ValueError(f"sheet {sheet_name!r} would have {last} rows (> {MAX_ROWS})")
        if self._width > MAX_COLS:
            raise ValueError(f"sheet {sheet_name!r} would have {self._width} columns")
        k = len(names)
        self._zip = zipfile.ZipFile(self._tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        try:
            z = self._zip
            z.writestr(_member("[Content_Types].xml"), _content_types(k))
            z.writestr(_member("_rels/.rels"), _XML_DECL + f'<Relationships xmlns="{_NS_PKG_REL}">'
                       f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" '
                       'Target="xl/workbook.xml"/></Relationships>')
            z.writestr(_member("xl/workbook.xml"), _XML_DECL + f'<workbook xmlns="{_NS_MAIN}" '
                       f'xmlns:r="{_NS_REL}"><sheets>'
                       + "".join(f'<sheet name="{_esc_attr(n)}" sheetId="{i}" r:id="rId{i}"/>'
                                 for i, n in enumerate(names, 1))
                       + "</sheets></workbook>")
            z.writestr(_member("xl/_rels/workbook.xml.rels"),
                       _XML_DECL + f'<Relationships xmlns="{_NS_PKG_REL}">'
                       + "".join(f'<Relationship Id="rId{i}" Type="{_NS_REL}/worksheet" '
                                 f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, k + 1))
                       + f'<Relationship Id="rId{k + 1}" Type="{_NS_REL}/styles" '
                       'Target="styles.xml"/></Relationships>')
            z.writestr(_member("xl/styles.xml"), _STYLES)
            self._f = z.open(_member("xl/worksheets/sheet1.xml"), "w", force_zip64=True)
            dim = f"A1:{col_letter(self._width - 1)}{last}"
            head = [_py_row(i, r) for i, r in enumerate(raw_rows, 1)]
            head.append(_py_row(len(raw_rows) + 1, list(header)))
            self._f.write((_XML_DECL + f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
                           f'<dimension ref="{dim}"/><sheetData>' + "".join(head)).encode())
        except BaseException:
            self.abort()
            raise

    @property
    def first_data_row(self) -> int:
        """The sheet row number of the first data row (rows must be rendered with it)."""
        return self._first_data

    def write_rendered(self, rows: pa.Array) -> None:
        """Append rendered rows (from :func:`render_rows`, numbered consecutively)."""
        if self._written + len(rows) > self._expected:
            raise ValueError("more data rows than announced")
        if len(rows):
            if rows.null_count:
                rows = pc.fill_null(rows, "")
            self._f.write(_buffer_bytes(rows))
        self._written += len(rows)

    def close(self) -> None:
        if self._written != self._expected:
            self.abort()
            raise ValueError(f"{self._written} data rows written, {self._expected} announced")
        try:
            row = self._first_data + self._written
            tail = [_py_row(row + i, [""] * min(self._width, 3)) for i in range(self._trailing)]
            self._f.write(("".join(tail) + "</sheetData></worksheet>").encode())
            self._f.close()
            for i, sheet in enumerate(self._extra, 2):
                with self._zip.open(_member(f"xl/worksheets/sheet{i}.xml"), "w", force_zip64=True) as f:
                    _sheet_xml(f, sheet, _CHUNK_ROWS)
            self._zip.close()
            self._tmp.replace(self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        try:
            self._zip.close()
        except Exception:  # noqa: BLE001 - best effort cleanup
            pass
        if self._tmp.exists():
            self._tmp.unlink()


def _data_chunks(df: pd.DataFrame, kinds: Mapping[str, ColumnKind], first_row: int,
                 chunk_rows: int) -> Iterable[memoryview]:
    for lo in range(0, len(df), chunk_rows):
        part = df.iloc[lo:lo + chunk_rows]
        rows = render_rows(part, np.arange(first_row + lo, first_row + lo + len(part)), kinds)
        yield _buffer_bytes(rows)


def _sheet_xml(f, sheet: Sheet, chunk_rows: int) -> int:
    """Stream one worksheet into the open zip member ``f``; returns the last row number."""
    raw = [list(r) for r in sheet.raw_rows]
    df = sheet.data
    header = None
    if df is not None:
        header = list(sheet.header) if sheet.header is not None else [str(c) for c in df.columns]
        if len(header) != df.shape[1]:
            raise ValueError(f"header has {len(header)} names for {df.shape[1]} columns")
    n_data = 0 if df is None else len(df)
    last_row = len(raw) + (1 if header is not None else 0) + n_data + sheet.trailing_empty_rows
    if last_row > MAX_ROWS:
        raise ValueError(f"sheet {sheet.name!r} would have {last_row} rows (> {MAX_ROWS})")
    width = max([len(r) for r in raw] + [len(header) if header else 0, 1])
    if width > MAX_COLS:
        raise ValueError(f"sheet {sheet.name!r} would have {width} columns")
    dim = f"A1:{col_letter(width - 1)}{max(last_row, 1)}"
    f.write((_XML_DECL + f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
             f'<dimension ref="{dim}"/><sheetData>').encode())
    rownum = 0
    head = []
    for r in raw:
        rownum += 1
        head.append(_py_row(rownum, r))
    if header is not None:
        rownum += 1
        head.append(_py_row(rownum, header))
    f.write("".join(head).encode())
    if df is not None and n_data:
        for buf in _data_chunks(df, sheet.column_kinds, rownum + 1, chunk_rows):
            f.write(buf)
        rownum += n_data
    if sheet.trailing_empty_rows:
        ncols = min(width, 3)
        tail = []
        for _ in range(sheet.trailing_empty_rows):
            rownum += 1
            # "" is not missing: each becomes an empty inline string, so readers see the rows
            tail.append(_py_row(rownum, [""] * ncols))
        f.write("".join(tail).encode())
    f.write(b"</sheetData></worksheet>")
    return rownum


def write_workbook(path: str | Path, sheets: Sequence[Sheet], *,
                   chunk_rows: int = _CHUNK_ROWS) -> None:
    """Write ``sheets`` (the first is the active one) to ``path``."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    names = [s.name for s in sheets]
    _check_names(names)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    k = len(sheets)
    rels = (_XML_DECL + f'<Relationships xmlns="{_NS_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>")
    wb = (_XML_DECL + f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>'
          + "".join(f'<sheet name="{_esc_attr(n)}" sheetId="{i}" r:id="rId{i}"/>'
                    for i, n in enumerate(names, 1))
          + "</sheets></workbook>")
    wbrels = (_XML_DECL + f'<Relationships xmlns="{_NS_PKG_REL}">'
              + "".join(f'<Relationship Id="rId{i}" Type="{_NS_REL}/worksheet" '
                        f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, k + 1))
              + f'<Relationship Id="rId{k + 1}" Type="{_NS_REL}/styles" Target="styles.xml"/>'
              "</Relationships>")
    tmp = path.with_name(path.name + ".part")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            z.writestr(_member("[Content_Types].xml"), _content_types(k))
            z.writestr(_member("_rels/.rels"), rels)
            z.writestr(_member("xl/workbook.xml"), wb)
            z.writestr(_member("xl/_rels/workbook.xml.rels"), wbrels)
            z.writestr(_member("xl/styles.xml"), _STYLES)
            for i, sheet in enumerate(sheets, 1):
                with z.open(_member(f"xl/worksheets/sheet{i}.xml"), "w", force_zip64=True) as f:
                    _sheet_xml(f, sheet, chunk_rows)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_xlsx(path: str | Path, data: pd.DataFrame | None = None, *,
               raw_rows: Sequence[Sequence[Any]] = (),
               header: Sequence[str] | None = None,
               column_kinds: Mapping[str, ColumnKind] | None = None,
               sheet_name: str = "Лист1",
               extra_sheets: Sequence[Sheet] = (),
               trailing_empty_rows: int = 0,
               chunk_rows: int = _CHUNK_ROWS) -> None:
    """Write one data sheet (raw rows, header, DataFrame) plus optional extra sheets.

    ``column_kinds`` maps column name → ``n``/``s``/``auto``; unlisted columns are numeric
    if their dtype is numeric, else text. Missing values (None, NaN, NA) become empty
    cells. ``trailing_empty_rows`` appends rows whose cells hold empty strings.
    """
    main = Sheet(sheet_name, raw_rows=raw_rows, data=data, header=header,
                 column_kinds=dict(column_kinds or {}), trailing_empty_rows=trailing_empty_rows)
    write_workbook(path, [main, *extra_sheets], chunk_rows=chunk_rows)
