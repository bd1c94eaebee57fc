"""The instance configs are valid for the Dagster we pin: deploy/dagster.yaml (production,
PostgreSQL) and the local one `rsoko nightly` writes. Nothing here connects to PostgreSQL:
the production file is validated against Dagster's instance schema, its storage section is
resolved from the environment like dagster-postgres does, and the rest of it is loaded into a
real instance with the storage swapped for SQLite."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from rsoko_pipelines.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
PROD_YAML = DEPLOY / "dagster.yaml"
PG_ENV = {"DAGSTER_PG_HOST": "db.internal", "DAGSTER_PG_PORT": "6543",
          "DAGSTER_PG_DB": "dagster_rsoko", "DAGSTER_PG_USER": "rsoko",
          "DAGSTER_PG_PASSWORD": "s3cret/with:chars"}


@pytest.fixture()
def prod_env(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    for var, value in PG_ENV.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("RSOKO_COMPUTE_LOGS_DIR", str(tmp_path / "compute_logs"))
    return home


def _validated(home: Path) -> dict:
    from dagster._core.instance.config import dagster_instance_config

    config, custom_class = dagster_instance_config(str(home))
    assert custom_class is None
    return dict(config)


def test_production_yaml_matches_the_instance_schema(prod_env):
    shutil.copyfile(PROD_YAML, prod_env / "dagster.yaml")
    config = _validated(prod_env)

    assert set(config["storage"]) == {"postgres"}
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["pools"]["default_limit"] == 1       # duckdb_writer
    assert config["run_retries"]["enabled"] is True
    assert config["run_retries"]["max_retries"] == 1
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] is True
    # the default run launcher cannot resume runs: Dagster refuses attempts > 0 with it
    assert monitoring["max_resume_run_attempts"] == 0
    assert "run_queue" in config and "run_coordinator" not in config   # queued coordinator
    # no secret in the file: every connection setting comes from the environment
    pg = dict(config["storage"]["postgres"]["postgres_db"])
    assert pg.pop("scheme") == "postgresql+psycopg2"
    assert all(set(v) == {"env"} for v in pg.values()), pg


def _resolved_postgres() -> dict:
    """The storage section resolved from the environment, as the instance resolves it."""
    from dagster._config import process_config
    from dagster._core.storage.config import pg_config

    raw = yaml.safe_load(PROD_YAML.read_text(encoding="utf-8"))["storage"]["postgres"]
    resolved = process_config(pg_config(), raw)
    assert resolved.success, resolved.errors
    return resolved.value


def test_production_postgres_settings_resolve_from_the_environment(prod_env):
    db = _resolved_postgres()["postgres_db"]
    assert db["hostname"] == "db.internal" and db["port"] == 6543
    assert db["db_name"] == "dagster_rsoko" and db["username"] == "rsoko"
    assert db["password"] == PG_ENV["DAGSTER_PG_PASSWORD"]


def test_production_postgres_url_without_connecting(prod_env):
    """dagster-postgres builds its connection URL from the resolved section (the password
    is URL-quoted); nothing connects."""
    pg_utils = pytest.importorskip(
        "dagster_postgres.utils",
        reason="dagster-postgres (deploy/requirements-production.txt) is not installed")
    import sqlalchemy

    url = pg_utils.pg_url_from_config(_resolved_postgres())
    assert url.startswith("postgresql+psycopg2://rsoko:")
    assert "@db.internal:6543/dagster_rsoko" in url
    assert "s3cret" in url and "/with:chars@" not in url     # the password is quoted
    parsed = sqlalchemy.engine.make_url(url)
    assert parsed.password == PG_ENV["DAGSTER_PG_PASSWORD"] and parsed.port == 6543
    # the driver SQLAlchemy picks for this URL is the one dagster-postgres installs (plain
    # postgresql:// means psycopg 3 in SQLAlchemy 2.1, which is not installed)
    dbapi = parsed.get_dialect().import_dbapi()
    assert dbapi.__name__ == "psycopg2"


def test_production_yaml_builds_an_instance_with_sqlite_storage(prod_env, tmp_path):
    """Everything but the storage, loaded for real: queued runs, pools, monitoring, retries,
    compute logs."""
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.run_coordinator import QueuedRunCoordinator

    config = yaml.safe_load(PROD_YAML.read_text(encoding="utf-8"))
    config["storage"] = {"sqlite": {"base_dir": str(prod_env / "storage")}}
    (prod_env / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(prod_env))) as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.run_queue_config.max_concurrent_runs >= 1
        assert instance.run_monitoring_enabled
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert not instance.run_launcher.supports_resume_run
        assert instance.compute_log_manager._base_dir == str(tmp_path / "compute_logs")  # noqa: SLF001
        assert not instance.telemetry_enabled
        # the explicit pool limit the operations guide sets once per instance
        instance.event_log_storage.set_concurrency_slots("duckdb_writer", 1)
        assert instance.event_log_storage.get_concurrency_info("duckdb_writer").slot_count == 1


def test_local_yaml_written_by_nightly_is_valid(tmp_path, monkeypatch):
    from dagster._core.instance.ref import InstanceRef

    from rsoko_pipelines.night.command import LOCAL_DAGSTER_YAML, prepare_dagster_home
    from rsoko_pipelines.settings import Settings

    monkeypatch.setenv("RSOKO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings.from_env().ensure_dirs()
    prepare_dagster_home(settings)      # sets DAGSTER_HOME for this process
    home = settings.dagster_home
    event_log_dir = home / "history" / "runs"
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == LOCAL_DAGSTER_YAML.format(
        event_log_dir=f'"{event_log_dir}"')
    config = _validated(home)
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["pools"]["default_limit"] == 1
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        storage = instance.event_log_storage
        assert type(storage).__name__ == "PooledSqliteEventLogStorage"
        assert storage._base_dir == str(event_log_dir)      # noqa: SLF001 (Dagster's default)
        assert str(home / "history" / "runs.db") in instance.run_storage._conn_string  # noqa: SLF001


def test_a_copied_deployment_gets_its_own_event_log_and_an_own_yaml_is_left_alone(tmp_path):
    """The yaml names the event log by absolute path (every process reads it, DAGSTER_HOME set
    or not). A copied or moved deployment would go on storing its events in the original's
    folder: its next night points it back at its own; an operator's own yaml is not touched."""
    from dagster._core.instance.ref import InstanceRef

    from rsoko_pipelines.night.command import LOCAL_DAGSTER_YAML, write_local_dagster_yaml

    original = tmp_path / "a" / "dagster_home"
    write_local_dagster_yaml(original)
    copy = tmp_path / "b" / "dagster_home"
    shutil.copytree(original, copy)
    assert str(original) in (copy / "dagster.yaml").read_text(encoding="utf-8")
    write_local_dagster_yaml(copy)
    assert (copy / "dagster.yaml").read_text(encoding="utf-8") == LOCAL_DAGSTER_YAML.format(
        event_log_dir=f'"{copy / "history" / "runs"}"')
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(copy))) as instance:
        assert instance.event_log_storage._base_dir == str(copy / "history" / "runs")  # noqa: SLF001
    own = tmp_path / "c" / "dagster_home"
    own.mkdir(parents=True)
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    write_local_dagster_yaml(own)
    assert (own / "dagster.yaml").read_text(encoding="utf-8") == "telemetry:\n  enabled: false\n"
