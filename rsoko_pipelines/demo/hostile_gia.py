"""Hostile РИС ГИА result sheets (ЕГЭ/ОГЭ CSV, windows-1251) for demo/hostile.py.

Each function takes the shared :class:`~rsoko_pipelines.demo.hostile.Ctx`, writes its file(s)
and returns the :class:`~rsoko_pipelines.demo.hostile.Case` saying what must happen and why.
"""

from __future__ import annotations

import os

from rsoko_pipelines.demo.hostile_case import OUTSIDE, Case, Ctx
from rsoko_pipelines.demo.hostile_csv import INJECTIONS, load_case, quarantine_case
from rsoko_pipelines.demo.hostile_io import CsvDoc, expected_values


def _sheet(ctx: Ctx, source: str, year: int | None = None, take: bool = False) -> tuple:
    year = year or ctx.year
    path = ctx.take(source, year) if take else ctx.any(source, year)
    return path, CsvDoc.read(path, source)


def _middle(doc: CsvDoc, header: str | None = None, skip: int = 0) -> int:
    """Index of a data row from the middle (with a value in `header`, if given)."""
    order = list(range(len(doc.rows) // 2 + skip, len(doc.rows))) + list(range(len(doc.rows)))
    for i in order:
        if header is None or doc.rows[i][doc.col(header)].strip():
            return i
    raise ValueError(f"no row with {header}")


# ------------------------------------------------------------------------- ГИА: loads
def shuffled_columns(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege", take=True)
    order = list(range(len(doc.header)))[5:] + list(range(5))
    new = doc.copy(header=[doc.header[i] for i in order],
                   rows=[[r[i] for i in order] for r in doc.rows])
    new.footers = [[f[0]] + [""] * (len(order) - 1) for f in doc.footers]   # label first
    return load_case(ctx, "shuffled_columns", new, ctx.year, "ЕГЭ переставлены столбцы.csv",
                     new.render(), path, "Columns in another order (an export template changed): "
                     "the contract maps columns by header name, so the file loads unchanged.")


def lf_line_ends(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege", take=True)
    return load_case(ctx, "lf_line_ends", doc, ctx.year, "ege_lf.csv", doc.render(eol="\n"), path,
                     "LF instead of CRLF (the sheet passed through a Linux tool): line ends do not "
                     "change the data, the file loads.")


def cr_line_ends(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "oge", take=True)
    return load_case(ctx, "cr_line_ends", doc, ctx.year, "oge_cr.csv", doc.render(eol="\r"), path,
                     "CR-only line ends (old Mac format): still one record per line; the file "
                     "loads with the same line numbers.")


def blank_lines(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "oge", take=True)
    lines = doc.text_lines()
    at = 2 + len(doc.rows) // 2          # title, header, half of the rows
    text = lines[:at] + ["", ";" * (len(doc.header) - 1)] + lines[at:] + ["", "", ""]
    data = ("\r\n".join(text) + "\r\n").encode("cp1251")
    numbers = [n if n < doc.first_line + len(doc.rows) // 2 else n + 2 for n in doc.lines()]
    return load_case(ctx, "blank_lines", doc, ctx.year, "oge_blank_lines.csv", data, path,
                     "Empty lines (and a line of separators only) inside and after the data, as "
                     "left by hand editing: they carry nothing and are skipped; every row keeps "
                     "its own line number.", lines=numbers)


def nbsp_header(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege", year=ctx.prev, take=True)
    new = doc.copy()
    new.header = [h.replace(" ", "\xa0", 1) if i % 3 == 0 else
                  ("  " + h.upper() + " " if i % 3 == 1 else h.replace("ё", "е"))
                  for i, h in enumerate(doc.header)]
    return load_case(ctx, "header_spacing_case", doc, ctx.prev, "ege_header_nbsp.csv", new.render(),
                     path, "Headers with non-breaking and doubled spaces, upper case and 'е' "
                     "for 'ё' (retyped in Excel): header matching ignores all of these; the "
                     "file loads.")


def same_file_two_names(ctx: Ctx) -> Case:
    path = ctx.take("oge", ctx.year)
    doc = CsvDoc.read(path, "oge")
    data = path.read_bytes()
    rels = [ctx.write("oge", ctx.year, name, data)
            for name in ("a_ОГЭ.csv", "b_ОГЭ (копия).csv")]
    return Case("same_file_two_names", "oge", ctx.year, rels, "load",
                "The same file dropped twice under two names in one night: it loads once, "
                "the second name is recognised by its checksum and skipped as a duplicate.",
                rows=len(doc.rows), values=expected_values("oge", doc.header, doc.rows,
                                                            doc.lines()),
                origin=ctx.rel(path), duplicates=1)


def copy_of_loaded_file(ctx: Ctx) -> Case:
    rel_base = next(r for r in ctx.base if r.startswith(f"ege/{ctx.year}/"))
    rel = ctx.write("ege", ctx.year, "повторно_" + rel_base.rsplit("/", 1)[1],
                    (ctx.base_inbox / rel_base).read_bytes())
    return Case("copy_of_loaded_file", "ege", ctx.year, [rel], "duplicate",
                "A file loaded on an earlier night dropped again under a new name: same "
                "bytes, nothing new; it is not loaded twice and not quarantined.",
                origin=rel_base)


# ---------------------------------------------------------------------- ГИА: quarantine
def utf8_instead_of_cp1251(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "oge")
    return quarantine_case(ctx, "utf8_instead_of_cp1251", "oge", ctx.year, "oge_utf8.csv",
                           doc.render(encoding="utf-8"), path,
                           "UTF-8 without BOM where РИС ГИА delivers windows-1251: read as "
                           "windows-1251 it would load garbled class names, so it is rejected.",
                           "encoding", ["UTF-8", "windows-1251"])


def utf16(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege")
    return quarantine_case(ctx, "utf16", "ege", ctx.year, "ege_utf16.csv",
                           doc.render(encoding="utf-16"), path,
                           "Saved as 'Unicode text' (UTF-16) from Excel: not the contract's "
                           "encoding; rejected with the encoding to use.", "encoding", ["UTF-16"])


def mixed_encodings_gia(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege")
    lines = doc.text_lines()
    pasted = list(range(2 + len(doc.rows) // 2, 2 + len(doc.rows) // 2 + 5))   # data rows
    data = b"".join(ln.encode("utf-8" if i in pasted else "cp1251") + b"\r\n"
                    for i, ln in enumerate(lines))
    return quarantine_case(ctx, "mixed_encodings_gia", "ege", ctx.year, "ege_mixed.csv", data,
                           path, "Five lines pasted from a UTF-8 file into a windows-1251 sheet: "
                           "every byte decodes, so only a line-by-line check sees it; rejected "
                           "naming the pasted lines.", "encoding", ["mixes encodings", "UTF-8"],
                           [i + 1 for i in pasted])


def injection_dde(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege")
    i = _middle(doc)
    doc.rows[i][doc.col("Класс")] = INJECTIONS[1]
    return quarantine_case(ctx, "csv_injection_dde", "ege", ctx.year, "ege_dde.csv", doc.render(),
                           path, "A DDE payload (=cmd|' /C calc'!A0) in 'Класс': it would run "
                           "when an analyst opens an export in Excel. No contract field is a "
                           "formula, so the file is quarantined (not silently 'neutralised').",
                           "formula_text", ["Класс", "formula"], [doc.first_line + i])


def duplicate_header_names(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege")
    doc.header[doc.col("Статус")] = "Балл"
    return quarantine_case(ctx, "duplicate_header_names", "ege", ctx.year, "ege_two_scores.csv",
                           doc.render(), path, "Two columns named 'Балл': which one is the score "
                           "cannot be guessed; rejected naming the column.", "duplicate_columns",
                           ["Балл"])


def year_mismatch_gia(ctx: Ctx) -> Case:
    path = ctx.any("ege", ctx.year, index=1)
    return quarantine_case(ctx, "year_mismatch_gia", "ege", ctx.prev, "ege_wrong_year.csv",
                           path.read_bytes(), path, f"A {ctx.year} sheet (exam date in its title) "
                           f"dropped into the {ctx.prev} folder: loading it would file summer "
                           f"{ctx.year} results under {ctx.prev}; rejected saying where it "
                           "belongs.",
                           "title_year", [f"ege/{ctx.year}/"], [1])


def future_exam_date(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege")
    code, rest = doc.title.split(" - ", 1)
    subject = rest.rsplit(" ", 1)[0]
    doc.title = f"{code} - {subject} {ctx.future_day:%Y.%m.%d}"
    return quarantine_case(ctx, "future_exam_date", "ege", ctx.future, "ege_future.csv",
                           doc.render(), path, "An exam date 60 days in the future (a typo in "
                           "РИС ГИА, or a planned exam exported empty-handed): results cannot "
                           "exist yet; rejected.", "exam_date_future", ["future"], [1])


def negative_score(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege")
    i = _middle(doc, "Первичный балл")
    doc.rows[i][doc.col("Первичный балл")] = "-3"
    return quarantine_case(ctx, "negative_score", "ege", ctx.year, "ege_negative.csv",
                           doc.render(), path, "A negative primary score on one line: a valid "
                           "number, impossible as a score; the suite rejects the file naming the "
                           "line and the column.", "ege.primary_score.range", ["Первичный балл"],
                           [doc.first_line + i])


def huge_integer(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "oge")
    i = _middle(doc, "Первичный балл")
    doc.rows[i][doc.col("Первичный балл")] = "99999999999"
    return quarantine_case(ctx, "huge_integer", "oge", ctx.year, "oge_huge.csv", doc.render(),
                           path, "A score of 99999999999 (a document number pasted into the score "
                           "column): too large for the column; rejected.", "type",
                           ["Первичный балл"], [doc.first_line + i])


def unknown_school_gia(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege", take=False)
    i = _middle(doc, "Первичный балл", skip=3)
    doc.rows[i][doc.col("Код ОО")] = "9999"
    return quarantine_case(ctx, "unknown_school_gia", "ege", ctx.year, "ege_unknown_school.csv",
                           doc.render(), path, "A school code missing from the registry of the "
                           "year: its results would attach to no school. Rejected; the report "
                           "names the file's columns 'Код МСУ' and 'Код ОО' (not an internal "
                           "column name).", "ege.school_known_in_registry", ["«Код МСУ»",
                           "«Код ОО»"],
                           [doc.first_line + i])


def lookalike_subject_code(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "ege")
    code, rest = doc.title.split(" ", 1)
    code = code.replace("0", "O", 1) if "0" in code else code[:-1] + "O"
    doc.title = f"{code} {rest}"
    return quarantine_case(ctx, "lookalike_subject_code", "ege", ctx.year, "ege_O1.csv",
                           doc.render(), path, "The subject code in the title typed with a Latin "
                           "'O' for the digit 0: rejected naming the letter.", "lookalike_letters",
                           ["subject code", "U+004F"], [1])


def lookalike_class(ctx: Ctx) -> Case:
    path, doc = _sheet(ctx, "oge")
    i = _middle(doc)
    c = doc.col("Класс")
    doc.rows[i][c] = doc.rows[i][c][:-1] + "A"
    return quarantine_case(ctx, "lookalike_class", "oge", ctx.year, "oge_9A.csv", doc.render(),
                           path, "A class typed as '9A' with a Latin A: it would split one class "
                           "into two in every class-level report; rejected naming the letter.",
                           "lookalike_letters", ["Класс", "U+0041"], [doc.first_line + i])


def partial_copy(ctx: Ctx) -> Case:
    path = ctx.any("ege", ctx.year)
    data = path.read_bytes()
    rel = ctx.write("ege", ctx.year, path.name + ".part", data[: len(data) // 3])
    return Case("partial_copy", "ege", ctx.year, [rel], "ignore",
                "A copy still in progress ('.part'): not an extract yet; left alone until "
                "the copy finishes and the file gets its real name.", origin=ctx.rel(path))


def symlink(ctx: Ctx) -> Case:
    path = ctx.any("ege", ctx.year)
    target = ctx.out / OUTSIDE / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())
    link = ctx.out / "ege" / str(ctx.year) / "ссылка.csv"
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target.resolve(), link)
    return Case("symlink", "ege", ctx.year, [f"ege/{ctx.year}/ссылка.csv"], "quarantine",
                "A symbolic link instead of a file: its target is outside the inbox and may "
                "change after the check; links are never followed, the link is quarantined "
                "asking for the file itself.", check="not_a_regular_file",
                message=["symbolic link"], origin=ctx.rel(path))


CASES = (shuffled_columns, lf_line_ends, cr_line_ends, blank_lines, nbsp_header,
         same_file_two_names, copy_of_loaded_file, utf8_instead_of_cp1251, utf16,
         mixed_encodings_gia, injection_dde, duplicate_header_names,
         year_mismatch_gia, future_exam_date, negative_score, huge_integer, unknown_school_gia,
         lookalike_subject_code, lookalike_class, partial_copy, symlink)
