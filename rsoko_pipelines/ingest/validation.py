"""Runs the Great Expectations suites of a parsed file (rsoko_pipelines.quality)."""

from __future__ import annotations


def validate_parsed(con, source: str, academic_year: int, parsed, file_label: str | None = None):
    """Validate every landing table of one parsed file. Results are checked against the
    school registry of the same year loaded in `raw.schools` (the `schools` asset runs first);
    without a warehouse (`rsoko extract check` on a fresh machine) the known-school
    expectations are reported as skipped instead."""
    from rsoko_pipelines.quality.derived import context_from_warehouse
    from rsoko_pipelines.quality.validate import validate_tables

    context = None
    if con is not None and source != "schools":
        context = context_from_warehouse(con, academic_year)
    return validate_tables(parsed.tables, context, source=source, file_label=file_label)
