"""Turns one partition's ingest into what an operator sees in Dagster: metadata (rows,
files, rejects, schema with descriptions, a Markdown preview) and the blocking check."""

from __future__ import annotations

import dagster as dg

from rsoko_pipelines.ingest.landing import PartitionIngest, ingest_partition
from rsoko_pipelines.ingest.warehouse import first_row, writer
from rsoko_pipelines.settings import Settings

CHECK_NAME = "great_expectations"


def materialize_partition(context, source: str, academic_year: int) -> dg.MaterializeResult:
    from rsoko_pipelines.extract.pseudonym import Pseudonymizer

    settings = Settings.from_env().ensure_dirs()
    pseudonymizer = Pseudonymizer.from_env(settings.secrets_dir)
    with writer(settings.warehouse_path) as con:
        result = ingest_partition(con, settings, source, academic_year, pseudonymizer,
                                  log=context.log.info)
        for f in result.quarantined:
            context.log.error(f"Quarantined {f.message}  Report: {f.report_path}")
        metadata = partition_metadata(con, result)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[check_result(source, result)],
    )


def _landing_tables(con, source: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name='raw' AND "
        "(table_name = ? OR table_name LIKE ? ) ORDER BY table_name",
        [source, source + "\\_%"]).fetchall() if not r[0].startswith("_")]


def partition_metadata(con, result: PartitionIngest) -> dict:
    source, year = result.source, result.academic_year
    files = con.execute(
        "SELECT file_name, status, rows, slice_key FROM raw._file_registry "
        "WHERE source=? AND academic_year=? ORDER BY status, file_name",
        [source, year]).fetchall()
    tables = _landing_tables(con, source)
    rows_in_partition = 0
    schema = None
    if source in tables:
        rows_in_partition = first_row(
            con, f"SELECT count(*) FROM raw.{source} WHERE academic_year = ?", [year])[0]
        columns = con.execute(
            "SELECT column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
            "WHERE schema_name='raw' AND table_name=? ORDER BY column_index", [source]).fetchall()
        schema = dg.TableSchema(columns=[
            dg.TableColumn(name, type_, description=desc or None) for name, type_, desc in columns])
    preview = "\n".join(
        ["| file | status | rows |", "|---|---|---|"]
        + [f"| {name} | {status} | {rows or 0} |" for name, status, rows, _ in files[:50]]
        + ([f"| … {len(files) - 50} more | | |"] if len(files) > 50 else []))
    metadata = {
        "dagster/row_count": dg.MetadataValue.int(int(rows_in_partition)),
        "rows_loaded_this_run": dg.MetadataValue.int(result.rows_loaded),
        "files_new": dg.MetadataValue.int(result.count("loaded", "replaced")),
        "files_replaced": dg.MetadataValue.int(result.count("replaced")),
        "files_unchanged": dg.MetadataValue.int(result.count("unchanged", "duplicate")),
        "files_quarantined": dg.MetadataValue.int(result.count("quarantined")),
        "landing_tables": dg.MetadataValue.text(", ".join(f"raw.{t}" for t in tables)),
        # GX time within this step (the nightly report and the benchmark split it out)
        "validate_seconds": dg.MetadataValue.float(round(float(validation_seconds(result)), 3)),
        "files": dg.MetadataValue.md(preview),
    }
    if schema is not None:
        metadata["dagster/column_schema"] = schema
    return metadata


def validation_seconds(result: PartitionIngest) -> float:
    """Files validated in one batch share one outcome: count each outcome once."""
    outcomes = {id(f.validation): f.validation for f in result.files if f.validation is not None}
    return sum(getattr(o, "seconds", 0.0) or 0.0 for o in outcomes.values())


def check_result(source: str, result: PartitionIngest) -> dg.AssetCheckResult:
    bad = result.quarantined
    validated = [f for f in result.files if f.validation is not None]
    lines = ["| file | status | rows | problem |", "|---|---|---|---|"]
    for f in result.files:
        if f.status in ("unchanged", "duplicate"):
            continue
        lines.append(f"| {f.inbox_path} | {f.status} | {f.rows} | "
                     f"{(f.message or '').replace('|', '/')[:300]} |")
    metadata = {
        # a file quarantined by GX is both validated and bad: count each file once
        "files_checked": dg.MetadataValue.int(
            sum(1 for f in result.files if f.validation is not None or f.status == "quarantined")),
        "files_quarantined": dg.MetadataValue.int(len(bad)),
        "files": dg.MetadataValue.md("\n".join(lines)),
    }
    if bad:
        metadata["first_failure"] = dg.MetadataValue.text(bad[0].message or "")
        if bad[0].report_path:
            metadata["report"] = dg.MetadataValue.path(bad[0].report_path)
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", source]),
        check_name=CHECK_NAME,
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=(bad[0].message if bad else
                     f"{len(validated)} new file(s) passed expectations/{source}.json"),
    )
