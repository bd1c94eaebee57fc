"""What the dbt project declares, for tests that must follow it (the list of marts grows with
every new source: a test compares with the project, never with a hand-kept count)."""

from __future__ import annotations

import json
from pathlib import Path


def manifest() -> dict:
    from rsoko_pipelines.orchestration.resources import dbt_project

    return json.loads(Path(dbt_project().manifest_path).read_text(encoding="utf-8"))


def mart_names() -> set[str]:
    """The tables of schema `marts` the project builds (ephemeral indicator parts excluded)."""
    return {node["name"] for node in manifest()["nodes"].values()
            if node["resource_type"] == "model" and node.get("schema") == "marts"
            and node.get("config", {}).get("materialized") != "ephemeral"}
