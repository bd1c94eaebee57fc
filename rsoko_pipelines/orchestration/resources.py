"""The dbt project, its CLI resource and its fingerprints. Nothing happens at import: the DbtProject (and the
`dbt parse` that produces target/manifest.json) is built on first call and cached."""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

from rsoko_pipelines.settings import DBT_PROJECT_DIR

# every file whose change makes the manifest stale
_PROJECT_GLOBS = ("dbt_project.yml", "models/**/*", "macros/**/*", "tests/**/*", "seeds/**/*.yml",
                  "seeds/**/*.csv", "snapshots/**/*", "analyses/**/*")


def dbt_executable() -> str:
    """The venv's dbt, next to the running interpreter (never a dbt found on PATH)."""
    return str(Path(sys.executable).parent / "dbt")


def _venv_bin_on_path() -> None:
    """dagster-dbt's manifest preparer runs a plain `dbt` from PATH; commands started as
    `.venv/bin/rsoko` without an activated venv must still find the venv's dbt."""
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


def _manifest_is_stale(project) -> bool:
    manifest = Path(project.manifest_path)
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    root = Path(project.project_dir)
    return any(p.stat().st_mtime > built for pattern in _PROJECT_GLOBS
               for p in root.glob(pattern) if p.is_file())


@lru_cache(maxsize=1)
def dbt_project():
    """The rsoko dbt project with an up-to-date manifest (prepared_project)."""
    return prepared_project(DBT_PROJECT_DIR)


def prepared_project(project_dir: Path):
    """The dbt project in `project_dir` with an up-to-date manifest.

    `prepare_if_dev()` runs `dbt parse` under `dagster dev`; outside it (tests, `dagster
    asset materialize`, the nightly command) a missing or stale manifest is prepared too, so
    loading the Definitions always sees the models as they are on disk. After a change the
    parse is a full one: dbt's partial parse (dbt-core 1.11) re-parses a changed singular
    test, or one whose macro changed, without the description of its YAML file, and every
    check in Dagster shows its rule in words from that description."""
    from dagster_dbt import DbtProject

    _venv_bin_on_path()
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    stale = _manifest_is_stale(project)
    if stale:
        partial = Path(project.project_dir) / project.target_path / "partial_parse.msgpack"
        partial.unlink(missing_ok=True)
    project.prepare_if_dev()
    if stale and _manifest_is_stale(project):     # unless `dagster dev` just prepared it
        project.preparer.prepare(project)
    return project


def warehouse_env() -> None:
    """profiles.yml reads RSOKO_WAREHOUSE; default it from the settings (RSOKO_DATA_DIR) so
    dbt writes the same warehouse the ingest writes."""
    from rsoko_pipelines.settings import Settings

    # a run launched by the daemon on a fresh deployment: dbt needs the folder to exist
    os.environ.setdefault("RSOKO_WAREHOUSE", str(Settings.from_env().ensure_dirs().warehouse_path))


def dbt_resource():
    """The DbtCliResource for the `dbt` resource key."""
    from dagster_dbt import DbtCliResource

    return DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())


def project_fingerprint(root: Path = DBT_PROJECT_DIR) -> str:
    """Content hash of the dbt project (models, macros, tests, seeds, dbt_project.yml). A
    deploy that changes it makes the next night rebuild every model from the landing with
    `--full-refresh` (a column added to an incremental model needs it), and reload the seeds."""
    import hashlib

    digest = hashlib.sha256()
    for pattern in _PROJECT_GLOBS:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def seeds_fingerprint(root: Path = DBT_PROJECT_DIR) -> str:
    """Content hash of the reference seeds: when it changes, the night loads them first."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((root / "seeds").rglob("*")):
        if path.is_file() and path.suffix in (".csv", ".yml"):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]
