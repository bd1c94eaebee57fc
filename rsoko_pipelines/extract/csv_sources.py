"""CSV extracts: schools registry, ГИА result sheets (ege/oge), olympiad, literacy.

Decoding is done in Python (strict, per the source's contract); the decoded text is parsed
by ``pyarrow.csv`` with every column as text, then cast column by column with pyarrow
compute. One record = one line (quoted line breaks are not part of the contract), so
``_source_line`` is exact: blank lines are parsed as all-empty rows and dropped afterwards.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from rsoko_pipelines.extract.cells import check_letters, check_title_words
from rsoko_pipelines.extract.csv_shape import (cells, repeated_header, split_line,
                                               values_without_header, with_trailing_delimiter)
from rsoko_pipelines.extract.common import (assemble, cast_column, clean_title, constant,
                                            decode_bytes, map_headers, slice_of)
from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.personal import derive_from_personal
from rsoko_pipelines.extract.schemas import SourceSpec, normalize_header

_GIA_TITLE = re.compile(
    r"^(?P<code>\d{2,3})\s*[-\u2013\u2014]\s*(?P<name>.+?)\s+(?P<date>\d{4}\.\d{1,2}\.\d{1,2})$")
_GIA_TITLE_LOOSE = re.compile(   # the code typed with look-alike letters ('O1' for '01')
    r"^(?P<code>\w{2,3})\s*[-\u2013\u2014]\s*(?P<name>.+?)\s+(?P<date>\d{4}\.\d{1,2}\.\d{1,2})$")


def parse_csv_source(data: bytes, spec: SourceSpec, name: str, academic_year: int,
                     file_id: str, pseudonymizer, warnings: list[str]):
    """Returns (tables, slice, rows)."""
    text = decode_bytes(data, spec, name, warnings)
    if "\r" in text and "\n" not in text:   # old Mac line ends (CR only): same lines
        text = text.replace("\r", "\n")
    delimiter = spec.get("delimiter", ";")
    pos, line_no = 0, 1
    title = None
    if spec.get("title_line"):
        first, pos = split_line(text, 0)
        title = _parse_gia_title(first, name, academic_year, warnings)
        line_no = 2
    header_line, body_start = split_line(text, pos)
    header_line_no = line_no
    headers = cells(header_line, delimiter)
    if not any(h.strip() for h in headers):
        raise ExtractError("header", f"{name}: line {header_line_no} (the header) is empty",
                           rows=[header_line_no], hint="export the extract with its header row")
    if len(headers) == 1 and ";" not in header_line and ("," in header_line or "\t" in header_line):
        raise ExtractError("header", f"{name}: line {header_line_no} is not separated by ';'",
                           rows=[header_line_no], hint="save the file as CSV with ';' as the "
                           "separator")
    found, _ignored = map_headers(headers, spec, name, f"the header (line {header_line_no})",
                                  warnings)
    first_body_line = header_line_no + 1

    body = text[body_start:]
    footers = spec.get("footer_first_cells") or []
    if footers:
        body = _strip_footers(body, footers, delimiter, name, first_body_line, warnings)
    if not body.strip(" \t\r\n;"):
        raise ExtractError("header_only", f"{name}: the file has a header but no data rows",
                           hint="re-export the extract with its data rows")

    headers = with_trailing_delimiter(headers, body, delimiter)
    ncols = len(headers)
    names = [f"c{i}" for i in range(ncols)]
    try:
        raw = pacsv.read_csv(
            pa.py_buffer(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"',
                                             double_quote=True, newlines_in_values=False,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:
        # pyarrow's message quotes the row (possibly names): report line numbers only
        bad = _bad_shape_lines(body, delimiter, ncols, first_body_line)
        raise ExtractError(
            "row_shape", f"{name}: {len(bad) or 'some'} line(s) do not have the {ncols} "
            f"fields of the header", rows=bad or None,
            hint="check the separator ';' and quoting on the listed lines (a ';' inside a "
                 "value must be quoted) and export again") from None

    n_all = raw.num_rows
    lines_all = np.arange(first_body_line, first_body_line + n_all, dtype=np.int64)
    # all-empty rows (blank lines or only separators) carry nothing: drop them
    nonempty = None
    unnamed_values = []
    for i, n in enumerate(names):
        ne = pc.not_equal(pc.utf8_trim_whitespace(raw.column(n)), "")
        nonempty = ne if nonempty is None else pc.or_(nonempty, ne)
        if not normalize_header(headers[i]) and n_all and pc.any(ne).as_py():
            unnamed_values.append(i)
    keep = nonempty.to_numpy(zero_copy_only=False) if n_all else np.zeros(0, bool)
    if unnamed_values:
        values_without_header(raw, names, unnamed_values, lines_all, name)
    repeated_header(raw, names, headers, lines_all, name)
    if not keep.all():
        empty_idx = np.flatnonzero(~keep)
        last_data = np.flatnonzero(keep)
        inner = empty_idx[empty_idx < last_data[-1]] if len(last_data) else empty_idx[:0]
        if len(inner):
            warnings.append(f"{name}: {len(inner)} empty line(s) inside the data were skipped "
                            f"(lines {', '.join(map(str, lines_all[inner][:10].tolist()))})")
        raw = raw.filter(pa.array(keep))
        lines_all = lines_all[keep]
    n = raw.num_rows
    if n == 0:
        raise ExtractError("header_only", f"{name}: the file has a header but no data rows",
                           hint="re-export the extract with its data rows")

    cols: dict[str, pa.Array] = {}
    for col in spec.file_columns:
        if col.name not in found or col.personal:
            continue
        arr = raw.column(names[found[col.name]]).combine_chunks()
        cols[col.name] = cast_column(arr, col, lines_all, name, str(headers[found[col.name]]))

    def read_personal(column: str):
        if column not in found:
            return None
        return (raw.column(names[found[column]]).combine_chunks(),
                str(headers[found[column]]).strip())

    cols.update(derive_from_personal(spec, read_personal, lines_all, name, pseudonymizer,
                                     warnings))
    del raw

    cols["_file_id"] = constant(file_id, n, pa.string())
    cols["_source_line"] = pa.array(lines_all, type=pa.int32())
    cols["academic_year"] = constant(academic_year, n, pa.int32())
    table_name = spec.main_table
    if title is not None:
        cols["source_subject_code"] = constant(title["code"], n, pa.string())
        cols["subject_name"] = constant(title["name"], n, pa.string())
        cols["exam_date"] = constant(title["date"], n, pa.date32())
        if spec.source == "ege" and "test_score" not in found and title["code"] != "22":
            warnings.append(f"{name}: ЕГЭ subject {title['code']} has no 'Балл' column (only "
                            "'Оценка'); only Математика базовая (22) is expected to")
    table = assemble(spec.tables[table_name].schema, cols, n)

    slice_ = slice_of(spec, table, academic_year)
    return {table_name: table}, slice_, n


def _parse_gia_title(line: str, name: str, academic_year: int, warnings: list[str]) -> dict:
    title = clean_title(line)
    m = _GIA_TITLE.match(title)
    hint = ("re-export the sheet from РИС ГИА with its title line "
            "'<code> - <subject> <YYYY.MM.DD>' as line 1 (e.g. '01 - Русский язык 2025.06.03')")
    if not m:
        if (loose := _GIA_TITLE_LOOSE.match(title)) is not None:
            check_letters(pa.array([loose["code"]]), "digits", np.array([1]), name,
                          "line 1 (title): subject code")
        raise ExtractError("title", f"{name}: line 1 is not a title "
                           "'<code> - <name> <YYYY.MM.DD>'", rows=[1], hint=hint)
    check_title_words(m["name"], name, 1, "line 1 (title): subject name")
    try:
        y, mo, d = (int(x) for x in m["date"].split("."))
        exam_date = date(y, mo, d)
    except ValueError:
        raise ExtractError("title", f"{name}: line 1 has an impossible exam date "
                           f"{m['date']!r}", rows=[1], hint=hint) from None
    _check_exam_date(exam_date, name, academic_year)
    return {"code": m["code"], "name": re.sub(r"\s+", " ", m["name"]).strip(),
            "date": exam_date}


def _check_exam_date(exam_date: date, name: str, academic_year: int) -> None:
    """A date in the future cannot carry results; a date outside the folder's academic year
    (1 September of the year before to 31 October, re-takes included) means the file sits
    in the wrong year folder — loading it there would file its results under another year."""
    today = date.today()
    if exam_date > today:
        raise ExtractError(
            "exam_date_future", f"{name}: line 1 gives the exam date {exam_date.isoformat()}, "
            f"which is in the future (today is {today.isoformat()})", rows=[1],
            columns=["line 1 (title): exam date"],
            hint="results of an exam that has not taken place cannot exist: check the exam "
                 "date in РИС ГИА and export the sheet again")
    if not (date(academic_year - 1, 9, 1) <= exam_date <= date(academic_year, 10, 31)):
        right = exam_date.year if exam_date.month <= 10 else exam_date.year + 1
        source = name.split("/", 1)[0]
        raise ExtractError(
            "title_year", f"{name}: line 1 gives the exam date {exam_date.isoformat()}, outside "
            f"academic year {academic_year - 1}/{academic_year % 100:02d} of the folder "
            f"{academic_year}", rows=[1], columns=["line 1 (title): exam date"],
            hint=f"move the file to <inbox>/{source}/{right}/ (the folder is the year the "
                 "academic year ends), or correct the date in РИС ГИА and export again")


def _first_cell_key(line: str, delimiter: str) -> str:
    cell = line.split(delimiter, 1)[0]
    return normalize_header(cell.strip().strip('"'))


def _strip_footers(body: str, footers: list[str], delimiter: str, name: str,
                   first_body_line: int, warnings: list[str]) -> str:
    """Remove up to three footer rows at the end (after trailing blank lines); a footer-like
    row anywhere else is an error."""
    keys = {normalize_header(f) for f in footers}
    end = len(body)
    removed = 0
    while True:
        stripped_end = len(body[:end].rstrip(" \t\r\n"))
        if stripped_end == 0:
            end = 0
            break
        start = body.rfind("\n", 0, stripped_end) + 1
        line = body[start:stripped_end]
        if not line.strip(" \t;\""):
            end = start
            continue
        if _first_cell_key(line, delimiter) in keys and removed < len(keys):
            removed += 1
            end = start
            continue
        break
    kept = body[:end]
    alternatives = "|".join(re.escape(f) for f in footers)
    pattern = re.compile(rf'(?im)^[ \t"]*(?:{alternatives})[ \t"]*(?:{re.escape(delimiter)}|\r?$)')
    m = pattern.search(kept)
    if m:
        bad = []
        for m in pattern.finditer(kept):
            bad.append(first_body_line + kept.count("\n", 0, m.start()))
            if len(bad) >= 50:
                break
        raise ExtractError(
            "footer", f"{name}: footer row(s) ('Средние' / 'Минимальная граница' / 'Всего "
            "участников') found among the participant rows, not at the end of the file",
            rows=bad, hint="the sheet looks like several exports glued together; export the "
                           "sheet again as one piece")
    return kept


def _bad_shape_lines(body: str, delimiter: str, ncols: int, first_line: int) -> list[int]:
    bad = []
    reader = csv.reader(io.StringIO(body), delimiter=delimiter, quotechar='"')
    for row in reader:
        if row and len(row) != ncols and any(c.strip() for c in row):
            bad.append(first_line + reader.line_num - 1)
            if len(bad) >= 50:
                break
    return bad
