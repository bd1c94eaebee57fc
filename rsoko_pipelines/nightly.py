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

from rsoko_pipelines.night_report import NightReport
from rsoko_pipelines.settings import Settings

console = Console()

LOCAL_DAGSTER_YAML = """\
# Written by `rsoko nightly` for local runs (production: deploy/dagster.yaml).
telemetry:
  enabled: false
nux:
  enabled: false   # no welcome dialog in the UI
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
    """Plan (rsoko_pipelines.planning) → one `nightly_load` run per changed year →
    `publish_marts` when every year run succeeded → summary. A quiet night runs nothing."""
    import warnings

    import dagster as dg

    from rsoko_pipelines.partitions import ACADEMIC_YEARS, inbox_years
    from rsoko_pipelines.planning import plan_night

    warnings.filterwarnings("ignore", category=dg.BetaWarning)   # backfill_policy is beta

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
    known = set(instance.get_dynamic_partitions(ACADEMIC_YEARS.name))
    if set(years) - known:
        instance.add_dynamic_partitions(ACADEMIC_YEARS.name, sorted(set(years) - known))
    plan = plan_night(instance, settings)
    console.print(f"Plan: {escape(plan.describe())}")
    if plan.in_flight:
        console.print(f"[yellow]A load of {', '.join(plan.in_flight)} is already running "
                      "(schedule or sensor); those years are left to it.[/yellow]")
    report = NightReport(plan=plan.describe())
    failed = _execute(instance, plan, report)
    report.seconds = time.perf_counter() - started
    report.write(settings)
    _summary(settings, report, failed)
    return 1 if failed else 0


def _execute(instance, plan, report: NightReport) -> bool:
    """Runs the plan in this process, then publishes when a publication is due (the same
    rule as the publish sensor); returns True when a run failed. Definitions are only
    loaded when there is work: a quiet night costs a plan, not a dbt manifest."""
    from rsoko_pipelines.planning import run_selection, still_needed
    from rsoko_pipelines.sensors import publish_decision

    definitions, failed = None, False
    for year in plan.years:
        if not still_needed(instance, year, plan.seeds):
            console.print(f"[yellow]{year.academic_year}: loaded or being loaded by another "
                          "run since this night's plan; skipped.[/yellow]")
            continue
        definitions = definitions or _definitions()
        console.rule(f"academic year {year.academic_year}")
        result = definitions.resolve_job_def("nightly_load").execute_in_process(
            instance=instance, partition_key=year.academic_year, run_config=QUIET_CONSOLE,
            asset_selection=sorted(run_selection(year).resolve(
                definitions.resolve_asset_graph())),
            tags={**_run_tags(), **year.tags(plan.seeds)}, raise_on_error=False)
        failed |= _report_run(instance, result, report)
    run_key, why = publish_decision(instance)
    if run_key:
        definitions = definitions or _definitions()
        console.rule(f"marts and publication ({why})")
        result = definitions.resolve_job_def("publish_marts").execute_in_process(
            instance=instance, run_config=QUIET_CONSOLE, tags=_run_tags(), raise_on_error=False)
        failed |= _report_run(instance, result, report)
    elif failed or plan.years:
        console.print(f"[yellow]Not published: {escape(why)}.[/yellow]")
    return failed


def _definitions():
    from rsoko_pipelines.definitions import defs

    return defs()


def _report_run(instance, result, report: "NightReport") -> bool:
    report.add_run(instance, result)
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            console.print("[red]✗ " + escape(f"{check.asset_key.to_user_string()} "
                                             f"{check.check_name}: {check.description}")
                          + "[/red]")
    if not result.success:
        console.print(f"[red]Run {result.run_id} failed; details: rsoko status, or the "
                      "run's page in the Dagster UI.[/red]")
    return not result.success


EXAMPLE_QUERIES = (
    ("Region indicators, latest year",
     "SELECT indicator_code, academic_year, round(value, 2) AS value FROM marts.indicators "
     "WHERE level = 'region' AND academic_year = (SELECT max(academic_year) FROM "
     "marts.indicators) ORDER BY indicator_code LIMIT 8"),
    ("Schools with signs of non-objective ВПР results, by year",
     "SELECT academic_year, count(*) AS schools FROM marts.vpr_objectivity_schools "
     "WHERE is_flagged GROUP BY ALL ORDER BY 1"),
    ("Low-results schools, by municipality (top 5)",
     "SELECT municipality_code, count(*) AS schools FROM marts.low_results_schools "
     "WHERE is_low_results GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 5"),
)


def _summary(settings: Settings, report: NightReport, failed: bool) -> None:
    table = Table(title=f"Nightly load finished in {report.seconds:.1f} s"
                        + (" — FAILED" if failed else ""))
    for col in ("run", "partition", "result", "steps", "seconds"):
        table.add_column(col)
    for run in report.runs:
        table.add_row(run["job"], run["partition"] or "—", "ok" if run["success"] else "FAILED",
                      str(len(run["steps"])), f"{sum(s['seconds'] for s in run['steps']):.1f}")
    if report.runs:
        console.print(table)
        console.print("Stages (s): " + ", ".join(
            f"{k} {v:.1f}" for k, v in report.stages.items() if v))
    else:
        console.print(f"Nothing new in the inbox: nothing materialised "
                      f"({report.seconds:.1f} s).")
    from rsoko_pipelines.publish.versions import DB_FILE, NothingPublished, published_database

    try:
        database = published_database(settings.published_dir)
    except NothingPublished:
        console.print("[yellow]Nothing is published yet.[/yellow]")
        return
    _examples(database)
    console.print("\n".join([
        f"Published marts (read-only DuckDB): {settings.published_dir / DB_FILE}",
        f"Parquet by academic year: {settings.published_dir / 'parquet'}",
        'Query: .venv/bin/rsoko sql "SELECT * FROM marts.indicators LIMIT 5"',
        f"Status: .venv/bin/rsoko status    Quarantine: {settings.quarantine_dir}",
        "Dagster UI (lineage, runs, checks, schedule, sensors): bash scripts/ui.sh"]))


def _examples(database) -> None:
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        version = con.execute("SELECT version FROM marts._publication").fetchall()
        console.print(f"Published version: {version[0][0] if version else '?'}")
        for title, sql in EXAMPLE_QUERIES:
            try:
                cursor = con.execute(sql)
                rows = cursor.fetchall()
            except duckdb.Error as error:   # a contract change must not hide the summary
                console.print(f"[yellow]{escape(title)}: {escape(str(error))}[/yellow]")
                continue
            console.print(f"\n[bold]{escape(title)}[/bold]\n[dim]{escape(sql)}[/dim]",
                          soft_wrap=True)
            table = Table()
            for column in cursor.description:
                table.add_column(column[0])
            for row in rows:
                table.add_row(*[escape(str(v)) for v in row])
            console.print(table)
    finally:
        con.close()
