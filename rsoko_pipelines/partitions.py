"""The academic-year partitions shared by every raw asset and the dbt models.

Dynamic, because a new academic year appears as a new inbox folder: the nightly command
and the inbox sensor register `<inbox>/<source>/<year>/` folders as partitions."""

from __future__ import annotations

import dagster as dg

ACADEMIC_YEARS = dg.DynamicPartitionsDefinition(name="academic_year")

# DuckDB has one writer: every asset that writes the warehouse runs in this pool (limit 1,
# see dagster.yaml); readers open the published copy read-only.
WAREHOUSE_POOL = "duckdb_writer"


def inbox_years(inbox_dir) -> list[str]:
    """Academic years present anywhere in the inbox (`<inbox>/<source>/<yyyy>/`)."""
    years = {
        p.name for p in inbox_dir.glob("*/*") if p.is_dir() and p.name.isdigit() and len(p.name) == 4
    }
    return sorted(years)
