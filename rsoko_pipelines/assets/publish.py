"""`published/marts`: the analysts' copy of the marts.

Runs after the marts and their dbt tests passed (a failing test fails the marts step, so
nothing is published). Writes a new read-only DuckDB file and Parquet files as a new
version and swaps it in atomically (rsoko_pipelines.publish): analysts reading during the
load keep reading the previous version and never see a lock.
"""


import os

import dagster as dg

from rsoko_pipelines.partitions import WAREHOUSE_POOL

PUBLISHED_KEY = dg.AssetKey(["published", "marts"])


def _keep_versions() -> int:
    return max(1, int(os.environ.get("RSOKO_PUBLISH_KEEP", "7")))


def build_publish_asset(mart_keys) -> dg.AssetsDefinition:
    from rsoko_pipelines.assets.dbt import MARTS_FRESHNESS

    @dg.asset(
        key=PUBLISHED_KEY,
        deps=sorted(mart_keys, key=lambda k: k.to_user_string()),
        group_name="published",
        kinds={"duckdb", "parquet"},
        pool=WAREHOUSE_POOL,   # reads the warehouse: no writer may hold it meanwhile
        retry_policy=dg.RetryPolicy(max_retries=1, delay=15),
        freshness_policy=MARTS_FRESHNESS,
        description="Read-only DuckDB file (schema `marts`) and Parquet export (by academic "
                    "year) for analysts, versioned with a manifest of the source files; "
                    "`var/published/rsoko_marts.duckdb` always points to the current version.",
    )
    def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        from rsoko_pipelines.publish import publish_marts
        from rsoko_pipelines.settings import Settings

        settings = Settings.from_env().ensure_dirs()
        manifest = publish_marts(settings.warehouse_path, settings.published_dir,
                                 keep=_keep_versions(), log=context.log.info)
        return dg.MaterializeResult(metadata=publish_metadata(settings, manifest))

    return published_marts


def publish_metadata(settings, manifest: dict) -> dict:
    from rsoko_pipelines.publish.versions import DB_FILE

    tables = manifest.get("tables", {})
    lines = ["| table | rows |", "|---|---|"] + [
        f"| marts.{name} | {info.get('rows', 0):,} |" for name, info in sorted(tables.items())]
    return {
        "version": dg.MetadataValue.text(str(manifest.get("version"))),
        "database": dg.MetadataValue.path(str(settings.published_dir / DB_FILE)),
        "parquet": dg.MetadataValue.path(
            str(settings.published_dir / "versions" / str(manifest.get("version")) / "parquet")),
        "source_files": dg.MetadataValue.int(len(manifest.get("source_files", []))),
        "dagster/row_count": dg.MetadataValue.int(
            sum(int(t.get("rows", 0)) for t in tables.values())),
        "tables": dg.MetadataValue.md("\n".join(lines)),
    }
