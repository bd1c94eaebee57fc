"""The code location `rsoko` (workspace.yaml, pyproject's [tool.dagster]). Built lazily by
`@dg.definitions`: importing this module costs nothing; the dbt manifest and the assets are
built when Dagster loads it (rsoko_pipelines/orchestration/definitions.py)."""

from __future__ import annotations

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    from rsoko_pipelines.orchestration.definitions import build_definitions

    return build_definitions()
