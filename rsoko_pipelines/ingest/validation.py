"""Runs the Great Expectations suites of parsed files (rsoko_pipelines.quality)."""

from __future__ import annotations

import pyarrow as pa


def _context(con, source: str, academic_year: int):
    """Results are checked against the school registry of the same year in `raw.schools`
    (the `schools` asset runs first). Without a warehouse (`rsoko extract check` on a fresh
    machine) the known-school expectations are reported as skipped instead."""
    from rsoko_pipelines.quality.derived import context_from_warehouse

    if con is None or source == "schools":
        return None
    return context_from_warehouse(con, academic_year)


def validate_parsed(con, source: str, academic_year: int, parsed, file_label: str | None = None):
    """Validate every landing table of one parsed file."""
    from rsoko_pipelines.quality.validate import validate_tables

    return validate_tables(parsed.tables, _context(con, source, academic_year), source=source,
                           file_label=file_label)


def validate_batch(con, source: str, academic_year: int, files: list[tuple[str, str, object]]):
    """`files` = [(file_id, label, parsed)] -> {file_id: outcome}. One GX run over all of
    them; if it fails, the batch is split in halves until the failing files stand alone, so
    one bad file among thousands costs about 2·log2(n) runs, and only the bad files get a
    failing outcome (each with its own report)."""
    if not files:
        return {}
    return _bisect(files, _context(con, source, academic_year), source)


def _bisect(files, context, source) -> dict:
    from rsoko_pipelines.quality.validate import validate_tables

    if len(files) == 1:
        file_id, label, parsed = files[0]
        return {file_id: validate_tables(parsed.tables, context, source=source,
                                         file_label=label)}
    names = list(dict.fromkeys(n for _, _, p in files for n in p.tables))
    combined = {n: pa.concat_tables([p.tables[n] for _, _, p in files if n in p.tables])
                for n in names}
    outcome = validate_tables(combined, context, source=source,
                              file_label=f"{len(files)} files")
    if outcome.success:
        return {file_id: outcome for file_id, _, _ in files}
    middle = len(files) // 2
    return {**_bisect(files[:middle], context, source), **_bisect(files[middle:], context, source)}
