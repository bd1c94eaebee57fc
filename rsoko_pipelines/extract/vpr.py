"""ВПР / РПР / НИКО «Индивидуальные результаты» (XLSX, ФИС ОКО layout), read with
python-calamine.

Only the first sheet is read. Rows 1–4: title, max primary score, task levels, header.
Codes: a text cell is kept as is; a numeric cell in a code column is a contract issue:
``fis_login`` (always 'sch…') → error ``code_as_number``; ``participant_code`` → kept as the
integer text with a warning (leading zeros, if there were any, cannot be recovered).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.cells import (check_formulas, check_length, check_text,
                                           check_title_words)
from rsoko_pipelines.extract.common import assemble, constant, map_headers
from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.schemas import SourceSpec, normalize_header
from rsoko_pipelines.extract.xlsx_book import check_formula_cells
from rsoko_pipelines.extract.xlsx_table import open_first_sheet

HEADER_ROW = 4
_MAX_RE = re.compile(r"максимальн\w*\s+первичн\w*\s+балл\w*\s*[:\-]?\s*(\d+)", re.I)
_NO_MARK = {"нет отметки"}
_X = {"X", "x", "Х", "х"}
_DASH = {"-", "\u2013", "\u2014", "\u2212"}


def _title_re(procedure: str) -> re.Pattern:
    return re.compile(rf"^(?P<proc>{procedure})\s+(?P<year>\d{{4}})\s+(?P<subject>.+?)\s+"
                      r"(?P<grade>\d{1,2})\s*(?:класс|кл\.?)$", re.I)


def _other_procedure(title: str, spec: SourceSpec) -> tuple[str | None, str | None]:
    """(procedure, source) of another ФИС ОКО form whose title this is (a ВПР file dropped
    into the РПР or НИКО folder), or (None, None)."""
    from rsoko_pipelines.extract.schemas import column_maps

    for source, raw in column_maps()["sources"].items():
        other = raw.get("procedure_title")
        if source != spec.source and other and _title_re(other).match(title):
            return other, source
    return None, None


def _first_text(row: list) -> str:
    for cell in row:
        if isinstance(cell, str) and cell.strip():
            return re.sub(r"\s+", " ", cell.replace("\xa0", " ")).strip()
        if cell not in ("", None):
            return str(cell)
    return ""


def _num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def parse_vpr_source(path, data: bytes, spec: SourceSpec, name: str, academic_year: int,
                     file_id: str, warnings: list[str]):
    rows = open_first_sheet(data, name, warnings, "export the form from ФИС ОКО again")

    procedure = spec.get("procedure_title")
    title = _first_text(rows[0])
    m = _title_re(procedure).match(title)
    if not m:
        other, other_source = _other_procedure(title, spec)
        raise ExtractError(
            "title", f"{name}: row 1 is not a title '{procedure} <year> <subject> <grade> "
            f"класс'" + (f" (it is a {other} file in the {spec.source} folder)"
                         if other else ""), rows=[1],
            hint=(f"move the file to the {other_source} folder"
                  if other else "export the «Индивидуальные результаты» form from ФИС "
                  "ОКО unchanged: its row 1 holds the title, e.g. "
                  f"'{procedure} 2025 Русский язык 4 класс'"))
    if int(m["year"]) != academic_year:
        raise ExtractError("title_year", f"{name}: the title says {procedure} {m['year']} but "
                           f"the file is in the {academic_year} folder", rows=[1],
                           hint=f"move the file to <inbox>/{spec.source}/{m['year']}/")
    subject = re.sub(r"\s+", " ", m["subject"]).strip()
    check_title_words(subject, name, 1, "row 1 (title): subject")
    grade = int(m["grade"])
    if len(rows) < 2 or not (mm := _MAX_RE.search(_first_text(rows[1]))):
        raise ExtractError("max_score", f"{name}: row 2 is not 'Максимальный первичный балл: "
                           "<n>'", rows=[2], hint="export the form unchanged (4 header rows)")
    max_primary = int(mm.group(1))
    if len(rows) < HEADER_ROW:
        raise ExtractError("header", f"{name}: the sheet has fewer than 4 rows (no header)",
                           hint="export the form unchanged (4 header rows)")
    levels_row, header = rows[2], rows[HEADER_ROW - 1]
    width = len(header)

    task_re = re.compile(spec.get("task_header"))
    task_pos, tasks, bad_tasks = [], [], []
    for i, h in enumerate(header):
        text = re.sub(r"\s+", " ", str(h).replace("\xa0", " ")).strip() if h not in ("", None) \
            else ""
        if isinstance(h, float):
            text = _num_text(h)
        if not text or not text[0].isdigit():
            continue
        tm = task_re.match(text)
        if not tm:
            bad_tasks.append(text)
            continue
        level = levels_row[i] if i < len(levels_row) else ""
        level = str(level).strip() if level not in (None, "") else None
        task_pos.append(i)
        tasks.append({"task": tm["task"], "max_points": int(tm["max"]), "task_level": level,
                      "source_header": text})
    if bad_tasks:
        raise ExtractError("task_header", f"{name}: task column header(s) without the max "
                           f"score '<task> (<max>б)': {', '.join(repr(b) for b in bad_tasks)}",
                           rows=[HEADER_ROW], columns=bad_tasks,
                           hint="export the form unchanged: task headers look like '1 (2б)'")
    if not tasks:
        raise ExtractError("task_header", f"{name}: the header (row 4) has no task columns "
                           "'<task> (<max>б)'", rows=[HEADER_ROW],
                           hint="export the form unchanged with its task columns")
    found, _ = map_headers(header, spec, name, "the header (row 4)", warnings,
                           exclude_index=frozenset(task_pos))
    check_formula_cells(data, header, name, warnings)
    allowed = set(spec.get("task_levels") or ())
    odd_levels = sorted({t["task_level"] or "" for t in tasks} - allowed)
    if odd_levels:
        warnings.append(f"{name}: task level(s) {odd_levels} in row 3 are not one of "
                        f"{sorted(allowed)}")
    total_max = sum(t["max_points"] for t in tasks)
    if total_max != max_primary:
        warnings.append(f"{name}: the task maxima sum to {total_max} but row 2 declares "
                        f"{max_primary}")

    data_rows = rows[HEADER_ROW:]
    # pad short rows, find empty rows (trailing ones are dropped silently)
    empty = np.fromiter(((r.count("") + r.count(None)) >= len(r) for r in data_rows),
                        dtype=bool, count=len(data_rows))
    nonempty_idx = np.flatnonzero(~empty)
    if len(nonempty_idx) == 0:
        raise ExtractError("header_only", f"{name}: the sheet has its 4 header rows but no "
                           "data rows", hint="export the form again with its results")
    inner_empty = np.flatnonzero(empty[: nonempty_idx[-1]])
    if len(inner_empty):
        warnings.append(f"{name}: {len(inner_empty)} empty row(s) inside the data were skipped "
                        f"(rows {', '.join(str(HEADER_ROW + 1 + i) for i in inner_empty[:10])})")
    if len(inner_empty) or len(nonempty_idx) != len(data_rows):
        data_rows = [data_rows[i] for i in nonempty_idx]
    lines = (nonempty_idx + HEADER_ROW + 1).astype(np.int64)
    n = len(data_rows)
    if any(len(r) != width for r in data_rows):
        data_rows = [r + [""] * (width - len(r)) if len(r) < width else r for r in data_rows]
    columns = list(zip(*data_rows))
    del data_rows

    cols: dict[str, pa.Array] = {}
    for col in spec.file_columns:
        if col.name not in found:
            continue
        values = columns[found[col.name]]
        h = str(header[found[col.name]]).strip()
        if col.name == "journal_mark":
            cols["journal_mark"], cols["journal_mark_raw"] = _journal(values, lines, name, h,
                                                                      warnings)
            check_length(cols["journal_mark_raw"], lines, name, h)
            check_formulas(cols["journal_mark_raw"], lines, name, h)
        elif col.type == "varchar":
            cols[col.name] = _text_column(values, col, lines, name, h, warnings)
        elif col.type == "integer":
            cols[col.name] = _int_column(values, lines, name, h)
    cols["task_scores"] = _task_scores([columns[i] for i in task_pos], n, lines, name, warnings,
                                       [t["source_header"] for t in tasks])

    cols["_file_id"] = constant(file_id, n, pa.string())
    cols["_source_line"] = pa.array(lines, type=pa.int32())
    cols["academic_year"] = constant(academic_year, n, pa.int32())
    cols["procedure"] = constant(procedure, n, pa.string())
    cols["subject_name"] = constant(subject, n, pa.string())
    cols["grade"] = constant(grade, n, pa.int32())
    cols["max_primary_score"] = constant(max_primary, n, pa.int32())
    main = assemble(spec.tables[spec.source].schema, cols, n)

    k = len(tasks)
    task_cols = {
        "_file_id": constant(file_id, k, pa.string()),
        "_source_line": constant(HEADER_ROW, k, pa.int32()),
        "academic_year": constant(academic_year, k, pa.int32()),
        "subject_name": constant(subject, k, pa.string()),
        "grade": constant(grade, k, pa.int32()),
        "task_order": pa.array(range(1, k + 1), pa.int32()),
        "task": pa.array([t["task"] for t in tasks], pa.string()),
        "max_points": pa.array([t["max_points"] for t in tasks], pa.int32()),
        "task_level": pa.array([t["task_level"] for t in tasks], pa.string()),
        "source_header": pa.array([t["source_header"] for t in tasks], pa.string()),
    }
    tasks_name = f"{spec.source}_tasks"
    tasks_table = assemble(spec.tables[tasks_name].schema, task_cols, k)

    logins = [v for v in pc.unique(main["fis_login"]).to_pylist() if v]
    msus = [v for v in pc.unique(main["msu_name"]).to_pylist() if v]
    if len(logins) == 1:
        scope, scope_id = "school", logins[0]
    elif len(msus) == 1:
        scope, scope_id = "msu", msus[0]
    else:
        scope, scope_id = "region", None
    slice_ = {"academic_year": academic_year, "subject_name": subject, "grade": grade,
              "scope": scope, "scope_id": scope_id}
    return {spec.source: main, tasks_name: tasks_table}, slice_, n


def _text_column(values, col, lines, name, header, warnings) -> pa.Array:
    arr = _plain_text_column(values, col, lines, name, header, warnings)
    check_text(arr, col, lines, name, header)   # formulas, over-long cells, look-alikes
    return arr


def _plain_text_column(values, col, lines, name, header, warnings) -> pa.Array:
    if set(map(type, values)) <= {str}:      # the usual case: all text
        arr = pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    out = []
    numeric = []
    for i, v in enumerate(values):
        if isinstance(v, str):
            v = v.strip()
            out.append(v or None)
        elif v is None:
            out.append(None)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            numeric.append(i)
            out.append(_num_text(v))
        else:  # bool, datetime …
            numeric.append(i)
            out.append(str(v))
    if numeric:
        bad_lines = lines[numeric].tolist()
        if col.code and col.numeric_cells == "warn":
            warnings.append(f"{name}: column {header!r} holds {len(numeric)} number cell(s) "
                            "instead of text; kept as whole-number text (leading zeros, if "
                            f"any, are lost) (rows {', '.join(map(str, bad_lines[:10]))})")
        elif col.code:
            raise ExtractError("code_as_number", f"{name}: column {header!r} holds codes typed "
                               f"as numbers in {len(numeric)} cell(s); codes must be text",
                               rows=bad_lines, columns=[header],
                               hint="format the column as text in the export (a code such as "
                                    "'070123' typed as a number loses its leading zero)")
    return pa.array(out, type=pa.string())


def _to_int(v):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        raise ValueError
    if isinstance(v, str):
        s = v.strip().replace("\xa0", "")
        if not s:
            return None
        if s.lstrip("+-").isdigit():
            return int(s)
        f = float(s.replace(",", "."))
        if f.is_integer():
            return int(f)
    raise ValueError


def _int_column(values, lines, name, header) -> pa.Array:
    if set(map(type, values)) <= {float}:    # the usual case: all number cells
        arr = np.asarray(values, dtype=np.float64)
        if len(arr) == 0 or (np.all(arr == np.floor(arr)) and np.all(np.abs(arr) < 2**31)):
            return pa.array(arr.astype(np.int32), type=pa.int32())
    out, bad = [], []
    for i, v in enumerate(values):
        try:
            out.append(_to_int(v))
        except (ValueError, TypeError):
            out.append(None)
            bad.append(i)
    if bad:
        raise ExtractError("type", f"{name}: column {header!r} must hold whole numbers; "
                           f"{len(bad)} cell(s) do not", rows=lines[bad].tolist(),
                           columns=[header], hint="correct the listed rows and export again")
    return pa.array(out, type=pa.int32())


def _journal(values, lines, name, header, warnings):
    marks, raw, odd = [], [], []
    for i, v in enumerate(values):
        if isinstance(v, float) and v.is_integer():
            marks.append(int(v))
            raw.append(str(int(v)))
            continue
        text = (v if isinstance(v, str) else ("" if v is None else str(v))).strip()
        raw.append(text)
        if text.isdigit():
            marks.append(int(text))
        else:
            marks.append(None)
            if text and normalize_header(text) not in _NO_MARK:
                odd.append(i)
    if odd:
        warnings.append(f"{name}: column {header!r} has {len(odd)} value(s) that are neither a "
                        "mark, empty nor 'НЕТ ОТМЕТКИ'; kept in journal_mark_raw (rows "
                        f"{', '.join(map(str, lines[odd][:10].tolist()))})")
    return pa.array(marks, type=pa.int32()), pa.array(raw, type=pa.string())


def _task_cell(v):
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        if s in _X:
            return "X"
        if s in _DASH:
            return "-"
        return s.replace(",", ".")
    if v is None:
        return None
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return str(v)
    return str(v)


_TASK_OK = re.compile(r"^(\d+(\.\d+)?|X|-)$")


def _task_scores(task_columns, n, lines, name, warnings, headers) -> pa.Array:
    k = len(task_columns)
    per_column = []
    for values, header in zip(task_columns, headers):
        # few distinct cell values per column: convert each once, map the rest in C
        mapping = {u: _task_cell(u) for u in set(values)}
        cells = pa.array(list(map(mapping.__getitem__, values)), type=pa.string())
        if any(v is not None and not _TASK_OK.match(v) for v in mapping.values()):
            check_length(cells, lines, name, header)
            check_formulas(cells, lines, name, header)
        per_column.append(cells)
    # column-major → row-major (row i holds tasks 0..k-1) with one vectorised take
    order = (np.arange(n, dtype=np.int64)[:, None]
             + np.arange(k, dtype=np.int64)[None, :] * n).ravel()
    flat = pa.concat_arrays(per_column).take(pa.array(order)) if k else pa.array([], pa.string())
    ok = pc.or_kleene(pc.is_null(flat), pc.match_substring_regex(flat, _TASK_OK.pattern))
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
    if len(bad):
        rows = sorted(set((bad // k).tolist()))
        warnings.append(f"{name}: {len(bad)} task cell(s) are neither points, 'X' nor '-'; "
                        "kept as delivered (rows "
                        f"{', '.join(str(lines[r]) for r in rows[:10])})")
    offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, flat)
