"""`rsoko nightly`: the night as an operator runs it by hand.

Plan (night/plan.py) → one run of the `nightly` job (night/launch.py: a real run of the code
location, visible and re-executable in the UI) → summary: the run's stages, what is held back
and why, the failing checks explained, example queries on the published marts. A quiet night
runs nothing. It uses the Dagster instance of DAGSTER_HOME (default var/dagster_home), the
same as the UI and the daemon.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rsoko_pipelines.night.report import NightReport
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
# Dagster's SQLite event log with its connections kept open (a new connection per event cost
# ~20 s a night): rsoko_pipelines/orchestration/event_log.py
event_log_storage:
  module: rsoko_pipelines.orchestration.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
"""

EXAMPLE_QUERIES = (
    ("Region indicators, latest year",
     "SELECT indicator_code, academic_year, round(value, 2) AS value, missing_reason "
     "FROM marts.indicators WHERE level = 'region' AND academic_year = (SELECT "
     "max(academic_year) FROM marts.indicators) ORDER BY indicator_code LIMIT 8"),
    ("Schools with signs of non-objective ВПР results, by year",
     "SELECT academic_year, count(*) AS schools FROM marts.vpr_objectivity_schools "
     "WHERE is_flagged GROUP BY ALL ORDER BY 1"),
    ("Low-results schools, by municipality (top 5)",
     "SELECT municipality_code, count(*) AS schools FROM marts.low_results_schools "
     "WHERE is_low_results GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 5"),
    ("ДПО programme names not classified yet (add them to ref_dpo_programmes), latest year",
     "SELECT count(*) AS unknown_names, coalesce(sum(n_documents), 0) AS documents "
     "FROM marts.dpo_unclassified_programmes WHERE academic_year = (SELECT "
     "max(academic_year) FROM marts.dpo_unclassified_programmes)"),
)


def prepare_dagster_home(settings: Settings) -> None:
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    write_local_dagster_yaml(settings.dagster_home)


def write_local_dagster_yaml(home: Path) -> Path:
    """The local `dagster.yaml` in `home`, written when missing. In one written by us, an event
    log folder other than this home's (the deployment was copied or moved, and its yaml still
    names the original's absolute path: the runs would store their events there) is pointed
    back at this home; nothing else of an existing yaml is changed."""
    config = home / "dagster.yaml"
    event_log_dir = json.dumps(str(home / "history" / "runs"))   # Dagster's default place
    if not config.exists():
        home.mkdir(parents=True, exist_ok=True)
        config.write_text(LOCAL_DAGSTER_YAML.format(event_log_dir=event_log_dir),
                          encoding="utf-8")
        return config
    text = config.read_text(encoding="utf-8")
    if text.startswith(LOCAL_DAGSTER_YAML.split("\n", 1)[0]):     # ours
        pointed = re.sub(r"(?m)^    base_dir: .*$", lambda _: f"    base_dir: {event_log_dir}",
                         text)
        if pointed != text:
            config.write_text(pointed, encoding="utf-8")
    return config


def run_nightly(prepare_inbox=None) -> int:
    """Plan → one run → summary. Exit code 0 when the night succeeded or had nothing to do,
    1 when it failed or held something back (what was not held back is published).
    `prepare_inbox(settings)`: called first (`rsoko nightly --demo` fills the inbox with the
    demo region; the CLI wires it, so the night never imports the generator)."""
    import dagster as dg

    from rsoko_pipelines.night.launch import release_dead_runs, run_night
    from rsoko_pipelines.night.plan import plan_night

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    started = time.perf_counter()
    settings = Settings.from_env().ensure_dirs()
    prepare_dagster_home(settings)
    if prepare_inbox is not None:
        prepare_inbox(settings)
    instance = dg.DagsterInstance.get()
    for run_id in release_dead_runs(instance):
        console.print(f"[yellow]Released run {run_id}: its process died; it was marked "
                      "failed and its warehouse slot freed.[/yellow]")
    plan = plan_night(instance, settings)
    console.print(f"Plan: {escape(plan.describe())}")
    report = NightReport(plan=plan.describe())
    failed = False
    if plan.in_flight:
        console.print("[yellow]That night is left to finish; run `rsoko status` later."
                      "[/yellow]")
    elif not plan.empty:
        console.rule("the night")
        run = run_night(instance, plan, trigger="manual")
        report.add_run(instance, run)
        failed = not report.runs[-1]["success"]
    report.seconds = time.perf_counter() - started
    _held_back(settings, report)
    report.write(settings)
    summary(settings, report, failed)
    return 1 if failed else 0


def _held_back(settings: Settings, report: NightReport) -> None:
    from rsoko_pipelines.publish.versions import current_manifest

    manifest = current_manifest(settings.published_dir) or {}
    report.held_back = [r for r in manifest.get("data_status", []) if r.get("is_held_back")]


def summary(settings: Settings, report: NightReport, failed: bool) -> None:
    for run in report.runs:
        table = Table(title=f"Night {run['run_id'][:8]} ({run['status'].lower()}) in "
                            f"{report.seconds:.1f} s")
        for col in ("step", "stage", "result", "seconds"):
            table.add_column(col)
        for step in run["steps"]:
            table.add_row(step["step"], step["stage"], step["status"].lower(),
                          f"{step['seconds']:.1f}")
        console.print(table)
        console.print("Stages (s): " + ", ".join(
            f"{k} {v:.1f}" for k, v in report.stages.items() if v))
    if not report.runs:
        console.print(f"Nothing new in the inbox: nothing materialised ({report.seconds:.1f} s).")
    for item in report.held_back:
        console.print(f"[yellow]Held back: {escape(str(item.get('source')))} "
                      f"{item.get('academic_year')} — {escape(str(item.get('held_back_reason')))}"
                      f" (the last good data is in use).[/yellow]")
    for check in report.failed_checks:
        colour = "red" if check["severity"] == "ERROR" else "yellow"
        console.print(f"[{colour}]✗ " + escape(f"{check['asset']} › {check['check']}: "
                                                f"{check['text']}") + f"[/{colour}]")
    if failed:
        console.print("[red]The night failed or held something back; what was not held back "
                      "is published. Details: rsoko status, or the run's page in the Dagster "
                      "UI (Re-execute → From failure once the file is fixed).[/red]")
    _examples_and_paths(settings)


def _examples_and_paths(settings: Settings) -> None:
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
        "Dagster UI (lineage, runs, checks, schedule, sensor): bash scripts/ui.sh"]))


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
                table.add_row(*[escape("NULL" if v is None else str(v)) for v in row])
            console.print(table)
    finally:
        con.close()
