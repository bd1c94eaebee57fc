"""What every source generator returns: one record per file written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FileRecord:
    source: str            # schools, ege, oge, vpr, rpr, olympiad, literacy
    academic_year: int
    path: Path             # relative to the generator's output folder
    rows: int              # participant/data rows written (no title, header or footer rows)
    slice: dict = field(default_factory=dict)   # subject, grade, exam_date, msu, school ...
    quirks: tuple[str, ...] = ()                # quirks deliberately present in this file
