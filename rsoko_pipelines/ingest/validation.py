"""Runs the Great Expectations suites of parsed files (rsoko_pipelines.quality)."""

from __future__ import annotations

import gc

import pyarrow as pa

# Great Expectations keeps each run's pandas frame in reference cycles (its ephemeral context,
# data source and batch refer to each other), so a batch's frame (~1 GB per million rows of
# text) is freed only by Python's full garbage collection, which runs rarely: at tier F the
# ingest process grew to 17.7 GB on one partition of 30M rows. A full collection after
# each large batch (~0.2 s) keeps it near one batch's worth.
COLLECT_AFTER_ROWS = 200_000


def _context(con, source: str, academic_year: int):
    """Results are checked against the school registry of the same year in `raw.schools`
    (the `schools` asset runs first). Without a warehouse (`rsoko extract check` on a fresh
    machine) the known-school expectations are reported as skipped instead."""
    from rsoko_pipelines.quality.derived import REGISTRY_OPTIONAL, context_from_warehouse

    if con is None or source == "schools" or source in REGISTRY_OPTIONAL:
        return None
    return context_from_warehouse(con, academic_year)


def _registry_missing(context) -> bool:
    from rsoko_pipelines.quality.derived import REGISTRY_KEY

    registry = (context or {}).get(REGISTRY_KEY)
    return registry is not None and len(registry) == 0


def registry_missing_outcome(source: str, academic_year: int, parsed, file_label=None):
    """No registry of schools of any year is loaded (a deployment nobody has set up yet):
    every school would be "unknown", and a finding listing every row as an unknown school
    sends the operator after the wrong problem. One clear finding. (A year without its own
    registry is checked against the nearest registry: quality.derived.context_from_warehouse.)"""
    from rsoko_pipelines.quality.validate import ExpectationOutcome, ValidationOutcome

    finding = ExpectationOutcome(
        name=f"{source}.registry_of_year_loaded", expectation_type="registry_of_year_loaded",
        column=None, success=False, severity="error", status="failed", table=source,
        description="Загружен реестр ОО хотя бы одного учебного года (источник schools), иначе "
                    "школы файла не с чем сверить / A registry of schools of some academic year "
                    "is loaded (source schools); without one the schools of this file cannot "
                    "be checked",
        hint=f"Drop a registry of schools into schools/<year>/ (best: schools/{academic_year}/, "
             f"the year of this file) first, then this file again / Положите реестр ОО в "
             f"schools/<год>/ (лучше schools/{academic_year}/), затем этот файл снова")
    return ValidationOutcome(
        source=source, suite=source, success=False, row_count=parsed.rows,
        expectations=[finding], seconds=0.0, file_label=file_label,
        academic_year=academic_year, file_id=parsed.file_id,
        tables={name: t.num_rows for name, t in parsed.tables.items()})


def validate_parsed(con, source: str, academic_year: int, parsed, file_label: str | None = None):
    """Validate every landing table of one parsed file."""
    from rsoko_pipelines.quality.validate import validate_tables

    context = _context(con, source, academic_year)
    if _registry_missing(context):
        return registry_missing_outcome(source, academic_year, parsed, file_label)
    return validate_tables(parsed.tables, context, source=source, file_label=file_label)


def validate_batch(con, source: str, academic_year: int, files: list[tuple[str, str, object]]):
    """`files` = [(file_id, label, parsed)] -> {file_id: outcome}. One GX run over all of
    them; if it fails, the batch is split in halves until the failing files stand alone, so
    one bad file among thousands costs about 2·log2(n) runs, and only the bad files get a
    failing outcome (each with its own report)."""
    if not files:
        return {}
    context = _context(con, source, academic_year)
    if _registry_missing(context):
        return {file_id: registry_missing_outcome(source, academic_year, parsed, label)
                for file_id, label, parsed in files}
    outcomes = _bisect(files, context, source)
    if sum(parsed.rows for _, _, parsed in files) >= COLLECT_AFTER_ROWS:
        gc.collect()
    return outcomes


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
