"""`published/marts`: the analysts' copy of the marts, the night's last step.

Writes a new read-only DuckDB file and Parquet files as a new version and swaps it in
atomically (rsoko_pipelines.publish): analysts reading during the load keep reading the
previous version and never see a lock. A mart that failed a test tonight keeps its previous
published version; `marts.data_status` says, per source × year, what is in use and what is
held back. The run is tagged complete, and the state the night covered (inbox fingerprints,
dbt project) is recorded for the next night's planner (night/plan.py).
"""


import os

import dagster as dg
from dagster import AssetExecutionContext

from rsoko_pipelines.orchestration.names import (COMPLETE_TAG, GROUP_PUBLISHED,
                                                 INBOX_FINGERPRINT_KEY, STATE_KEY, WAREHOUSE_POOL)

PUBLISHED_KEY = dg.AssetKey(["published", "marts"])


def _keep_versions() -> int:
    return max(1, int(os.environ.get("RSOKO_PUBLISH_KEEP", "7")))


def build_publish_asset(mart_keys) -> dg.AssetsDefinition:
    from rsoko_pipelines.orchestration.dbt_assets import MARTS_FRESHNESS

    @dg.asset(
        key=PUBLISHED_KEY,
        deps=sorted(mart_keys, key=lambda k: k.to_user_string()),
        group_name=GROUP_PUBLISHED,
        kinds={"duckdb", "parquet"},
        pool=WAREHOUSE_POOL,   # reads the warehouse: no writer may hold it meanwhile
        retry_policy=dg.RetryPolicy(max_retries=1, delay=15),
        freshness_policy=MARTS_FRESHNESS,
        description="Read-only DuckDB file (schema `marts`) and Parquet export (by academic "
                    "year) for analysts, versioned with a manifest of the source files; "
                    "`var/published/rsoko_marts.duckdb` always points to the current version.",
    )
    def published_marts(context: AssetExecutionContext) -> dg.MaterializeResult:
        from rsoko_pipelines.publish import publish_marts
        from rsoko_pipelines.settings import Settings

        settings = Settings.from_env().ensure_dirs()
        manifest = publish_marts(settings.warehouse_path, settings.published_dir,
                                 keep=_keep_versions(), log=context.log.info)
        context.instance.add_run_tags(context.run.run_id,
                                      {COMPLETE_TAG: f"published {manifest['version']}"})
        metadata = publish_metadata(settings, manifest)
        metadata[STATE_KEY] = dg.MetadataValue.json(night_state(context))
        return dg.MaterializeResult(metadata=metadata)

    return published_marts


def night_state(context) -> dict:
    """What this publication covers, for the next night's planner: the inbox fingerprints
    the landing steps recorded (this run's, else the latest), the dbt project's."""
    from rsoko_pipelines.orchestration.raw_assets import fingerprints_json
    from rsoko_pipelines.orchestration.resources import project_fingerprint
    from rsoko_pipelines.settings import SOURCES

    inbox = {}
    for source in SOURCES:
        event = context.instance.get_latest_materialization_event(dg.AssetKey(["raw", source]))
        value = (event.asset_materialization.metadata.get(INBOX_FINGERPRINT_KEY)
                 if event and event.asset_materialization else None)
        if value is not None:
            inbox[source] = fingerprints_json(value)
    return {"inbox": inbox, "dbt_project": project_fingerprint()}


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
        "held_back": dg.MetadataValue.md(_held_table(manifest)),
    }


def _held_table(manifest: dict) -> str:
    held = [r for r in manifest.get("data_status", []) if r.get("is_held_back")]
    kept = manifest.get("marts_kept_from_previous", {})
    if not held and not kept:
        return "nothing held back"
    lines = ["| what | why |", "|---|---|"]
    lines += [f"| {r.get('source')} {r.get('academic_year')} | "
              f"{str(r.get('held_back_reason') or '').replace('|', '/')[:200]} |" for r in held]
    lines += [f"| marts.{name} | {why.replace('|', '/')[:200]} |" for name, why in kept.items()]
    return "\n".join(lines)
