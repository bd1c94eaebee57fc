"""What ingesting a file or a source × year folder came to: the types shared by landing,
quarantine, the Dagster landing assets and the reports (their own module: landing and
quarantine both need them, and neither should import the other for it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileOutcome:
    inbox_path: str
    status: str                 # loaded | replaced | quarantined | unchanged | duplicate
    file_id: str | None = None
    rows: int = 0
    message: str | None = None
    report_path: str | None = None
    validation: object | None = None   # rsoko_pipelines.quality ValidationOutcome
    problems: list = field(default_factory=list)   # quarantined: the report's problems


@dataclass
class PartitionIngest:
    source: str
    academic_year: int
    files: list[FileOutcome] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(1 for f in self.files if f.status in statuses)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows for f in self.files if f.status in ("loaded", "replaced"))

    @property
    def quarantined(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "quarantined"]
