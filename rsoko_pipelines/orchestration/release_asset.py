"""`raw/file_registry`: the release step between the landing and the models.

After the night's landing steps it decides, per source × academic year, what the models read
(rsoko_pipelines.ingest.release): new and corrected files are released unless a quarantined
file holds their source × year back, in which case the models keep reading its last good
version. It also creates the landing table of every source that has none (a region that runs
no РПР still gets an empty `raw.rpr`, so the models never fail on a missing source).

Its metadata is the state of every source × year (what an operator and `rsoko status` read);
its check `nothing_held_back` warns while anything is held back.
"""


import dagster as dg
from dagster import AssetExecutionContext

from rsoko_pipelines.orchestration.names import GROUP_RAW, WAREHOUSE_POOL
from rsoko_pipelines.orchestration.raw_assets import raw_key
from rsoko_pipelines.settings import SOURCES, Settings

REGISTRY_KEY = dg.AssetKey(["raw", "file_registry"])
HELD_BACK_CHECK = "nothing_held_back"
STATUS_SQL = """
    SELECT f.source, f.academic_year,
           count(*) FILTER (WHERE f.released AND f.status <> 'quarantined') AS files_in_use,
           coalesce(sum(f.rows) FILTER (WHERE f.released AND f.status <> 'quarantined'), 0)
               AS rows_in_use,
           max(f.loaded_at) FILTER (WHERE f.released AND f.status <> 'quarantined') AS loaded_at,
           count(*) FILTER (WHERE f.status = 'loaded' AND NOT f.released) AS pending,
           coalesce(any_value(s.state), 'current') AS state, any_value(s.reason) AS reason
    FROM raw._file_registry f
    LEFT JOIN raw._slice_status s USING (source, academic_year)
    GROUP BY ALL ORDER BY f.source, f.academic_year"""


def build_release_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=REGISTRY_KEY,
        deps=[raw_key(s) for s in SOURCES],
        pool=WAREHOUSE_POOL,
        group_name=GROUP_RAW,
        kinds={"duckdb"},
        description="Реестр файлов и выпуск / File registry and release: every extract seen "
                    "(sha256, slice, rows, status) and, per source × academic year, what the "
                    "models read tonight — new files are released unless a quarantined file "
                    "holds their source × year back (then its last good version stays).",
        check_specs=[dg.AssetCheckSpec(
            HELD_BACK_CHECK, asset=REGISTRY_KEY,
            description="Ни один источник × год не задержан / No source × year is held back "
                        "(a quarantined file or a failing test holds back only its source × "
                        "year; the rest loads and is published)")],
    )
    def file_registry(context: AssetExecutionContext):
        from rsoko_pipelines.ingest import release
        from rsoko_pipelines.ingest.tables import ensure_all_landing_tables
        from rsoko_pipelines.ingest.warehouse import writer

        settings = Settings.from_env().ensure_dirs()
        with writer(settings.warehouse_path) as con:
            release.ensure_state(con)
            created = ensure_all_landing_tables(con)
            before = _held(con)
            plan = release.plan_release(con)
            if not plan.scope and _held(con) != before:
                # nothing to rebuild, but what is held back changed: refresh the marts
                release.add_to_scope(con, [release.STATUS_ONLY], "release status changed")
                plan.scope = release.scope(con)
            status = con.execute(STATUS_SQL).fetchall()
        context.log.info(f"Release: {plan.describe()}; build scope: "
                         f"{len(plan.scope)} slice(s)")
        yield dg.MaterializeResult(
            metadata=release_metadata(plan, status, created),
            check_results=[dg.AssetCheckResult(
                asset_key=REGISTRY_KEY, check_name=HELD_BACK_CHECK, passed=not plan.held_back,
                severity=dg.AssetCheckSeverity.WARN,
                description=("held back: " + "; ".join(
                    f"{s} {y}: {why}" for (s, y), why in sorted(plan.held_back.items()))
                    if plan.held_back else "every source × year is current")[:1000],
                metadata={"held_back": dg.MetadataValue.int(len(plan.held_back))})])

    return file_registry


def _held(con) -> set:
    return set(con.execute("SELECT source, academic_year, reason FROM raw._slice_status "
                           "WHERE state = 'held_back'").fetchall())


def release_metadata(plan, status, created) -> dict:
    lines = ["| source | year | state | files in use | rows in use | pending | why |",
             "|---|---|---|---|---|---|---|"]
    for source, year, files, rows, _loaded, pending, state, reason in status:
        lines.append(f"| {source} | {year} | {state} | {files:,} | {rows:,} | {pending:,} | "
                     f"{(reason or '').replace('|', '/')[:200]} |")
    return {
        "release": dg.MetadataValue.text(plan.describe()),
        "build_scope": dg.MetadataValue.int(len(plan.scope)),
        "held_back": dg.MetadataValue.int(len(plan.held_back)),
        "sources": dg.MetadataValue.md("\n".join(lines)),
        "empty_landing_tables_created": dg.MetadataValue.text(", ".join(created) or "none"),
    }
