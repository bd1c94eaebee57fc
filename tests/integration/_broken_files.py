"""Broken extracts made from good generated files, one function per way a real file breaks.

Every case reads a good file of a generated inbox, writes a broken copy under a new name and
returns a :class:`Broken` that says exactly what the pipeline must report: the check (an
``ExtractError.check`` or a GX ``meta.id``), the line/sheet row numbers and the columns.
Row numbers are 1-based lines of the original file (CSV) or 1-based sheet rows (XLSX), the
same numbering as ``_source_line``.

The ГИА sheets are handled as text (windows-1251, CRLF) so the rest of the file stays byte
for byte as the generator wrote it; ВПР workbooks are read with python-calamine and written
again with the generator's XLSX writer (the same layout: 4 header rows, then the data).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

GIA_FOOTERS = ("Средние", "Минимальная граница", "Всего участников")
GIA_PERSONAL = ("Фамилия", "Имя", "Отчество", "Серия документа", "Номер документа")


@dataclass
class Broken:
    case: str
    source: str
    path: Path                      # the broken file (outside any inbox)
    check: str                      # expected check id (ExtractError.check or GX meta.id)
    rows: list[int] = field(default_factory=list)      # expected offending lines/rows
    columns: list[str] = field(default_factory=list)   # expected offending columns
    message_contains: str = ""      # a word the quarantine message must contain
    origin: Path | None = None      # the good file it was made from


# --------------------------------------------------------------------------- ГИА CSV text
@dataclass
class GiaSheet:
    """A ГИА result sheet split into lines (without line ends); index 0 is line 1."""

    lines: list[str]

    @classmethod
    def read(cls, path: Path) -> "GiaSheet":
        text = path.read_bytes().decode("cp1251")
        lines = text.split("\r\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls(lines)

    @property
    def header(self) -> list[str]:
        return self.cells(1)

    def col(self, name: str) -> int:
        return self.header.index(name)

    def cells(self, index: int) -> list[str]:
        return next(csv.reader([self.lines[index]], delimiter=";"))

    def set_cells(self, index: int, cells: list[str]) -> None:
        buf = io.StringIO()
        csv.writer(buf, delimiter=";", lineterminator="").writerow(cells)
        self.lines[index] = buf.getvalue()

    def participant_indexes(self) -> list[int]:
        return [i for i in range(2, len(self.lines))
                if self.lines[i].strip() and self.lines[i].split(";", 1)[0] not in GIA_FOOTERS]

    def footer_indexes(self) -> list[int]:
        return [i for i in range(2, len(self.lines))
                if self.lines[i].split(";", 1)[0] in GIA_FOOTERS]

    def text(self) -> str:
        return "\r\n".join(self.lines) + "\r\n"

    def write(self, path: Path, encoding: str = "cp1251") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.text().encode(encoding))
        return path


def gia_files(inbox: Path, source: str, year: int) -> list[Path]:
    return sorted((inbox / source / str(year)).glob("*.csv"))


def largest_gia_file(inbox: Path, source: str, year: int, with_column: str | None = None,
                     min_rows: int = 150) -> Path:
    """The ГИА sheet with the most participant lines (so one bad row is < 1 % of it)."""
    best, best_n = None, -1
    for path in gia_files(inbox, source, year):
        sheet = GiaSheet.read(path)
        if with_column and with_column not in sheet.header:
            continue
        n = len(sheet.participant_indexes())
        if n > best_n:
            best, best_n = path, n
    assert best is not None and best_n >= min_rows, (source, year, best_n)
    return best


def _scored_row(sheet: GiaSheet, column: str, skip: int = 0) -> int:
    """Index of a participant line (from the middle of the sheet) with a value in column."""
    idx = sheet.participant_indexes()
    c = sheet.col(column)
    middle = idx[len(idx) // 2 + skip:] + idx[:len(idx) // 2 + skip]
    for i in middle:
        if sheet.cells(i)[c].strip():
            return i
    raise AssertionError(f"no line with {column}")


# --------------------------------------------------------------------------- ГИА cases
def gia_utf8(inbox: Path, year: int, out: Path) -> Broken:
    src = largest_gia_file(inbox, "oge", year)
    dst = GiaSheet.read(src).write(out / "oge_utf8.csv", encoding="utf-8")
    return Broken("wrong_encoding_utf8", "oge", dst, "encoding", message_contains="UTF-8",
                  origin=src)


def gia_utf16(inbox: Path, year: int, out: Path) -> Broken:
    src = largest_gia_file(inbox, "ege", year)
    dst = GiaSheet.read(src).write(out / "ege_utf16.csv", encoding="utf-16")
    return Broken("utf16", "ege", dst, "encoding", message_contains="UTF-16", origin=src)


def gia_missing_column(inbox: Path, year: int, out: Path, column: str = "Код ОО") -> Broken:
    src = largest_gia_file(inbox, "ege", year)
    sheet = GiaSheet.read(src)
    c = sheet.col(column)
    for i in range(1, len(sheet.lines)):
        cells = sheet.cells(i)
        if len(cells) > c:
            del cells[c]
        sheet.set_cells(i, cells)
    dst = sheet.write(out / "ege_no_school_column.csv")
    return Broken("missing_column", "ege", dst, "missing_columns", columns=[column],
                  message_contains=column, origin=src)


def gia_footer_in_middle(inbox: Path, year: int, out: Path) -> Broken:
    src = largest_gia_file(inbox, "oge", year)
    sheet = GiaSheet.read(src)
    idx = sheet.participant_indexes()
    at = idx[len(idx) // 2]
    footer = ["Средние"] + [""] * (len(sheet.header) - 1)
    sheet.lines.insert(at, "")
    sheet.set_cells(at, footer)
    dst = sheet.write(out / "oge_glued.csv")
    return Broken("footer_in_middle", "oge", dst, "footer", rows=[at + 1],
                  message_contains="footer", origin=src)


def ege_score_out_of_range(inbox: Path, year: int, out: Path, score: int = 104) -> Broken:
    src = largest_gia_file(inbox, "ege", year, with_column="Балл")
    sheet = GiaSheet.read(src)
    i = _scored_row(sheet, "Балл")
    cells = sheet.cells(i)
    cells[sheet.col("Балл")] = str(score)
    sheet.set_cells(i, cells)
    dst = sheet.write(out / "ege_score_104.csv")
    return Broken("score_out_of_range", "ege", dst, "ege.test_score.range", rows=[i + 1],
                  columns=["test_score"], origin=src)


def gia_unknown_school(inbox: Path, year: int, out: Path, code: str = "9999") -> Broken:
    src = largest_gia_file(inbox, "ege", year, with_column="Балл")
    sheet = GiaSheet.read(src)
    i = _scored_row(sheet, "Балл", skip=3)
    cells = sheet.cells(i)
    cells[sheet.col("Код ОО")] = code
    sheet.set_cells(i, cells)
    dst = sheet.write(out / "ege_unknown_school.csv")
    return Broken("unknown_school_gia", "ege", dst, "ege.school_known_in_registry",
                  rows=[i + 1], origin=src)


def gia_duplicate_participant(inbox: Path, year: int, out: Path) -> Broken:
    """One participant line repeated at the end of the participants with a new row number."""
    src = largest_gia_file(inbox, "ege", year, with_column="Балл")
    sheet = GiaSheet.read(src)
    idx = sheet.participant_indexes()
    orig = idx[len(idx) // 3]
    cells = sheet.cells(orig)
    cells[sheet.col("№")] = str(max(int(sheet.cells(i)[0]) for i in idx) + 1)
    at = idx[-1] + 1
    sheet.lines.insert(at, "")
    sheet.set_cells(at, cells)
    dst = sheet.write(out / "ege_duplicate.csv")
    return Broken("duplicate_participant", "ege", dst, "ege.participant_unique",
                  rows=[orig + 1, at + 1], origin=src)


def gia_name_in_code_column(inbox: Path, year: int, out: Path) -> Broken:
    """An operator's paste shifted one line: the surname sits in 'Код ОО' and the school code
    in 'Фамилия'. The surname must not appear in the report (it is personal data)."""
    src = largest_gia_file(inbox, "ege", year, with_column="Балл")
    sheet = GiaSheet.read(src)
    i = _scored_row(sheet, "Балл", skip=5)
    cells = sheet.cells(i)
    a, b = sheet.col("Код ОО"), sheet.col("Фамилия")
    cells[a], cells[b] = cells[b], cells[a]
    sheet.set_cells(i, cells)
    dst = sheet.write(out / "ege_shifted_line.csv")
    return Broken("name_in_code_column", "ege", dst, "ege.gia_school_code.format",
                  rows=[i + 1], columns=["gia_school_code"], origin=src)


def gia_bad_title(inbox: Path, year: int, out: Path) -> Broken:
    src = largest_gia_file(inbox, "ege", year)
    sheet = GiaSheet.read(src)
    sheet.lines[0] = "Ведомость результатов ЕГЭ"
    dst = sheet.write(out / "ege_bad_title.csv")
    return Broken("unparseable_title", "ege", dst, "title", rows=[1], message_contains="title",
                  origin=src)


def gia_header_only(inbox: Path, year: int, out: Path) -> Broken:
    src = largest_gia_file(inbox, "oge", year)
    sheet = GiaSheet.read(src)
    sheet.lines = sheet.lines[:2]
    dst = sheet.write(out / "oge_header_only.csv")
    return Broken("header_only", "oge", dst, "header_only", message_contains="no data rows",
                  origin=src)


def empty_file(inbox: Path, year: int, out: Path) -> Broken:
    out.mkdir(parents=True, exist_ok=True)
    dst = out / "ege_empty.csv"
    dst.write_bytes(b"")
    return Broken("empty_file", "ege", dst, "empty_file", message_contains="empty")


# --------------------------------------------------------------------------- ВПР XLSX
def vpr_files(inbox: Path, source: str, year: int) -> list[Path]:
    return sorted((inbox / source / str(year)).glob("*.xlsx"))


def read_sheet(path: Path) -> list[list]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def write_sheet(path: Path, rows: list[list]) -> Path:
    from rsoko_pipelines.demo.xlsx import write_xlsx

    path.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(path, raw_rows=[[None if v == "" else v for v in r] for r in rows])
    return path


def largest_vpr_file(inbox: Path, year: int, source: str = "vpr") -> Path:
    return max(vpr_files(inbox, source, year), key=lambda p: p.stat().st_size)


def vpr_truncated(inbox: Path, year: int, out: Path) -> Broken:
    src = largest_vpr_file(inbox, year)
    data = src.read_bytes()
    out.mkdir(parents=True, exist_ok=True)
    dst = out / "vpr_truncated.xlsx"
    dst.write_bytes(data[: len(data) // 2])
    return Broken("truncated_xlsx", "vpr", dst, "xlsx_unreadable", origin=src)


def vpr_unknown_login(inbox: Path, year: int, out: Path, login: str = "sch079999") -> Broken:
    src = largest_vpr_file(inbox, year)
    rows = read_sheet(src)
    c = rows[3].index("Логин ОО")
    r = 4 + (len(rows) - 4) // 2      # 0-based index of a data row in the middle
    assert rows[r][c].startswith("sch")
    rows[r][c] = login
    dst = write_sheet(out / "vpr_unknown_login.xlsx", rows)
    return Broken("unknown_school_vpr", "vpr", dst, "vpr.school_known_in_registry",
                  rows=[r + 1], origin=src)


def vpr_task_above_max(inbox: Path, year: int, out: Path) -> Broken:
    """One task cell above the maximum of its column header '<task> (<max>б)': a score outside
    its range (extracts.md, «What a bad extract gets»). (Marks that disagree with the boundary
    seed are a finding, not a quarantine: extracts.md, ВПР.)"""
    import re

    src = largest_vpr_file(inbox, year)
    rows = read_sheet(src)
    header = rows[3]
    c = next(i for i, h in enumerate(header) if re.match(r"^\d.*\((\d+)\s*б\)$", str(h)))
    top = int(re.search(r"\((\d+)\s*б\)$", str(header[c]))[1])
    i = next(i for i in range(4, len(rows)) if rows[i][c] not in ("", None))
    rows[i][c] = float(top + 1)
    dst = write_sheet(out / "vpr_task_above_max.xlsx", rows)
    return Broken("vpr_task_above_max", "vpr", dst, "task_points_above_max", rows=[i + 1],
                  columns=[str(header[c]).strip()], origin=src)


CASES = {
    "wrong_encoding_utf8": gia_utf8,
    "missing_column": gia_missing_column,
    "footer_in_middle": gia_footer_in_middle,
    "score_out_of_range": ege_score_out_of_range,
    "unknown_school_gia": gia_unknown_school,
    "unknown_school_vpr": vpr_unknown_login,
    "duplicate_participant": gia_duplicate_participant,
    "truncated_xlsx": vpr_truncated,
    "empty_file": empty_file,
    "unparseable_title": gia_bad_title,
    "vpr_task_above_max": vpr_task_above_max,
    "utf16": gia_utf16,
    "header_only": gia_header_only,
    "name_in_code_column": gia_name_in_code_column,
}


def make(case: str, inbox: Path, year: int, out: Path) -> Broken:
    return (CASES.get(case) or CASES_D49[case])(inbox, year, out)


# ---------------------------------------------- directions 4 and 9 (issue 18), not in CASES:
# they need the generated files of graduates, survey and additional_ed
def graduates_wrong_sum(inbox: Path, year: int, out: Path) -> Broken:
    """One more «Не учатся и не работают» than «Всего выпускников» allows (the contract's
    destination sums)."""
    src = sorted((inbox / "graduates" / str(year)).glob("*.xlsx"))[0]
    rows = read_sheet(src)
    col = rows[0].index("Не учатся и не работают")
    r = 1 + (len(rows) - 1) // 2
    rows[r][col] = float(rows[r][col] or 0) + 1
    dst = write_sheet(out / "graduates_wrong_sum.xlsx", rows)
    return Broken("graduates_wrong_sum", "graduates", dst,
                  "graduates.destinations_sum_to_total", rows=[r + 1], origin=src)


def _csv_lines(inbox: Path, source: str, year: int) -> tuple[Path, list[str]]:
    src = sorted((inbox / source / str(year)).glob("*.csv"))[0]
    return src, src.read_text(encoding="utf-8").split("\n")


def survey_answer_outside_options(inbox: Path, year: int, out: Path) -> Broken:
    """An answer that is not an option of its question (the contract's answer check)."""
    src, lines = _csv_lines(inbox, "survey", year)
    i = next(k for k in range(1, len(lines)) if lines[k].rstrip().split(";")[-1])
    cells = lines[i].split(";")
    cells[-1] = "может быть"
    lines[i] = ";".join(cells)
    out.mkdir(parents=True, exist_ok=True)
    dst = out / "survey_answer_outside_options.csv"
    dst.write_text("\n".join(lines), encoding="utf-8")
    return Broken("survey_answer_outside_options", "survey", dst, "survey.answer_is_option",
                  rows=[i + 1], origin=src)


def navigator_unknown_status(inbox: Path, year: int, out: Path) -> Broken:
    """A navigator line whose Статус is none of зачислен/отчислен/заявка."""
    src, lines = _csv_lines(inbox, "additional_ed", year)
    header = lines[0].split(";")
    col = header.index("Статус")
    i = len(lines) // 3
    cells = lines[i].split(";")
    cells[col] = "в обработке"
    lines[i] = ";".join(cells)
    out.mkdir(parents=True, exist_ok=True)
    dst = out / "navigator_unknown_status.csv"
    dst.write_text("\n".join(lines[: i + 20]) + "\n", encoding="utf-8")
    return Broken("navigator_unknown_status", "additional_ed", dst, "additional_ed.status.allowed",
                  rows=[i + 1], origin=src)


CASES_D49 = {
    "graduates_wrong_sum": graduates_wrong_sum,
    "survey_answer_outside_options": survey_answer_outside_options,
    "navigator_unknown_status": navigator_unknown_status,
}


def pseudonymous_ids(inbox: Path, year: int | None = None) -> set[str]:
    """The navigator's child ids and the survey platform's respondent codes of an inbox, read
    independently of the pipeline (csv module): they must never pass the landing."""
    out: set[str] = set()
    for source, column in (("additional_ed", "Идентификатор ребёнка"),
                           ("survey", "Код респондента")):
        for path in sorted((inbox / source).glob(f"{year or '*'}/*.csv")):
            with path.open(encoding="utf-8-sig", newline="") as fh:
                out |= {r[column].strip() for r in csv.DictReader(fh, delimiter=";")
                        if (r.get(column) or "").strip()}
    return out


# --------------------------------------------------------------------------- deployments
# Shared by the test_ingest_* modules (module-scoped fixtures cannot use the function-scoped
# `rsoko_env`): a private deployment under a folder, and what the tests compare.
RSOKO_VARS = ("RSOKO_INBOX_DIR", "RSOKO_WAREHOUSE", "RSOKO_ARCHIVE_DIR", "RSOKO_QUARANTINE_DIR",
              "RSOKO_PUBLISHED_DIR", "RSOKO_REPORTS_DIR", "RSOKO_SECRETS_DIR")
TEST_KEY = "test-key-not-secret"


def use_deployment(mp, root: Path):
    """Point every RSOKO_* path and DAGSTER_HOME under root (mp: a pytest MonkeyPatch)."""
    from rsoko_pipelines.settings import Settings

    data = Path(root)
    mp.setenv("RSOKO_DATA_DIR", str(data))
    for var in RSOKO_VARS:
        mp.delenv(var, raising=False)
    mp.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    mp.setenv("RSOKO_PSEUDONYM_KEY", TEST_KEY)
    return Settings.from_env().ensure_dirs()


def generate_region(out: Path, sources=None, n_schools: int | None = 40, seed: int = 20250607,
                    tier: str = "XS") -> dict:
    """A small generated region (tier XS: years 2024-2025); returns its manifest."""
    import json

    from rsoko_pipelines.demo.generate import generate

    generate(tier=tier, seed=seed, out=out, sources=sources, n_schools=n_schools, quiet=True)
    return json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))


def link_year(generated: Path, inbox: Path, year: int, sources=None) -> None:
    """Hard-link the files of one academic year of a generated region into an inbox."""
    import os
    import shutil

    for folder in sorted(Path(generated).glob(f"*/{year}")):
        if sources and folder.parent.name not in sources:
            continue
        shutil.copytree(folder, inbox / folder.parent.name / str(year),
                        copy_function=os.link, dirs_exist_ok=True)


def ingest(settings, sources, year: int, release: bool = True):
    """ingest_partition for each source in order (schools first); {source: PartitionIngest}.

    release: then release and commit what landed (ingest/release.py: release_everything), as
    the night's release step and the models step would — without it the landed files are
    not read by the models, and a correction's superseded rows stay in the landing."""
    from rsoko_pipelines.extract.pseudonym import Pseudonymizer
    from rsoko_pipelines.ingest.landing import ingest_partition
    from rsoko_pipelines.ingest.release import release_everything
    from rsoko_pipelines.ingest.warehouse import writer

    pseudonymizer = Pseudonymizer.from_env(settings.secrets_dir)
    out = {}
    with writer(settings.warehouse_path) as con:
        for source in sources:
            out[source] = ingest_partition(con, settings, source, year, pseudonymizer)
        if release:
            release_everything(con)
    return out


def raw_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name='raw' "
        "ORDER BY table_name").fetchall()]


def table_checksums(con, tables=None, schema: str = "raw") -> dict[str, tuple]:
    """{table: (rows, xor and sum of the row hashes)}: order-independent, over all columns
    of every row (`hash(t)` hashes the whole row as a struct)."""
    out = {}
    for t in tables or raw_tables(con):
        out[t] = tuple(con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash(t)), 0), "
            f"coalesce(sum(hash(t)::HUGEINT), 0) FROM {schema}.{t} t").fetchone())
    return out


def warehouse_checksums(settings, tables=None) -> dict[str, tuple[int, int]]:
    from rsoko_pipelines.ingest.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        return table_checksums(con, tables)
    finally:
        con.close()


def registry_rows(settings, where: str = "TRUE", params=None) -> list[dict]:
    from rsoko_pipelines.ingest.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM raw._file_registry WHERE {where} ORDER BY inbox_path",
                          params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
