"""`rsoko nightly`: the nightly load as an operator runs it by hand.

It uses the same Dagster instance (DAGSTER_HOME, default var/dagster_home) as the UI, so
every run and check shows up there. One run per academic-year partition, in-process.
"""

from __future__ import annotations

import os
import socket
import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rsoko_pipelines.settings import Settings

console = Console()

LOCAL_DAGSTER_YAML = """\
# Written by `rsoko nightly` for local runs (production: deploy/dagster.yaml).
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1   # duckdb_writer: DuckDB has a single writer
"""


# The console shows our INFO progress lines, not Dagster's DEBUG step events (they are all
# in the run's event log, visible in the UI).
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def prepare_dagster_home(settings: Settings) -> None:
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML, encoding="utf-8")


PID_TAG = "rsoko/pid"
HOST_TAG = "rsoko/host"


def _run_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def release_dead_runs(instance) -> list[str]:
    """Runs of `rsoko nightly` whose process died (killed, machine crash) stay STARTED and
    keep their `duckdb_writer` pool slot forever, blocking every later run. Mark them failed
    and free their slots — only runs started on this host by a process that no longer
    exists; a live concurrent run is left alone (its DuckDB lock protects the warehouse)."""
    import dagster as dg

    released = []
    runs = instance.get_runs(filters=dg.RunsFilter(
        statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]))
    for run in runs:
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if not pid or host != socket.gethostname() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, f"process {pid} is gone (killed or crashed)")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_demo_inbox(settings: Settings, tier: str, seed: int) -> None:
    marker = settings.inbox_dir / "manifest.json"
    if marker.exists():
        console.print(f"[dim]demo inbox already present: {settings.inbox_dir}[/dim]")
        return
    from rsoko_pipelines.demo.generate import generate

    generate(tier=tier, seed=seed, out=settings.inbox_dir)


def run_nightly(demo: bool = False, tier: str = "S", seed: int = 20250607) -> int:
    import dagster as dg

    from rsoko_pipelines.definitions import defs as load_defs
    from rsoko_pipelines.partitions import ACADEMIC_YEARS, inbox_years

    started = time.perf_counter()
    settings = Settings.from_env().ensure_dirs()
    prepare_dagster_home(settings)
    if demo:
        ensure_demo_inbox(settings, tier, seed)
    years = inbox_years(settings.inbox_dir)
    if not years:
        console.print(f"[yellow]The inbox {settings.inbox_dir} holds no <source>/<year>/ "
                      "folders: nothing to load.[/yellow]")
        return 0
    instance = dg.DagsterInstance.get()
    for run_id in release_dead_runs(instance):
        console.print(f"[yellow]Released run {run_id}: its process died; "
                      "it was marked failed and its warehouse slot freed.[/yellow]")
    instance.add_dynamic_partitions(ACADEMIC_YEARS.name, years)
    definitions = load_defs()
    console.rule("reference data")
    runs = [(None, definitions.resolve_job_def("reference_data"))]
    runs += [(year, definitions.resolve_job_def("nightly_load")) for year in years]
    failed = False
    for year, job in runs:
        if year is not None:
            console.rule(f"academic year {year}")
        result = job.execute_in_process(instance=instance, partition_key=year,
                                        run_config=QUIET_CONSOLE, tags=_run_tags(),
                                        raise_on_error=False)
        failed |= not result.success
        for check in result.get_asset_check_evaluations():
            if not check.passed:
                console.print("[red]✗ " + escape(f"{check.asset_key.to_user_string()} "
                                                 f"{check.check_name}: {check.description}")
                              + "[/red]")
    _summary(settings, time.perf_counter() - started)
    return 1 if failed else 0


def _summary(settings: Settings, seconds: float) -> None:
    from rsoko_pipelines.ingest.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        marts = con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name='marts' "
            "ORDER BY table_name").fetchall()
        rows = con.execute(
            "SELECT source, academic_year, count(*) FILTER (status='loaded'), "
            "count(*) FILTER (status='quarantined'), sum(rows) FILTER (status='loaded') "
            "FROM raw._file_registry GROUP BY ALL ORDER BY 1, 2").fetchall()
    finally:
        con.close()
    table = Table(title=f"Nightly load finished in {seconds:.1f} s")
    for col in ("source", "year", "files loaded", "quarantined", "rows"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for source, year, loaded, quarantined, n in rows:
        table.add_row(source, str(year), str(loaded), str(quarantined), f"{n or 0:,}")
    console.print(table)
    if marts:
        console.print("Indicator marts (schema marts): " + ", ".join(
            f"{name} ({n:,} rows)" for name, n in marts))
        console.print(escape(
            "Query them read-only, e.g. in Python: duckdb.connect("
            f"'{settings.warehouse_path}', read_only=True).sql(\"SELECT indicator_code, "
            "academic_year, value FROM marts.indicators WHERE level = 'region' "
            "ORDER BY 1, 2\")"))
    console.print(f"Warehouse: {settings.warehouse_path}\n"
                  f"Quarantine reports: {settings.quarantine_dir}\n"
                  f"Dagster UI: DAGSTER_HOME={settings.dagster_home} "
                  f".venv/bin/dagster dev -w workspace.yaml")
