"""dbt as Dagster assets: one lineage graph raw/<source> → staging → intermediate → core →
marts, dbt tests as asset checks.

- `build_models_asset()`: staging, intermediate and core. It rebuilds the build slices the
  release step put in scope (macros/build_scope.sql), runs the tests, and holds back the
  source × years a failing test belongs to: their previous release is restored and their
  slices rebuilt from it (transform.py), so a bad file never reaches the marts.
- `build_marts_asset()`: the marts over every year (full tables: they compare a year with the
  one before), with a freshness policy. A mart whose test fails keeps its previous published
  version (the publish step reads `raw._held_marts`).
- `build_reference_asset()`: the reference seeds.

dbt tests run with severity `warn` (dbt_project.yml): dbt never skips a model for a failing
test; rsoko decides what a failure holds back. The failed checks are reported as errors, with
the rule, the count, sample rows with their file and line, and what to do.
Nothing heavy happens at import; the manifest is prepared when the builders are called.
"""


from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from rsoko_pipelines.orchestration.names import (DBT_MARTS_OP, DBT_MODELS_OP, DBT_REFERENCE_OP,
                                                 GROUP_REFERENCE, WAREHOUSE_POOL)

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
    raw/vpr, the registry tables to raw/file_registry), models → <layer>/<model> (layer =
    folder under models/), seeds → reference/<seed>. Descriptions without the raw SQL block;
    every test check says its rule in words."""

    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(
            enable_asset_checks=True,
            enable_duplicate_source_asset_keys=True,
            enable_code_references=False,
        ))

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        fqn = props.get("fqn") or []
        if props["resource_type"] == "seed":
            return GROUP_REFERENCE
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        props = dbt_resource_props
        if props["resource_type"] == "source":
            key = (props.get("meta") or {}).get("dagster", {}).get("asset_key")
            return dg.AssetKey(key) if key else dg.AssetKey(["raw", props["name"]])
        return dg.AssetKey([self._layer(props), props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        props = dbt_resource_props
        return (props.get("description") or "").strip() or \
            f"dbt {props['resource_type']} {props['name']}"

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        if spec.group_name == "marts":
            spec = spec.replace_attributes(freshness_policy=MARTS_FRESHNESS)
        return spec

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        from rsoko_pipelines.quality.dbt_failures import hint_text, rule_text

        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        node = manifest["nodes"][unique_id]
        return dg.AssetCheckSpec(
            name=spec.name, asset=spec.asset_key, additional_deps=spec.additional_deps,
            metadata=spec.metadata, blocking=False,
            description=f"{rule_text(node)}. Если не выполнено / when it fails: {hint_text(node)}")


class DbtRunConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild every model from the landing (`--full-refresh`), whatever the build scope."""


def _project():
    from rsoko_pipelines.orchestration.resources import dbt_project

    return dbt_project()


def build_models_asset() -> dg.AssetsDefinition:
    project = _project()

    @dbt_assets(manifest=project.manifest_path, project=project, select=MODELS_SELECT,
                name=DBT_MODELS_OP, dagster_dbt_translator=RsokoDbtTranslator(),
                pool=WAREHOUSE_POOL, retry_policy=DBT_RETRY)
    def _models(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig):
        from rsoko_pipelines.orchestration.transform import build_models

        yield from build_models(context, dbt, force_full=config.full_refresh)

    return _models


def build_marts_asset() -> dg.AssetsDefinition:
    project = _project()

    @dbt_assets(manifest=project.manifest_path, project=project, select=MARTS_SELECT,
                name=DBT_MARTS_OP, dagster_dbt_translator=RsokoDbtTranslator(),
                pool=WAREHOUSE_POOL, retry_policy=DBT_RETRY)
    def _marts(context: AssetExecutionContext, dbt: DbtCliResource):
        from rsoko_pipelines.orchestration.transform import build_marts

        yield from build_marts(context, dbt)

    return _marts


def build_reference_asset() -> dg.AssetsDefinition:
    """The reference seeds; `cautious`: a test that also reads a model waits for it."""
    project = _project()

    @dbt_assets(manifest=project.manifest_path, project=project, select=SEEDS_SELECT,
                name=DBT_REFERENCE_OP, dagster_dbt_translator=RsokoDbtTranslator(),
                pool=WAREHOUSE_POOL, retry_policy=DBT_RETRY)
    def _reference(context: AssetExecutionContext, dbt: DbtCliResource):
        from rsoko_pipelines.orchestration.transform import build_reference

        yield from build_reference(context, dbt)

    return _reference
