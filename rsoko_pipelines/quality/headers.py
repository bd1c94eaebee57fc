"""Operator-facing column names: the header as delivered in the file, not the landing name.

An operator fixes a file in the source system or in Excel, where columns are called
«Код ОО» or «Логин ОО» — not ``gia_school_code``, and certainly not the derived
``_school_known`` a cross-table check runs on. So every validation finding carries, next to
its landing column(s), the file header(s) it is about (the column maps (``extract/sources/<source>.yaml``)); a derived
column is resolved to the file columns it is computed from (:data:`.derived.DERIVED_INPUTS`),
and the suite's descriptions are rewritten to name headers (:func:`humanize`).
"""

from __future__ import annotations

import re
from functools import lru_cache

LINEAGE = {
    "_file_id": "(файл целиком / the whole file)",
    "_source_line": "(номер строки / line number)",
    "academic_year": "(год папки входящих / inbox folder year)",
}


@lru_cache(maxsize=None)
def _spec_headers(table: str) -> dict[str, str]:
    """{landing column: file header} for one landing table."""
    from rsoko_pipelines.extract.schemas import source_spec, table_spec

    try:
        spec = source_spec(table_spec(table).source)
    except KeyError:
        return {}
    xlsx = spec.format == "xlsx"
    title = "строка 1, заголовок / row 1 (title)" if xlsx else \
        "строка 1, заголовок / line 1 (title)"
    out = dict(LINEAGE)
    if table != spec.source:     # the *_tasks companion: everything is in the header rows
        for col in spec.raw.get("task_columns", ()):
            out[col["name"]] = "строки 1–4, заголовок заданий / rows 1-4 (task headers)"
        return out
    for col in spec.columns:
        if col.headers:
            out[col.name] = col.headers[0]
        elif col.derived == "title":
            out[col.name] = title
        elif col.derived in ("pseudonym", "year_of"):
            out[col.name] = " + ".join(
                next((c.headers[0] for c in spec.columns if c.name == i and c.headers), i)
                for i in col.inputs)
        elif col.derived == "task_columns":
            out[col.name] = "столбцы заданий / task columns"
        elif col.derived:
            out[col.name] = out.get(col.derived, col.derived)
    if "max_primary_score" in out:
        out["max_primary_score"] = "строка 2 / row 2 (Максимальный первичный балл)"
    return out


def file_headers(table: str, columns) -> list[str]:
    """The file headers behind landing/derived `columns` of `table` (order kept, no repeats)."""
    from rsoko_pipelines.quality.derived import derived_inputs

    names = _spec_headers(table)
    out: list[str] = []
    for column in columns or ():
        inputs = derived_inputs(table, column) if column.startswith("_") and \
            column not in LINEAGE else None
        for name in inputs or (column,):
            header = names.get(name, name)
            if header not in out:
                out.append(header)
    return out


def humanize(text: str, table: str) -> str:
    """A suite description with «landing_name» / 'landing_name' replaced by the file header."""
    names = _spec_headers(table)
    if not text or not names:
        return text

    def swap(m: re.Match) -> str:
        name = m.group(2)
        if name not in names or name in LINEAGE:
            return m.group(0)
        return f"{m.group(1)}{names[name]}{m.group(3)}"

    return re.sub(r"([«'])([_a-z0-9]+)([»'])", swap, text)
