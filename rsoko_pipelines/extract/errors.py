"""The result of parsing one extract, and the error a contract breach raises.

Checks (``ExtractError.check``): ``file_type``, ``encoding``, ``empty_file``, ``header_only``,
``title``, ``title_year`` (the file's own year/date is not the folder's), ``exam_date_future``,
``header``, ``missing_columns``, ``duplicate_columns``, ``repeated_header`` (exports glued
together), ``row_shape``, ``footer``, ``type``, ``task_header``, ``max_score``,
``xlsx_unreadable``, ``xlsx_formula`` / ``xlsx_error_cell`` (formula without a value, error
cell), ``code_as_number``, ``task_points_above_max`` / ``task_points_sum`` (ВПР/РПР task cells
against their column maximum / the primary score), ``unknown_source``, and the cell guards of ``cells.py``:
``formula_text`` (CSV/formula injection), ``cell_too_long``, ``lookalike_letters``.
The ingest adds ``not_a_regular_file`` (a symbolic link) and ``internal_error`` (a parser
crash: the file is quarantined instead of stopping the run).

Messages never quote cell values of personal columns (and, for ГИА sheets, no cell values at
all): they name the file, the check, the rows and the columns, and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

MAX_ROWS_IN_MESSAGE = 10


class ExtractError(Exception):
    """A file that breaks the extract contract (it is quarantined, none of its rows load)."""

    def __init__(self, check: str, message: str, rows: list[int] | None = None,
                 columns: list[str] | None = None, hint: str = "") -> None:
        self.check = check
        self.message = message
        self.rows = list(rows) if rows else None
        self.columns = list(columns) if columns else None
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [f"[{self.check}] {self.message}"]
        if self.columns:
            parts.append("columns: " + ", ".join(self.columns))
        if self.rows:
            shown = ", ".join(map(str, self.rows[:MAX_ROWS_IN_MESSAGE]))
            more = f" … (+{len(self.rows) - MAX_ROWS_IN_MESSAGE})" if len(
                self.rows) > MAX_ROWS_IN_MESSAGE else ""
            parts.append(f"lines/rows: {shown}{more}")
        if self.hint:
            parts.append("what to do: " + self.hint)
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return {"check": self.check, "message": self.message, "rows": self.rows or [],
                "columns": self.columns or [], "hint": self.hint}


@dataclass
class ParsedExtract:
    """Landing tables of one file. ``tables`` maps the landing table name (``raw.<name>``) to
    a pyarrow Table conforming to ``schemas.landing_schema(name)``."""

    source: str
    academic_year: int
    path: Path
    file_id: str
    tables: dict[str, pa.Table]
    slice: dict
    rows: int                                   # rows of the main table
    warnings: list[str] = field(default_factory=list)

    @property
    def table(self) -> pa.Table:
        return self.tables[self.source]
