"""Reading and rewriting generated extracts for the hostile corpus (demo/hostile.py).

Deliberately independent of ``rsoko_pipelines.extract``: the corpus states what a file
holds from its own reading (the csv module, python-calamine, the XLSX package's XML), so
the tests that load the corpus check the parsers against a second opinion instead of
against themselves.

- :class:`CsvDoc` — a CSV extract as title line (ГИА), header, data rows and footer rows;
  rendered again with any encoding, line end, quoting or trailing separator;
- :func:`patch_sheet` / :func:`xlsx_rows` — cell-level edits of an XLSX sheet in place
  (everything else in the package stays byte for byte) and the rows as calamine reads them.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

GIA_FOOTERS = ("Средние", "Минимальная граница", "Всего участников")
ENCODINGS = {"schools": "utf-8-sig", "ege": "cp1251", "oge": "cp1251", "olympiad": "utf-8",
             "literacy": "utf-8"}
SHEET = "xl/worksheets/sheet1.xml"


@dataclass
class CsvDoc:
    source: str
    header: list[str]
    rows: list[list[str]]
    title: str | None = None
    footers: list[list[str]] = field(default_factory=list)
    eol: str = "\r\n"

    @classmethod
    def read(cls, path: Path, source: str) -> "CsvDoc":
        data = path.read_bytes()
        text = data.decode(ENCODINGS[source])
        eol = "\r\n" if "\r\n" in text else "\n"
        lines = [ln for ln in text.split(eol)]
        if lines and lines[-1] == "":
            lines.pop()
        title = lines.pop(0) if source in ("ege", "oge") else None
        cells = list(csv.reader(lines, delimiter=";"))
        body = cells[1:]
        footers = [r for r in body if r and r[0] in GIA_FOOTERS]
        rows = [r for r in body if r and r[0] not in GIA_FOOTERS]
        return cls(source, cells[0], rows, title, footers, eol)

    def copy(self, **changes) -> "CsvDoc":
        fresh = {"header": list(self.header), "rows": [list(r) for r in self.rows],
                 "footers": [list(r) for r in self.footers]}
        return replace(self, **{**fresh, **changes})

    @property
    def first_line(self) -> int:
        """The line number of the first data row."""
        return 3 if self.title is not None else 2

    def col(self, header: str) -> int:
        return self.header.index(header)

    def values(self, header: str) -> list[str]:
        c = self.col(header)
        return [r[c] for r in self.rows]

    def lines(self) -> list[int]:
        return list(range(self.first_line, self.first_line + len(self.rows)))

    def text_lines(self, quote_all: bool = False, trailing: str = "") -> list[str]:
        out = [] if self.title is None else [self.title]
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\n",
                            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        for row in [self.header, *self.rows, *self.footers]:
            buf.seek(0)
            buf.truncate()
            writer.writerow(row)
            out.append(buf.getvalue()[:-1] + trailing)
        return out

    def render(self, encoding: str | None = None, eol: str | None = None, **kw) -> bytes:
        eol = self.eol if eol is None else eol
        text = eol.join(self.text_lines(**kw)) + eol
        return text.encode(encoding or ENCODINGS[self.source])


# --------------------------------------------------------------------------------- XLSX
def xlsx_rows(data: bytes) -> list[list]:
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    return sheet.to_python(skip_empty_area=False)


def col_letter(idx: int) -> str:
    s = ""
    idx += 1
    while idx:
        idx, r = divmod(idx - 1, 26)
        s = chr(65 + r) + s
    return s


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_esc(text)}</t></is></c>'


def patch_sheet(data: bytes, cells: dict[str, str | None], sheet_xml=None) -> bytes:
    """Replace whole cells of the first sheet: {'X17': '<c r="X17">…</c>' or None to
    remove}; or `sheet_xml(xml) -> xml` for edits of the whole sheet XML."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == SHEET:
                xml = body.decode("utf-8")
                for ref, cell in cells.items():
                    pattern = re.compile(rf'<c r="{ref}"(?: [^>]*)?(?:/>|>.*?</c>)', re.S)
                    xml, n = pattern.subn(lambda _m: cell or "", xml, count=1)
                    if not n:
                        raise KeyError(f"cell {ref} not found in the sheet")
                if sheet_xml is not None:
                    xml = sheet_xml(xml)
                body = xml.encode("utf-8")
            zout.writestr(info, body)
    return out.getvalue()


def member_offset(data: bytes, name: str = SHEET) -> tuple[int, int]:
    """(start, size) of a zip member's compressed bytes inside the package."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = zf.getinfo(name)
    header = data[info.header_offset:info.header_offset + 30]
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


# ------------------------------------------------------------------------- expectations
# per source: (header of a numeric column, its landing name, integer?) and a code column
NUMBER = {"ege": ("Первичный балл", "primary_score", True),
          "oge": ("Первичный балл", "primary_score", True),
          "vpr": ("Первичный балл", "primary_score", True),
          "rpr": ("Первичный балл", "primary_score", True),
          "olympiad": ("Балл", "score", False), "literacy": ("Балл", "score", False)}
CODE = {"ege": ("Код ОО", "gia_school_code"), "oge": ("Код ОО", "gia_school_code"),
        "vpr": ("Логин ОО", "fis_login"), "rpr": ("Логин ОО", "fis_login"),
        "olympiad": ("Код ОО", "school_code"), "literacy": ("Код ОО", "school_code")}


def _number(value) -> float | None:
    if value in (None, ""):
        return None
    return float(str(value).replace(",", ".").replace("\xa0", "").strip())


def expected_values(source: str, header: list, rows: list[list], lines: list[int]) -> dict:
    """{SQL aggregate over the file's landing rows: value}, from our own reading."""
    num_header, num_name, integral = NUMBER[source]
    code_header, code_name = CODE[source]
    numbers = [_number(r[header.index(num_header)]) for r in rows]
    numbers = [x for x in numbers if x is not None]
    codes = {str(r[header.index(code_header)]).strip() for r in rows} - {"", "None"}
    if integral:
        total_expr, total = f"sum({num_name})", int(sum(numbers))
    else:   # in hundredths: exact, whatever the order of a floating sum
        total_expr = f"sum(round({num_name} * 100))::BIGINT"
        total = sum(round(x * 100) for x in numbers)
    return {"count(*)": len(rows), total_expr: total,
            f"count(DISTINCT {code_name})": len(codes),
            "min(_source_line)": min(lines), "max(_source_line)": max(lines)}
