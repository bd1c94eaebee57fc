"""The deployment as an operator starts it: `dagster-webserver` and `dagster-daemon run` on
workspace.yaml, from an empty instance. Through the webserver's GraphQL API: the whole asset
graph raw → staging → intermediate → core → marts → published (the edges are derived from
the dbt manifest), the checks on it, the jobs, the schedule and the sensors — and the daemon
evaluates the sensor. Every check says what it checks: the raw assets one per file column,
every dbt test its rule in words."""

from __future__ import annotations

import json
import re
import time

import pytest

from rsoko_pipelines.settings import DBT_PROJECT_DIR, SOURCES
from tests._project import mart_names
from tests.e2e._dagster import LOCATION, REPOSITORY, Dagster, deployment_env

pytestmark = pytest.mark.e2e

MARTS = tuple(sorted(mart_names()))
PUBLISHED = "published/marts"
JOBS = {"reference_data", "nightly", "publish_marts"}
SCHEDULE = {"name": "nightly_schedule", "cronSchedule": "0 2 * * *",
            "executionTimezone": "Europe/Moscow"}
SENSORS = {"inbox_sensor"}
LAYERS = ("staging", "intermediate", "core", "marts")
SELECTOR = {"repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}

ASSET_GRAPH_QUERY = """
query {
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    groupName
    isPartitioned
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name blocking description } }
    }
  }
}
"""

REPOSITORY_QUERY = """
query ($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      jobs { name isAssetJob }
      schedules {
        name cronSchedule executionTimezone
        pipelineName
        scheduleState { status }
      }
      sensors {
        name
        targets { pipelineName }
        sensorState { status ticks(limit: 1) { status skipReason error { message } } }
      }
    }
    ... on PythonError { message }
  }
}
"""


# --------------------------------------------------------------------------- expectations
def _manifest() -> dict:
    path = DBT_PROJECT_DIR / "target" / "manifest.json"   # prepared when the location loads
    return json.loads(path.read_text(encoding="utf-8"))


def _key(manifest: dict, unique_id: str) -> str:
    """The asset key of a manifest node, as rsoko's dbt translator names it."""
    if unique_id.startswith("source."):
        node = manifest["sources"][unique_id]
        key = (node.get("meta") or {}).get("dagster", {}).get("asset_key") or ["raw",
                                                                               node["name"]]
        return "/".join(key)
    node = manifest["nodes"][unique_id]
    if node["resource_type"] == "seed":
        return f"reference/{node['name']}"
    return f"{node['fqn'][1]}/{node['name']}"


def _ephemeral(manifest: dict, unique_id: str) -> bool:
    node = manifest["nodes"].get(unique_id, {})
    return node.get("config", {}).get("materialized") == "ephemeral"


def _asset_parents(manifest: dict, unique_id: str) -> set[str]:
    """The parents of a node as assets: an ephemeral model (the parts of `indicators`) is
    no asset, its own parents are."""
    out = set()
    for parent in manifest["nodes"].get(unique_id, {}).get("depends_on", {}).get("nodes", []):
        out |= _asset_parents(manifest, parent) if _ephemeral(manifest, parent) else {parent}
    return out


def expected_from_manifest() -> tuple[set[tuple[str, str]], dict[str, set[str]]]:
    """Every (parent, child) edge into a dbt model, and each model's dbt tests."""
    manifest = _manifest()
    models = {uid: n for uid, n in manifest["nodes"].items()
              if n["resource_type"] == "model" and n["fqn"][1] in LAYERS
              and not _ephemeral(manifest, uid)}
    edges = {(_key(manifest, parent), _key(manifest, uid))
             for uid in models for parent in _asset_parents(manifest, uid)}
    tests: dict[str, set[str]] = {_key(manifest, uid): set() for uid in models}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node") in models:
            tests[_key(manifest, node["attached_node"])].add(node["name"])
    return edges, tests


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def dagster(tmp_path_factory):
    """Webserver + daemon on an empty instance and an empty data folder."""
    root = tmp_path_factory.mktemp("e2e_graphql")
    started = time.monotonic()
    with Dagster(deployment_env(root / "data"), root / "logs").start() as server:
        server.location = server.wait_loaded()
        server.load_seconds = time.monotonic() - started
        yield server


@pytest.fixture(scope="module")
def assets(dagster) -> dict[str, dict]:
    nodes = dagster.graphql(ASSET_GRAPH_QUERY)["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n for n in nodes}


@pytest.fixture(scope="module")
def repository(dagster) -> dict:
    data = dagster.graphql(REPOSITORY_QUERY, {"selector": SELECTOR})["repositoryOrError"]
    assert data["__typename"] == "Repository", data
    return data


def _parents(node: dict) -> set[str]:
    return {"/".join(k["path"]) for k in node["dependencyKeys"]}


def _checks(node: dict) -> dict[str, bool]:
    checks = node["assetChecksOrError"]
    assert checks["__typename"] == "AssetChecks", checks
    return {c["name"]: c["blocking"] for c in checks["checks"]}


# --------------------------------------------------------------------------- tests
def test_code_location_loads_quickly(dagster):
    assert dagster.location["repositories"] == [{"name": REPOSITORY}]
    assert dagster.load_seconds < 90, dagster.load_seconds


def test_every_dbt_edge_is_in_the_asset_graph(assets):
    edges, _ = expected_from_manifest()
    assert len(edges) > 50
    missing = sorted(f"{parent} → {child}" for parent, child in edges
                     if child not in assets or parent not in _parents(assets[child]))
    assert not missing, "edges missing from the asset graph:\n" + "\n".join(missing)
    # the dbt sources are the raw landing assets (one lineage graph, no stray source assets)
    for source in SOURCES:
        assert assets[f"raw/{source}"]["groupName"] == "raw"
    assert not [k for k in assets if k.startswith("raw/") and k[4:] not in
                (*SOURCES, "file_registry")]


def test_lineage_from_raw_to_published(assets):
    """One path written out, as an analyst would trace an ЕГЭ score."""
    chain = ["raw/ege", "staging/stg_ege", "intermediate/int_gia_results",
             "core/fct_assessment_result", "marts/assessment_results", PUBLISHED]
    for parent, child in zip(chain, chain[1:]):
        assert parent in _parents(assets[child]), f"{parent} → {child}"
    # every source reaches staging
    for source in SOURCES:
        assert any(f"raw/{source}" in _parents(n) for k, n in assets.items()
                   if k.startswith("staging/")), source


def test_layers_and_marts(assets):
    layer_of = {k: k.split("/", 1)[0] for k in assets}
    for layer in ("inbox", "raw", "staging", "intermediate", "core", "marts"):
        assert layer in layer_of.values(), layer
    assert {k for k in assets if k.startswith("marts/")} == {f"marts/{m}" for m in MARTS}
    assert any(k.startswith("core/dim_") for k in assets)
    assert any(k.startswith("core/fct_") for k in assets)
    # one run per night: nothing is partitioned any more
    assert [k for k, n in assets.items() if n["isPartitioned"]] == []
    # the inbox folders start the graph; the release step sits between landing and models
    for source in SOURCES:
        assert _parents(assets[f"raw/{source}"]) >= {f"inbox/{source}"}
        assert assets[f"inbox/{source}"]["groupName"] == "inbox"
    assert _parents(assets["raw/file_registry"]) == {f"raw/{s}" for s in SOURCES}
    assert "raw/file_registry" in _parents(assets["staging/stg_vpr"])


def test_published_marts_depends_on_every_mart(assets):
    assert PUBLISHED in assets, sorted(k for k in assets if not k.startswith(
        ("raw/", "staging/", "intermediate/", "core/", "reference/")))
    assert _parents(assets[PUBLISHED]) >= {f"marts/{m}" for m in MARTS}


def test_raw_assets_check_each_file_column(assets):
    """One check per column of the file (quality/check_groups.py), named as words and
    described by its rules; never one opaque `great_expectations` check."""
    from rsoko_pipelines.quality.check_groups import check_groups

    for source in SOURCES:
        checks = assets[f"raw/{source}"]["assetChecksOrError"]["checks"]
        assert {c["name"]: c["description"] for c in checks} == {
            g.name: g.description for g in check_groups(source)}, source
        assert not any(c["blocking"] for c in checks), source   # the step fails instead
    ege = {c["name"]: c["description"] for c in assets["raw/ege"]["assetChecksOrError"]["checks"]}
    assert {"file_contract", "title_line", "test_score", "gia_school_code", "unique_rows"} <= \
        set(ege)
    assert ege["test_score"].startswith("«Балл»: ")


def test_every_check_says_what_it_checks(assets):
    """Every dbt check has a description: a generic test its rule in words (RU / EN), a
    singular test what it protects; no description is empty or says None."""
    manifest = _manifest()
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    checks = {(key, c["name"]): c["description"] for key, node in assets.items()
              for c in (node["assetChecksOrError"].get("checks") or [])}
    dbt_checks = {k: d for k, d in checks.items() if k[1] in tests}
    assert len(dbt_checks) == len(tests) > 300
    empty = sorted(k for k, d in checks.items() if not (d or "").strip())
    assert empty == []
    with_none = sorted(k for k, d in checks.items() if re.search(r"\bNone\b", d))
    assert with_none == []
    for (key, name), description in dbt_checks.items():
        rule, _, hint = description.partition(". Если не выполнено / when it fails: ")
        assert rule and hint, (key, name, description)
        assert " / " in rule, (key, name, rule)                           # RU / EN
        assert not rule.startswith(("dbt test ", "singular test ")), (key, name, rule)
    # a generic test (its own YAML description) and a singular one, word for word, each
    # followed by what to do when it fails
    assert dbt_checks[("core/fct_assessment_result",
                       "not_null_fct_assessment_result_result_id")].startswith(
        "result_id заполнен в каждой строке / result_id is set in every row. "
        "Если не выполнено / when it fails: ")
    assert dbt_checks[("marts/indicators", "marts_indicators_cover_catalogue")].startswith(
        "Каждый показатель каталога имеет строку уровня региона в marts.indicators за каждый "
        "учебный год с данными")


def test_dbt_tests_are_checks_on_their_models(assets):
    _, tests = expected_from_manifest()
    for mart in MARTS:
        expected = tests[f"marts/{mart}"]
        assert expected, f"no dbt test on marts/{mart}"
        assert expected <= set(_checks(assets[f"marts/{mart}"])), mart
    missing = {model: sorted(names - set(_checks(assets[model])))
               for model, names in tests.items() if names - set(_checks(assets[model]))}
    assert not missing, missing


def test_jobs(repository):
    assert {j["name"] for j in repository["jobs"]} >= JOBS


def test_schedule(repository):
    from rsoko_pipelines.definitions import defs

    schedules = {s["name"]: s for s in repository["schedules"]}
    assert set(schedules) == {SCHEDULE["name"]}
    schedule = schedules[SCHEDULE["name"]]
    assert {k: schedule[k] for k in SCHEDULE} == SCHEDULE
    assert schedule["pipelineName"] == "nightly"
    # on a fresh instance the state is what the code declares (docs/operations.md)
    declared = defs().resolve_schedule_def(SCHEDULE["name"]).default_status
    assert schedule["scheduleState"]["status"] == declared.value, declared


def test_sensors_are_evaluated_by_the_daemon(dagster, repository):
    from rsoko_pipelines.definitions import defs

    definitions = defs()
    sensors = {s["name"]: s for s in repository["sensors"]}
    assert set(sensors) == SENSORS
    assert {t["pipelineName"] for t in sensors["inbox_sensor"]["targets"]} == {"nightly"}
    for name, sensor in sensors.items():
        declared = definitions.resolve_sensor_def(name).default_status
        assert sensor["sensorState"]["status"] == declared.value, (name, declared)

    dagster.wait_daemons(("SCHEDULER", "SENSOR"))
    running = [n for n, s in sensors.items() if s["sensorState"]["status"] == "RUNNING"]
    if not running:
        pytest.skip("no sensor is on by default; nothing for the daemon to evaluate")
    # an empty inbox: each running sensor's first tick is a skip (nothing to load/publish)
    deadline, ticks = time.monotonic() + 60, {}
    while time.monotonic() < deadline:
        repo = dagster.graphql(REPOSITORY_QUERY, {"selector": SELECTOR})["repositoryOrError"]
        ticks = {s["name"]: s["sensorState"]["ticks"] for s in repo["sensors"]}
        if all(ticks.get(n) for n in running):
            break
        time.sleep(1)
    for name in running:
        assert ticks.get(name), f"{name}: no tick within 60 s"
        tick = ticks[name][0]
        assert tick["status"] == "SKIPPED", (name, tick)
        assert tick["skipReason"], (name, tick)
