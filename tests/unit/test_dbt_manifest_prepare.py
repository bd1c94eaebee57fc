"""The manifest the Definitions load keeps every test's rule in words after the project
changes: dbt's partial parse (dbt-core 1.11) re-parses a singular test whose macro changed
without the description of its YAML file, so a stale manifest is prepared by a full parse
(orchestration/resources.prepared_project). Real `dbt parse` on a copy of the project."""

from __future__ import annotations

import json
import os
import shutil
import time

from rsoko_pipelines.settings import DBT_PROJECT_DIR

SINGULAR = "test.rsoko.assert_vpr_task_points_sum_to_primary_score"


def _description(project) -> str:
    manifest = json.loads(project.manifest_path.read_text(encoding="utf-8"))
    return manifest["nodes"][SINGULAR]["description"]


def test_a_changed_macro_of_a_singular_test_keeps_its_description(tmp_path, monkeypatch):
    from rsoko_pipelines.orchestration.resources import prepared_project

    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    monkeypatch.setenv("RSOKO_WAREHOUSE", str(tmp_path / "rsoko.duckdb"))
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project_dir,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    first = _description(prepared_project(project_dir))
    assert first.startswith("ВПР/РПР:") and " / " in first
    assert (project_dir / "target" / "partial_parse.msgpack").exists()

    macro = project_dir / "macros" / "test_scope.sql"           # the singular test calls it
    macro.write_text(macro.read_text(encoding="utf-8") + "\n{# changed #}\n", encoding="utf-8")
    later = time.time() + 2
    os.utime(macro, (later, later))                            # newer than the manifest
    assert _description(prepared_project(project_dir)) == first
