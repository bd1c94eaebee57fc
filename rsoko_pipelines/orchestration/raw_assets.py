"""The inbox and landing assets: `inbox/<source>` (the folder operators drop files into, where
every row begins) → `raw/<source>` (its landing tables in the warehouse).

A `raw/<source>` materialisation ingests every new or changed file of every academic year of
its inbox folder (rsoko_pipelines.ingest.landing) and reports one check per column of the
file (rsoko_pipelines.quality.check_groups): an operator sees «Код ОО» fail, with the file,
the rule and the rows, not an opaque suite. A quarantined file fails its check and, at the
end, the step — after its output is recorded, so the rest of the night goes on
(`require_upstream_step_success: false` in the night's executor): only that source × year is
held back by the release step (`raw/file_registry`).
"""


import json
import time

import dagster as dg
from dagster import AssetExecutionContext

from rsoko_pipelines import inbox
from rsoko_pipelines.orchestration.names import (GROUP_INBOX, GROUP_RAW, INBOX_FINGERPRINT_KEY,
                                                 WAREHOUSE_POOL)
from rsoko_pipelines.quality.check_groups import FILE_CONTRACT, check_groups, group_of_expectation
from rsoko_pipelines.settings import SOURCE_SYSTEMS, SOURCES, Settings

MAX_MD_ROWS = 40


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def inbox_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["inbox", source])


def build_inbox_specs() -> list[dg.AssetSpec]:
    """`inbox/<source>`: external assets at the start of the graph. They are observed by the
    landing steps: each observation lists the folder's files and fingerprints per year."""
    return [dg.AssetSpec(
        inbox_key(source), group_name=GROUP_INBOX, kinds={"file"},
        description=f"Папка входящих `<inbox>/{source}/<учебный год>/` / Inbox folder "
                    f"`<inbox>/{source}/<academic year>/`. {SOURCE_SYSTEMS[source]}. Files "
                    "are dropped here by operators; any file name.",
        metadata={"source_system": SOURCE_SYSTEMS[source]})
        for source in SOURCES]


def build_raw_asset(source: str) -> dg.AssetsDefinition:
    key = raw_key(source)
    groups = check_groups(source)

    @dg.asset(
        key=key,
        pool=WAREHOUSE_POOL,
        group_name=GROUP_RAW,
        kinds={"duckdb", "python"},
        deps=[inbox_key(source)] + ([] if source == "schools" else [raw_key("schools")]),
        description=f"Landing table(s) `raw.{source}*`: the parsed, pseudonymised rows of "
                    f"every file of `<inbox>/{source}/<year>/`, checked by "
                    f"expectations/{source}*.json. Source system: {SOURCE_SYSTEMS[source]}.",
        metadata={"source_system": SOURCE_SYSTEMS[source]},
        check_specs=[dg.AssetCheckSpec(g.name, asset=key, description=g.description)
                     for g in groups],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
    )
    def _raw_asset(context: AssetExecutionContext):
        yield from ingest_source(context, source)

    return _raw_asset


def build_raw_assets() -> list[dg.AssetsDefinition]:
    return [build_raw_asset(source) for source in SOURCES]


def ingest_source(context, source: str):
    """Ingest every year folder of the source, then report (see the module docstring)."""
    from rsoko_pipelines.extract.pseudonym import Pseudonymizer
    from rsoko_pipelines.ingest.landing import ingest_partition
    from rsoko_pipelines.ingest.warehouse import writer

    settings = Settings.from_env().ensure_dirs()
    pseudonymizer = Pseudonymizer.from_env(settings.secrets_dir)
    started = time.perf_counter()
    with writer(settings.warehouse_path) as con:
        results = [ingest_partition(con, settings, source, year, pseudonymizer,
                                    log=context.log.info)
                   for year in inbox.year_folders(settings.inbox_dir, source)]
        metadata = source_metadata(con, source, results)
    # the folder as it is after the ingest (quarantined files have left it): the planner
    # compares the next night's folder with this
    fingerprints = inbox.source_fingerprints(settings.inbox_dir, source)
    context.log_event(dg.AssetObservation(asset_key=inbox_key(source), metadata={
        INBOX_FINGERPRINT_KEY: dg.MetadataValue.json(fingerprints),
        "files": dg.MetadataValue.md(_inbox_table(settings, source)),
    }))
    metadata[INBOX_FINGERPRINT_KEY] = dg.MetadataValue.json(fingerprints)
    metadata["ingest_seconds"] = dg.MetadataValue.float(round(time.perf_counter() - started, 2))
    quarantined = [f for r in results for f in r.quarantined]
    for f in quarantined:
        context.log.error(f"Quarantined {f.message}  Report: {f.report_path}")
    yield dg.MaterializeResult(metadata=metadata,
                               check_results=check_results(source, results))
    if quarantined:
        years = sorted({r.academic_year for r in results if r.quarantined})
        raise dg.Failure(
            description=f"{len(quarantined)} file(s) of {source} quarantined; held back: "
                        + ", ".join(f"{source} {y}" for y in years)
                        + f". First: {quarantined[0].message}",
            metadata={"report": dg.MetadataValue.path(quarantined[0].report_path or "")},
            allow_retries=False)


def _inbox_table(settings, source: str) -> str:
    rows = inbox.file_table(settings.inbox_dir, source)
    lines = ["| year | file | bytes |", "|---|---|---|"] + [
        f"| {r['year']} | {_cell(r['file'])} | {r['bytes']:,} |" for r in rows[:MAX_MD_ROWS]]
    if len(rows) > MAX_MD_ROWS:
        lines.append(f"| … | {len(rows) - MAX_MD_ROWS} more | |")
    return "\n".join(lines) if rows else "(empty)"


def _cell(value) -> str:
    return str(value).replace("|", "/").replace("\n", " ")


def source_metadata(con, source: str, results) -> dict:
    """What an operator scans on the materialisation: rows per year, new/replaced/
    quarantined files, the landing schema with its column descriptions, the new files."""
    files = [f for r in results for f in r.files]
    count = lambda *st: sum(1 for f in files if f.status in st)   # noqa: E731
    per_year = con.execute(
        "SELECT academic_year, count(*) FILTER (WHERE status = 'loaded'), "
        "coalesce(sum(rows) FILTER (WHERE status = 'loaded'), 0), "
        "count(*) FILTER (WHERE status = 'quarantined' AND resolved_at IS NULL) "
        "FROM raw._file_registry WHERE source = ? GROUP BY ALL ORDER BY 1",
        [source]).fetchall()
    lines = ["| file | status | rows | note |", "|---|---|---|---|"] + [
        f"| {_cell(f.inbox_path)} | {f.status} | {f.rows:,} | {_cell((f.message or '')[:200])} |"
        for f in files if f.status not in ("unchanged", "duplicate")][:MAX_MD_ROWS]
    years = ["| year | files | rows | quarantined, unresolved |", "|---|---|---|---|"] + [
        f"| {y} | {n:,} | {rows:,} | {q} |" for y, n, rows, q in per_year]
    metadata = {
        "dagster/row_count": dg.MetadataValue.int(int(sum(r[2] for r in per_year))),
        "rows_loaded_this_run": dg.MetadataValue.int(sum(r.rows_loaded for r in results)),
        "files_new": dg.MetadataValue.int(count("loaded", "replaced")),
        "files_replaced": dg.MetadataValue.int(count("replaced")),
        "files_unchanged": dg.MetadataValue.int(count("unchanged", "duplicate")),
        "files_quarantined": dg.MetadataValue.int(count("quarantined")),
        "academic_years": dg.MetadataValue.text(", ".join(str(r.academic_year) for r in results)),
        "validate_seconds": dg.MetadataValue.float(round(validation_seconds(results), 3)),
        "years": dg.MetadataValue.md("\n".join(years)),
        "files": dg.MetadataValue.md("\n".join(lines) if len(lines) > 2 else "no new file"),
    }
    schema = landing_column_schema(con, source)
    if schema is not None:
        metadata["dagster/column_schema"] = schema
    return metadata


def landing_column_schema(con, source: str) -> dg.TableSchema | None:
    """The main landing table's columns with their descriptions (the column maps')."""
    columns = con.execute(
        "SELECT column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
        "WHERE schema_name = 'raw' AND table_name = ? ORDER BY column_index", [source]).fetchall()
    if not columns:
        return None
    return dg.TableSchema(columns=[dg.TableColumn(name, type_, description=doc or None)
                                   for name, type_, doc in columns])


def validation_seconds(results) -> float:
    """Files validated in one batch share one outcome: count each outcome once."""
    outcomes = {id(f.validation): f.validation for r in results for f in r.files
                if f.validation is not None}
    return float(sum(getattr(o, "seconds", 0.0) or 0.0 for o in outcomes.values()))


def check_results(source: str, results) -> list[dg.AssetCheckResult]:
    """One result per check group: failed (ERROR) where a file was quarantined for one of
    its rules, failed (WARN) where a loaded file has a finding, passed otherwise; the
    metadata lists the rule, the file, the year and the rows."""
    group_of = group_of_expectation(source)
    findings: dict[str, list[dict]] = {}
    for r in results:
        for f in r.files:
            if f.status == "quarantined":
                for p in f.problems:
                    name = group_of.get(p.get("check"), FILE_CONTRACT)
                    findings.setdefault(name, []).append({
                        "severity": "error", "file": f.inbox_path, "year": r.academic_year,
                        "rule": p.get("message", ""), "rows": p.get("rows") or [],
                        "hint": p.get("hint", "")})
    seen = set()
    for r in results:
        for f in r.files:
            outcome = f.validation
            if f.status == "quarantined" or outcome is None or id(outcome) in seen:
                continue
            seen.add(id(outcome))
            for e in outcome.warnings:
                findings.setdefault(group_of.get(e.name, FILE_CONTRACT), []).append({
                    "severity": "warning", "file": outcome.file_label or f.inbox_path,
                    "year": r.academic_year, "rule": f"{e.unexpected_count or 0:,} row(s): "
                    f"{e.description}", "rows": list(e.rows), "hint": e.hint})
    checked = sum(1 for r in results for f in r.files
                  if f.status not in ("unchanged", "duplicate"))
    years = ", ".join(str(r.academic_year) for r in results) or "—"
    out = []
    for group in check_groups(source):
        items = findings.get(group.name, [])
        errors = [i for i in items if i["severity"] == "error"]
        metadata = {"files_checked": dg.MetadataValue.int(checked),
                    "academic_years": dg.MetadataValue.text(years),
                    "expectations": dg.MetadataValue.text(", ".join(group.expectation_ids)
                                                          or "the parser's contract checks")}
        if items:
            metadata["findings"] = dg.MetadataValue.md(_findings_table(items))
        if errors:
            description = (f"{len(errors)} file(s) quarantined: {errors[0]['file']} "
                           f"({errors[0]['year']}): {errors[0]['rule']}")
        elif items:
            description = f"{len(items)} finding(s), files loaded: {items[0]['rule']}"
        else:
            description = (f"{checked} new file(s) passed" if checked else "no new file")
        out.append(dg.AssetCheckResult(
            asset_key=raw_key(source), check_name=group.name, passed=not items,
            severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
            metadata=metadata, description=description[:1000]))
    return out


def _findings_table(items: list[dict]) -> str:
    lines = ["| | year | file | rule | rows | what to do |", "|---|---|---|---|---|---|"]
    for i in items[:MAX_MD_ROWS]:
        rows = ", ".join(map(str, i["rows"][:10])) + (" …" if len(i["rows"]) > 10 else "")
        lines.append("| " + " | ".join([
            "✗" if i["severity"] == "error" else "!", str(i["year"]), _cell(i["file"]),
            _cell(i["rule"])[:300], rows, _cell(i["hint"] or "")[:200]]) + " |")
    if len(items) > MAX_MD_ROWS:
        lines.append(f"| … | | {len(items) - MAX_MD_ROWS} more | | | |")
    return "\n".join(lines)


def fingerprints_json(value) -> dict:
    """The inbox fingerprints recorded in a materialisation's metadata."""
    data = getattr(value, "data", value)
    return json.loads(data) if isinstance(data, str) else dict(data or {})
