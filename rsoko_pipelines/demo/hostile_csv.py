"""Hostile CSV extracts (schools, olympiad, literacy) for demo/hostile.py, and the helpers
the ГИА cases (demo/hostile_gia.py) share.

Each function takes the shared :class:`~rsoko_pipelines.demo.hostile.Ctx`, writes its file(s)
and returns the :class:`~rsoko_pipelines.demo.hostile.Case` saying what must happen and why.
"""

from __future__ import annotations

from collections import Counter

from rsoko_pipelines.demo.hostile_case import Case, Ctx
from rsoko_pipelines.demo.hostile_io import CsvDoc, expected_values

INJECTIONS = ('=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0")


def load_case(ctx: Ctx, case_id: str, doc: CsvDoc, year: int, name: str, data: bytes, origin,
              description: str, lines: list[int] | None = None) -> Case:
    """A `load` case: `data` holds the rows of `doc` (at `lines`, default: as rendered)."""
    rel = ctx.write(doc.source, year, name, data)
    lines = lines or doc.lines()
    return Case(case_id, doc.source, year, [rel], "load", description, rows=len(doc.rows),
                values=expected_values(doc.source, doc.header, doc.rows, lines),
                origin=ctx.rel(origin))


def quarantine_case(ctx: Ctx, case_id: str, source: str, year: int, name: str, data: bytes,
                    origin, description: str, check: str, message=(), lines=()) -> Case:
    rel = ctx.write(source, year, name, data)
    return Case(case_id, source, year, [rel], "quarantine", description, check=check,
                message=list(message), lines=list(lines),
                origin=ctx.rel(origin) if origin else None)


def olympiad_subset(ctx: Ctx, k: int, min_rows: int = 15) -> tuple:
    """The rows of one subject of a non-base olympiad file: subject k of those with at
    least `min_rows` rows, fewest first — each load case its own subject, so its own slice."""
    path = ctx.any("olympiad", ctx.year, index=-1)
    doc = CsvDoc.read(path, "olympiad")
    c = doc.col("Предмет")
    counts = Counter(r[c] for r in doc.rows)
    subjects = sorted((n, s) for s, n in counts.items() if n >= min_rows)
    subject = subjects[k][1]
    return path, doc.copy(rows=[r for r in doc.rows if r[c] == subject])


# ------------------------------------------------------------------ olympiad & literacy
def bom_utf8(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 1)
    return load_case(ctx, "bom_in_header", doc, ctx.year, "vsosh_bom.csv",
                     doc.render(encoding="utf-8-sig"), path, "A UTF-8 BOM before the header "
                     "(Excel's 'CSV UTF-8'): allowed for this source; the first header is still "
                     "matched and the file loads.")


def mixed_line_ends(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 2)
    lines = doc.text_lines()
    data = "".join(ln + ("\r\n" if i % 2 else "\n") for i, ln in enumerate(lines)).encode()
    return load_case(ctx, "mixed_line_ends", doc, ctx.year, "vsosh_crlf_lf.csv", data, path,
                     "CRLF and LF mixed in one file (two exports appended by hand): line ends do "
                     "not change the data; loads.")


def trailing_delimiter(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 3)
    return load_case(ctx, "trailing_delimiter", doc, ctx.year, "vsosh_trailing.csv",
                     doc.render(trailing=";"), path, "Every line, the header included, ends with "
                     "';' (1C exports do): an empty unnamed last column, ignored; loads.")


def trailing_delimiter_data_only(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 4)
    lines = doc.text_lines()
    data = "".join(ln + (";" if i else "") + "\n" for i, ln in enumerate(lines)).encode()
    return load_case(ctx, "trailing_delimiter_data_only", doc, ctx.year, "vsosh_trailing_rows.csv",
                     data, path, "The data lines but not the header end with ';': the extra field "
                     "is empty on every line, so it is an unnamed empty column; loads.")


def quoted_fields(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 5)
    return load_case(ctx, "quoted_fields", doc, ctx.year, "vsosh_quoted.csv",
                     doc.render(quote_all=True), path, "Every field in double quotes (some "
                     "exporters quote everything): standard CSV; loads with the same values.")


def many_empty_columns(ctx: Ctx) -> Case:
    path = ctx.take("literacy", ctx.prev)
    doc = CsvDoc.read(path, "literacy")
    data = doc.render(trailing=";" * 2000)
    return load_case(ctx, "many_empty_columns", doc, ctx.prev, "ФГ_лишние_столбцы.csv", data, path,
                     "2,000 empty columns after the data (a sheet saved as CSV after Ctrl+End "
                     "reached far to the right): empty, unnamed, ignored; loads.")


def mixed_encodings_utf8(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    lines = doc.text_lines()
    pasted = [3, 4, 5]
    data = b"".join(ln.encode("cp1251" if i in pasted else "utf-8") + b"\n"
                    for i, ln in enumerate(lines))
    return quarantine_case(ctx, "mixed_encodings_utf8", "olympiad", ctx.year, "vsosh_mixed.csv",
                           data, path, "Three windows-1251 lines inside a UTF-8 olympiad file: "
                           "rejected naming those lines.", "encoding", ["windows-1251"],
                           [i + 1 for i in pasted])


def long_cell(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    i = len(doc.rows) // 2
    doc.rows[i][doc.col("Предмет")] += " " + "x" * (1 << 20)
    return quarantine_case(ctx, "long_cell", "olympiad", ctx.year, "vsosh_1mb.csv", doc.render(),
                           path, "A 1 MB value in 'Предмет' (a paste gone wrong): no field is "
                           "that long; rejected naming the line rather than loading a megabyte "
                           "subject.", "cell_too_long", ["Предмет"], [doc.first_line + i])


def injection_hyperlink(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    i = len(doc.rows) // 3
    doc.rows[i][doc.col("Идентификатор участника")] = INJECTIONS[0]
    return quarantine_case(ctx, "csv_injection_hyperlink", "olympiad", ctx.year,
                           "vsosh_hyperlink.csv", doc.render(), path,
                           "=HYPERLINK(...) as a participant id: a formula that would run in "
                           "Excel; quarantined.", "formula_text", ["Идентификатор участника"],
                           [doc.first_line + i])


def injection_plus_minus(ctx: Ctx) -> Case:
    path = ctx.base_inbox / next(r for r in ctx.base if r.startswith("literacy/"))
    doc = CsvDoc.read(path, "literacy")
    i = len(doc.rows) // 2
    doc.rows[i][doc.col("Код участника")] = INJECTIONS[2]
    year = int(ctx.rel(path).split("/")[1])
    return quarantine_case(ctx, "csv_injection_minus", "literacy", year, "ФГ_инъекция.csv",
                           doc.render(), path, "A formula starting with '-' (-2+3+cmd|...) in "
                           "'Код участника': quarantined like '=' formulas. The base file of the "
                           "year stays loaded.", "formula_text", ["Код участника"],
                           [doc.first_line + i])


def mixed_separators(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    lines = doc.text_lines()
    bad = [4, 5, 9]
    text = [ln.replace(";", ",") if i in bad else ln for i, ln in enumerate(lines)]
    data = ("\n".join(text) + "\n").encode()
    return quarantine_case(ctx, "mixed_separators", "olympiad", ctx.year, "vsosh_commas.csv",
                           data, path, "Three lines separated by ',' instead of ';' (pasted from "
                           "another export): their fields cannot be told apart; rejected naming "
                           "the lines.", "row_shape", ["';'"], [i + 1 for i in bad])


def value_under_empty_header(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    lines = [ln + ";" for ln in doc.text_lines()]
    lines[6] = lines[6] + "лишнее"
    data = ("\n".join(lines) + "\n").encode()
    return quarantine_case(ctx, "value_under_empty_header", "olympiad", ctx.year,
                           "vsosh_shifted.csv", data, path, "The header ends with ';' and one line "
                           "has a value in that unnamed last column: data nobody can name would "
                           "be dropped silently; rejected naming the line.", "row_shape",
                           ["no header"], [7])


def repeated_header(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    half = len(doc.rows) // 2
    first = doc.copy(rows=doc.rows[:half]).render()
    second = doc.copy(rows=doc.rows[half:]).render(encoding="utf-8-sig")
    return quarantine_case(ctx, "repeated_header", "olympiad", ctx.year, "vsosh_glued.csv",
                           first + second, path, "Two exports glued together (the second with "
                           "its own BOM and header): the header line among the data is reported "
                           "instead of a confusing type error.", "repeated_header", ["glued"],
                           [half + 2])


def nan_score(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    i = len(doc.rows) // 4
    doc.rows[i][doc.col("Балл")] = "NaN"
    return quarantine_case(ctx, "nan_score", "olympiad", ctx.year, "vsosh_nan.csv", doc.render(),
                           path, "'NaN' as a score (a failed formula exported as text): not a "
                           "number in the contract's sense; rejected naming the line.", "type",
                           ["Балл"], [doc.first_line + i])


def one_bad_row(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    i = len(doc.rows) - 3
    doc.rows[i][doc.col("Класс обучения")] = "15"
    return quarantine_case(ctx, "one_bad_row", "olympiad", ctx.year, "vsosh_grade15.csv",
                           doc.render(), path, "Valid but for one line (grade 15): the file is "
                           "the unit of loading, so it waits in quarantine for a corrected export "
                           "rather than loading without that participant.", "olympiad.grade.range",
                           ["Класс обучения"], [doc.first_line + i])


def lookalike_school_code(ctx: Ctx) -> Case:
    path, doc = olympiad_subset(ctx, 0)
    i = len(doc.rows) // 2
    c = doc.col("Код ОО")
    doc.rows[i][c] = doc.rows[i][c].replace("0", "O")
    return quarantine_case(ctx, "lookalike_school_code", "olympiad", ctx.year, "vsosh_O.csv",
                           doc.render(), path, "A school code with Latin 'O' for zeros: looks "
                           "right, matches no school; rejected naming the letter.",
                           "lookalike_letters", ["Код ОО", "U+004F"], [doc.first_line + i])


def year_without_registry(ctx: Ctx) -> Case:
    path = ctx.any("literacy", ctx.prev)
    doc = CsvDoc.read(path, "literacy")
    doc.rows = doc.rows[:-1]          # other bytes than the file it comes from (not a duplicate)
    return load_case(ctx, "year_without_registry", doc, ctx.future, path.name, doc.render(),
                     path, f"A literacy file in the folder {ctx.future}, a year whose registry of "
                     "schools is not loaded: every source is optional in every year, the "
                     "registry too (extracts.md), so its schools are checked against the latest "
                     "registry loaded and the file loads (docs/assumptions.md, A3).")


def zero_byte(ctx: Ctx) -> Case:
    return quarantine_case(ctx, "zero_byte", "literacy", ctx.year, "ФГ_пустой.csv", b"", None,
                           "A zero-byte file (an export that failed): rejected as empty.",
                           "empty_file", ["empty"])


def schools_lookalike(ctx: Ctx) -> Case:
    path = ctx.base_inbox / next(r for r in ctx.base if r.startswith(f"schools/{ctx.year}/"))
    doc = CsvDoc.read(path, "schools")
    i = len(doc.rows) // 2
    c = doc.col("Код ОО")
    doc.rows[i][c] = doc.rows[i][c].replace("0", "О")          # Cyrillic О
    return quarantine_case(ctx, "schools_lookalike", "schools", ctx.year, "реестр_исправленный.csv",
                           doc.render(), path, "A corrected registry whose one school code has "
                           "a Cyrillic 'О' for a zero: rejected; the registry loaded before stays "
                           "in force. Its failed blocking check holds back the year's result "
                           "sources in the same run (they may reference the new registry), so "
                           "drop it in a run of its own.", "lookalike_letters",
                           ["Код ОО", "U+041E"], [doc.first_line + i])


CASES = (bom_utf8, mixed_encodings_utf8, mixed_line_ends, trailing_delimiter,
         trailing_delimiter_data_only, quoted_fields, many_empty_columns, long_cell,
         injection_hyperlink, injection_plus_minus, mixed_separators, value_under_empty_header,
         repeated_header, nan_score, one_bad_row, lookalike_school_code, year_without_registry,
         zero_byte, schools_lookalike)
