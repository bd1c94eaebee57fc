"""Publishing the indicator marts for analysts: immutable versions under
`<published>/versions/<version>/`, a `current` symlink swapped atomically, and the stable
`<published>/rsoko_marts.duckdb` path analysts open read-only.

Attributes load lazily so that `rsoko --help` (which imports `publish.cli`) never pays for
DuckDB."""

from __future__ import annotations

_EXPORTS = {
    "publish_marts": "rsoko_pipelines.publish.publisher",
    "table_checksum": "rsoko_pipelines.publish.publisher",
    "current_manifest": "rsoko_pipelines.publish.versions",
    "list_versions": "rsoko_pipelines.publish.versions",
    "published_database": "rsoko_pipelines.publish.versions",
    "NothingPublished": "rsoko_pipelines.publish.versions",
    "DB_FILE": "rsoko_pipelines.publish.versions",
    "keep_from_env": "rsoko_pipelines.publish.versions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
