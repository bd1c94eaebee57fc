"""dbt models as Dagster assets: one lineage graph raw/<source> → staging → intermediate →
core → marts, dbt tests as asset checks.

- `build_dbt_assets()`: the staging/intermediate/core models, partitioned by
  `ACADEMIC_YEARS`; a run passes the partition as the dbt var `rsoko:academic_year`
  (rsoko_pipelines.dbt_args), so incremental tables rewrite only that year; run config
  `full_refresh: true` rebuilds every year.
- `build_marts_assets()`: the marts, not partitioned: full tables over every year (they
  compare a year with the one before), built once after the night's year runs, with a
  freshness policy (an operator sees when nothing was published for a week).
- `build_reference_assets()`: the reference seeds (not partitioned).
All run in the `duckdb_writer` pool (DuckDB has one writer), with one retry for transient
failures (a lock held by a stray reader).
Nothing heavy happens at import; the manifest is prepared when the builders are called
(i.e. when the Definitions load).
"""


from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from rsoko_pipelines.dbt_args import dbt_cli_args
from rsoko_pipelines.partitions import ACADEMIC_YEARS, WAREHOUSE_POOL

MODEL_LAYERS = ("staging", "intermediate", "core")
MODELS_SELECT = " ".join(f"path:models/{layer}" for layer in MODEL_LAYERS)
MARTS_SELECT = "path:models/marts"
SEEDS_SELECT = "resource_type:seed"
DBT_RETRY = dg.RetryPolicy(max_retries=1, delay=15)

# New data arrives weekly in the assessment season: warn when nothing was published for
# 8 days, fail after 35 (a summer without deliveries shows as a warning, not noise).
MARTS_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(days=35),
                                                 warn_window=timedelta(days=8))


class RsokoDbtTranslator(DagsterDbtTranslator):
    """Keys: sources → their meta.dagster.asset_key (raw/<source>; vpr_tasks belongs to
    raw/vpr), models → <layer>/<model> (layer = folder under models/), seeds →
    reference/<seed>. Groups: the layer (staging, intermediate, core), `reference` for seeds."""

    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(
            enable_asset_checks=True,
            enable_duplicate_source_asset_keys=True,   # raw.vpr and raw.vpr_tasks → raw/vpr
            enable_code_references=False,
        ))

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        fqn = props.get("fqn") or []
        if props["resource_type"] == "seed":
            return "reference"
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        props = dbt_resource_props
        if props["resource_type"] == "source":
            key = (props.get("meta") or {}).get("dagster", {}).get("asset_key")
            return dg.AssetKey(key) if key else dg.AssetKey(["raw", props["name"]])
        return dg.AssetKey([self._layer(props), props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.group_name == "marts":
            spec = spec.replace_attributes(freshness_policy=MARTS_FRESHNESS)
        return spec


class DbtRunConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild every table from scratch, every academic year (schema changes of incremental
    tables, or a year removed from the landing)."""


def _invoke(context: dg.AssetExecutionContext, dbt: DbtCliResource, academic_year,
            full_refresh: bool, indirect_selection: str = "buildable"):
    """`buildable`: a test runs when each model it reads is built in this step or upstream
    of it (a marts test that also reads a core fact runs in the marts step); the seeds step
    passes `cautious` (a test that also reads a model must wait for that model).
    dbt's per-invocation target folder (manifest, run results, logs: ~10 MB) goes under the
    data folder, not into the repository, and only the newest few are kept."""
    from rsoko_pipelines.resources.dbt import warehouse_env
    from rsoko_pipelines.settings import Settings

    warehouse_env()
    args = dbt_cli_args("build", academic_year=academic_year, full_refresh=full_refresh,
                        indirect_selection=indirect_selection)
    runs_dir = Settings.from_env().data_dir / "dbt_runs"
    target = runs_dir / f"{context.op_execution_context.op.name}-{context.run.run_id[:8]}"
    context.log.info(f"dbt {' '.join(args)}  (target: {target})")
    try:
        invocation = dbt.cli(args, context=context, target_path=target)
        yield from invocation.stream()
    finally:
        _prune(runs_dir, keep=DBT_RUNS_KEPT)


DBT_RUNS_KEPT = 8


def _prune(runs_dir, keep: int) -> None:
    import shutil

    if not runs_dir.is_dir():
        return
    folders = sorted((p for p in runs_dir.iterdir() if p.is_dir()),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _build(name: str, select: str, exclude: str | None = None, partitioned: bool = False,
           indirect_selection: str = "buildable") -> dg.AssetsDefinition:
    """One `@dbt_assets` over a dbt selection, in the single-writer pool with one retry.
    Partitioned: the run's academic year reaches dbt as a var. The reference seeds share
    the year assets' backfill policy (they run in the same `nightly_load` job)."""
    from rsoko_pipelines.resources.dbt import dbt_project

    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=select,
        exclude=exclude,
        name=name,
        partitions_def=ACADEMIC_YEARS if partitioned else None,
        dagster_dbt_translator=RsokoDbtTranslator(),
        pool=WAREHOUSE_POOL,
        retry_policy=DBT_RETRY,
        backfill_policy=(dg.BackfillPolicy.multi_run(1)
                         if partitioned or select == SEEDS_SELECT else None),
    )
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig):
        year = context.partition_key if partitioned else None
        yield from _invoke(context, dbt, year, config.full_refresh, indirect_selection)

    return _assets


def build_dbt_assets(select: str = MODELS_SELECT, exclude: str | None = None,
                     name: str = "rsoko_dbt_models") -> dg.AssetsDefinition:
    """The staging/intermediate/core models, partitioned by academic year."""
    return _build(name, select, exclude, partitioned=True)


def build_marts_assets(name: str = "rsoko_dbt_marts") -> dg.AssetsDefinition:
    """The marts over every year (not partitioned)."""
    return _build(name, MARTS_SELECT)


def build_reference_assets(name: str = "rsoko_dbt_reference") -> dg.AssetsDefinition:
    """The reference seeds; `cautious`: a test that also reads a model waits for it."""
    return _build(name, SEEDS_SELECT, indirect_selection="cautious")


def build_all_dbt_assets() -> list[dg.AssetsDefinition]:
    return [build_reference_assets(), build_dbt_assets(), build_marts_assets()]
