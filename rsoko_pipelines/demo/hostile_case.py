"""The shape of a hostile-input case and what the case builders share (hostile.py explains the
corpus; hostile_csv/gia/xlsx build the cases)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

OUTSIDE = "_outside"          # link targets, outside any inbox layout folder
MIN_ROWS = 30                 # origins of the cases: files of a realistic size
EXPECTATIONS = ("load", "quarantine", "duplicate", "ignore")


@dataclass
class Case:
    id: str
    source: str
    year: int
    paths: list[str]              # relative to the corpus root: <source>/<year>/<name>
    expect: str                   # load | quarantine | duplicate | ignore
    description: str              # what it is, and why this outcome
    rows: int | None = None       # load: rows of the main landing table
    values: dict = field(default_factory=dict)      # load: {SQL aggregate: value}
    check: str | None = None      # quarantine: ExtractError.check or GX meta.id
    message: list[str] = field(default_factory=list)  # quarantine: fragments of the report
    lines: list[int] = field(default_factory=list)    # quarantine: first offending lines/rows
    origin: str | None = None     # the generated file it was made from (relative)
    duplicates: int = 0           # load: how many of `paths` are the same bytes again


def academic_year_of(day: date) -> int:
    return day.year + 1 if day.month >= 9 else day.year


@dataclass
class Ctx:
    """What the case builders share: the generated tier, the output folder, the years, the
    base selection and the files already used as origins of `load` cases."""

    base_inbox: Path
    out: Path
    years: list[int]
    base: list[str]
    rows: dict[str, int] = field(default_factory=dict)    # manifest rows per file
    used: set[str] = field(default_factory=set)

    @property
    def year(self) -> int:
        return self.years[-1]

    @property
    def prev(self) -> int:
        return self.years[-2]

    @property
    def future_day(self) -> date:
        return date.today() + timedelta(days=60)

    @property
    def future(self) -> int:
        """A year folder nobody has set up: the academic year 60 days from today."""
        return academic_year_of(self.future_day)

    def files(self, source: str, year: int, min_rows: int = MIN_ROWS) -> list[str]:
        """Generated files of a folder not in the base selection, with at least `min_rows`
        rows (a break in one line of a real-sized file), smallest first."""
        folder = self.base_inbox / source / str(year)
        paths = sorted(folder.glob("*.*"), key=lambda p: (p.stat().st_size, p.name))
        rels = [p.relative_to(self.base_inbox).as_posix() for p in paths]
        return [r for r in rels if r not in self.base and self.rows.get(r, min_rows) >= min_rows]

    def take(self, source: str, year: int) -> Path:
        """A file of its own for a `load` case (its slice must not be replaced by another)."""
        rel = next(f for f in self.files(source, year) if f not in self.used)
        self.used.add(rel)
        return self.base_inbox / rel

    def any(self, source: str, year: int, index: int = 0) -> Path:
        """A file to break for a `quarantine` case (may be shared)."""
        return self.base_inbox / self.files(source, year)[index]

    def write(self, source: str, year: int, name: str, data: bytes) -> str:
        rel = f"{source}/{year}/{name}"
        target = self.out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return rel

    def rel(self, path: Path) -> str:
        return path.relative_to(self.base_inbox).as_posix()


