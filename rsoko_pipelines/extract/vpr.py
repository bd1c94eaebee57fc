"""ВПР / РПР / НИКО «Индивидуальные результаты» (XLSX, ФИС ОКО layout), read with python-calamine.

Only the first sheet is read. Rows 1–4: title, max primary score, task levels, header.
Codes: a text cell is kept as is; a numeric cell in a code column is a contract issue:
``fis_login`` (always 'sch…') → error ``code_as_number``; ``participant_code`` → kept as the
integer text with a warning (leading zeros, if there were any, cannot be recovered).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.cells import (check_formulas, check_length, check_text,
                                           check_title_words)
from rsoko_pipelines.extract.common import assemble, constant, map_headers, slice_of
from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.schemas import SourceSpec, normalize_header
from rsoko_pipelines.extract.xlsx_book import check_formula_cells
from rsoko_pipelines.extract.personal import derive_from_personal
from rsoko_pipelines.extract.xlsx_table import (cells_to_text, num_text, number_cells_verdict,
                                                open_first_sheet, read_column)

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
        if (source != spec.source and other and not raw.get("title_pattern")
                and _title_re(other).match(title)):
            return other, source
    return None, None


def _first_text(row: list) -> str:
    for cell in row:
        if isinstance(cell, str) and cell.strip():
            return re.sub(r"\s+", " ", cell.replace("\xa0", " ")).strip()
        if cell not in ("", None):
            return str(cell)
    return ""


def _title(spec: SourceSpec, name: str, academic_year: int, row: str) -> dict:
    """Row 1 parsed by the map's ``title_pattern`` (named groups: year, subject, grade …);
    default: '<procedure_title> <year> <subject> <grade> класс' (ВПР, РПР, НИКО)."""
    procedure = spec.get("procedure_title")
    pattern = spec.get("title_pattern")
    m = (re.compile(pattern, re.I) if pattern else _title_re(procedure)).match(row)
    example = spec.get("title_example") or f"{procedure} 2025 Русский язык 4 класс"
    if not m:
        other, other_source = _other_procedure(row, spec) if not pattern else (None, None)
        raise ExtractError(
            "title", f"{name}: row 1 is not a title '"
            + (spec.get("title_format") or f"{procedure} <year> <subject> <grade> класс") + "'"
            + (f" (it is a {other} file in the {spec.source} folder)" if other else ""),
            rows=[1],
            hint=(f"move the file to the {other_source} folder"
                  if other else "export the form unchanged: its row 1 holds the title, "
                  f"e.g. '{example}'"))
    year = int(m["year"])
    # ВПР titles carry the academic year; a diagnostic run in the autumn carries the calendar
    # year, the year before the academic year ends (title_year: academic | academic_or_before)
    allowed = {academic_year} if spec.get("title_year", "academic") == "academic" \
        else {academic_year, academic_year - 1}
    if year not in allowed:
        right = year if len(allowed) == 1 else year + 1
        raise ExtractError("title_year", f"{name}: the title says "
                           f"{procedure + ' ' if procedure else ''}{year} but the file is in the "
                           f"{academic_year} folder", rows=[1],
                           hint=f"move the file to <inbox>/{spec.source}/{right}/ (the folder is "
                                "the year the academic year ends)")
    subject = re.sub(r"\s+", " ", m["subject"]).strip()
    check_title_words(subject, name, 1, "row 1 (title): subject")
    groups = m.groupdict()
    return {"procedure": procedure, "year": year, "subject": subject,
            "grade": int(groups["grade"]) if groups.get("grade") else None}


_TITLE_FIELDS = {"procedure": "procedure", "subject_name": "subject", "grade": "grade",
                 "max_primary_score": "max_score"}   # ВПР defaults when `from` is not given


def parse_vpr_source(path, data: bytes, spec: SourceSpec, name: str, academic_year: int,
                     file_id: str, warnings: list[str], pseudonymizer=None):
    """The ФИС ОКО form layout, driven by the column map: title (row 1), max score (row 2),
    level/block row (3), header (``header_row``, 4), one row per participant, task columns
    ``<label> (<max>б)`` (``task_header``; a column is a task column when its header matches
    ``task_column_start``). ВПР, РПР, НИКО and the diagnostics of professional deficits."""
    rows = open_first_sheet(data, name, warnings, "export the form from ФИС ОКО again")
    header_row = int(spec.get("header_row", HEADER_ROW))
    title = _title(spec, name, academic_year, _first_text(rows[0]))
    max_re = re.compile(spec.get("max_score_pattern"), re.I) if spec.get("max_score_pattern") \
        else _MAX_RE
    max_label = spec.get("max_score_label", "Максимальный первичный балл")
    if len(rows) < 2 or not (mm := max_re.search(_first_text(rows[1]))):
        raise ExtractError("max_score", f"{name}: row 2 is not '{max_label}: <n>'", rows=[2],
                           hint=f"export the form unchanged ({header_row} header rows)")
    title["max_score"] = max_primary = int(mm.group(1))
    subject, grade = title["subject"], title["grade"]
    if len(rows) < header_row:
        raise ExtractError("header", f"{name}: the sheet has fewer than {header_row} rows (no "
                           "header)", hint=f"export the form unchanged ({header_row} header rows)")
    levels_row, header = rows[header_row - 2], rows[header_row - 1]
    width = len(header)
    task_start = re.compile(spec.get("task_column_start", r"^\d"))

    task_re = re.compile(spec.get("task_header"))
    task_pos, tasks, bad_tasks = [], [], []
    for i, h in enumerate(header):
        text = re.sub(r"\s+", " ", str(h).replace("\xa0", " ")).strip() if h not in ("", None) \
            else ""
        if isinstance(h, float):
            text = num_text(h)
        if not text or not task_start.search(text):
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
                           rows=[header_row], columns=bad_tasks,
                           hint="export the form unchanged: task headers look like '1 (2б)'")
    if not tasks:
        raise ExtractError("task_header", f"{name}: the header (row {header_row}) has no task "
                           "columns '<task> (<max>б)'", rows=[header_row],
                           hint="export the form unchanged with its task columns")
    found, _ = map_headers(header, spec, name, f"the header (row {header_row})", warnings,
                           exclude_index=frozenset(task_pos))
    check_formula_cells(data, header, name, warnings)
    allowed = set(spec.get("task_levels") or ())
    odd_levels = sorted({t["task_level"] or "" for t in tasks} - allowed)
    if odd_levels:
        warnings.append(f"{name}: task level(s) {odd_levels} in row {header_row - 1} are not "
                        f"one of {sorted(allowed)}")
    total_max = sum(t["max_points"] for t in tasks)
    if total_max != max_primary:
        warnings.append(f"{name}: the task maxima sum to {total_max} but row 2 declares "
                        f"{max_primary}")

    data_rows = rows[header_row:]
    # pad short rows, find empty rows (trailing ones are dropped silently)
    empty = np.fromiter(((r.count("") + r.count(None)) >= len(r) for r in data_rows),
                        dtype=bool, count=len(data_rows))
    nonempty_idx = np.flatnonzero(~empty)
    if len(nonempty_idx) == 0:
        raise ExtractError("header_only", f"{name}: the sheet has its {header_row} header rows "
                           "but no data rows", hint="export the form again with its results")
    inner_empty = np.flatnonzero(empty[: nonempty_idx[-1]])
    if len(inner_empty):
        warnings.append(f"{name}: {len(inner_empty)} empty row(s) inside the data were skipped "
                        f"(rows {', '.join(str(header_row + 1 + i) for i in inner_empty[:10])})")
    if len(inner_empty) or len(nonempty_idx) != len(data_rows):
        data_rows = [data_rows[i] for i in nonempty_idx]
    lines = (nonempty_idx + header_row + 1).astype(np.int64)
    n = len(data_rows)
    if any(len(r) != width for r in data_rows):
        data_rows = [r + [""] * (width - len(r)) if len(r) < width else r for r in data_rows]
    columns = list(zip(*data_rows))
    del data_rows

    cols: dict[str, pa.Array] = {}
    for col in spec.file_columns:
        if col.name not in found or col.personal:
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
        else:                                   # dates, decimals: the CSV casts
            cols[col.name] = read_column(values, col, lines, name, h, warnings)

    def read_personal(column: str):
        if column not in found:
            return None
        col = next(c for c in spec.columns if c.name == column)
        h = str(header[found[column]]).strip()
        return cells_to_text(columns[found[column]], col, lines, name, h, warnings), h

    cols.update(derive_from_personal(spec, read_personal, lines, name, pseudonymizer,
                                     warnings))
    task_columns = [columns[i] for i in task_pos]
    scores = next(c.name for c in spec.columns if c.derived == "task_columns")
    cols[scores] = _task_scores(task_columns, n, lines, name, warnings,
                                [t["source_header"] for t in tasks])
    _check_task_points(cols[scores], tasks, cols.get("primary_score"), lines, name, warnings,
                       float(spec.get("task_points_sum_tolerance", 0.0)))

    cols["_file_id"] = constant(file_id, n, pa.string())
    cols["_source_line"] = pa.array(lines, type=pa.int32())
    cols["academic_year"] = constant(academic_year, n, pa.int32())
    for col in spec.columns:                     # title fields (row 1, row 2)
        if col.derived == "title":
            value = title[col.inputs[0] if col.inputs else _TITLE_FIELDS[col.name]]
            cols[col.name] = constant(value, n, col.arrow_type)
    main = assemble(spec.tables[spec.source].schema, cols, n)

    k = len(tasks)
    task_values = {"order": pa.array(range(1, k + 1), pa.int32()),
                   "label": pa.array([t["task"] for t in tasks], pa.string()),
                   "max": pa.array([t["max_points"] for t in tasks], pa.int32()),
                   "level": pa.array([t["task_level"] for t in tasks], pa.string()),
                   "header": pa.array([t["source_header"] for t in tasks], pa.string())}
    task_cols = {"_file_id": constant(file_id, k, pa.string()),
                 "_source_line": constant(header_row, k, pa.int32()),
                 "academic_year": constant(academic_year, k, pa.int32())}
    for raw_col in spec.raw.get("task_columns", ()):
        what = raw_col.get("from") or _TASK_FIELDS[raw_col["name"]]
        if what.startswith("title."):
            task_cols[raw_col["name"]] = constant(title[what[6:]], k,
                                                  pa.int32() if raw_col["type"] == "integer"
                                                  else pa.string())
        else:
            task_cols[raw_col["name"]] = task_values[what]
    tasks_name = spec.get("tasks_table") or f"{spec.source}_tasks"
    tasks_table = assemble(spec.tables[tasks_name].schema, task_cols, k)
    if "scope" not in (spec.get("slice") or ()):
        return ({spec.source: main, tasks_name: tasks_table},
                slice_of(spec, main, academic_year), n)

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


# ВПР defaults of the companion table's columns when `from` is not given
_TASK_FIELDS = {"subject_name": "title.subject", "grade": "title.grade", "task_order": "order",
                "task": "label", "max_points": "max", "task_level": "level",
                "source_header": "header"}


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
            out.append(num_text(v))
        else:  # bool, datetime …
            numeric.append(i)
            out.append(str(v))
    if numeric:
        # ВПР maps set no pad_digits: number cells stay whole-number text
        number_cells_verdict(lines[numeric].tolist(), col, name, header, warnings)
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


def _check_task_points(task_scores: pa.ListArray, tasks: list[dict], primary: pa.Array | None,
                       lines: np.ndarray, name: str, warnings: list[str],
                       tolerance: float) -> None:
    """Task points against the form's own header and primary score (vectorised).

    - a cell above its column's maximum `<task> (<max>б)` is a score outside its range: the
      contract quarantines the file (extracts.md, «What a bad extract gets»);
    - the points of a work (X = 0; '-', empty and text excluded) add up to its primary score —
      the definition of the primary score, not a line of the contract: more than `tolerance`
      (share of works, `task_points_sum_tolerance` in the column map) disagreeing means the
      file or its export is broken (quarantine); fewer are listed as a warning."""
    n, k = len(task_scores), len(tasks)
    if not n or not k:
        return
    flat = task_scores.values
    numeric = pc.if_else(pc.equal(flat, "X"), "0", flat)
    ok = pc.fill_null(pc.match_substring_regex(numeric, r"^\d+(\.\d+)?$"), False)
    values = pc.cast(pc.if_else(ok, numeric, pa.scalar(None, pa.string())), pa.float64())
    points = values.to_numpy(zero_copy_only=False).astype(np.float64).reshape(n, k)
    maxima = np.array([t["max_points"] for t in tasks], dtype=np.float64)
    above = np.nan_to_num(points, nan=-1.0) > maxima[None, :]
    if above.any():
        rows, task_idx = np.nonzero(above)
        headers = [tasks[j]["source_header"] for j in sorted(set(task_idx.tolist()))]
        raise ExtractError(
            "task_points_above_max", f"{name}: {int(above.sum())} task cell(s) hold more points "
            "than the maximum in their column header '<task> (<max>б)'",
            rows=lines[sorted(set(rows.tolist()))].tolist(), columns=headers[:10],
            hint="a score outside its range: correct the listed cells in ФИС ОКО (or the "
                 "column header's maximum) and export the form again")
    if primary is None:
        return
    declared = pc.cast(primary, pa.float64()).to_numpy(zero_copy_only=False)
    sums = np.nansum(points, axis=1)
    bad = np.flatnonzero(~np.isnan(declared) & (np.abs(sums - declared) > 1e-9))
    if not len(bad):
        return
    message = (f"{name}: the task points of {len(bad)} of {n} work(s) do not add up to their "
               "'Первичный балл' (X = 0; '-' and empty cells not counted)")
    if len(bad) > tolerance * n:
        raise ExtractError(
            "task_points_sum", message + f"; more than {tolerance:.0%} of the works disagree",
            rows=lines[bad].tolist(), columns=["Первичный балл"] + [t["source_header"]
                                                                   for t in tasks][:9],
            hint="the form looks broken (columns shifted or scores edited by hand): export it "
                 "again from ФИС ОКО unchanged; if it is right as it is, ask the ФИС ОКО "
                 "operator (РЦОИ) why the task points and the primary scores disagree")
    warnings.append(message + " (rows " + ", ".join(map(str, lines[bad][:10].tolist()))
                    + "); kept, listed by the dbt check assert_vpr_task_points_sum_to_primary_score")

