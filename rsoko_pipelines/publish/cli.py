"""`rsoko sql`, `rsoko status` and `rsoko publish …`. Heavy modules (DuckDB, Dagster,
rich) are imported inside the commands so that `rsoko --help` stays instant."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import NoReturn, Optional

import typer

publish_app = typer.Typer(no_args_is_help=True, add_completion=False,
                          help="Published marts: list kept versions, publish by hand.")


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str) -> NoReturn:
    """One readable line on stderr and exit 1: operators and analysts see no traceback."""
    lines = str(message).strip().splitlines() or ["unknown error"]
    typer.echo(f"error: {lines[0]}", err=True)
    raise typer.Exit(1)


def _settings():
    from rsoko_pipelines.settings import Settings

    return Settings.from_env()


def _fail_whole(message: str) -> NoReturn:
    """DuckDB's whole message on stderr (its hint, `LINE 1: …` and the caret under the
    error) and exit 1, still without a traceback."""
    text = str(message).strip() or "unknown error"
    typer.echo(f"error: {text}", err=True)
    raise typer.Exit(1)


def sql(
    query: str = typer.Argument(..., help="SQL to run, e.g. \"SELECT * FROM indicators\" "
                                          "(the `marts.` prefix is optional)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json."),
    version: Optional[str] = typer.Option(None, "--version",
                                          help="A kept version (see `rsoko publish list`)."),
    max_rows: Optional[int] = typer.Option(
        None, "--max-rows", "-n", min=0,
        help="Rows shown on screen (default: $RSOKO_SQL_MAX_ROWS or 100; 0 = all). "
             "The rest is counted and reported, not shown."),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", dir_okay=False,
        help="Write the whole result to FILE: .csv, .parquet or .xlsx (by the extension)."),
) -> None:
    """Query the published marts read-only (never the warehouse). Results stream: the first
    rows show at once whatever the size; `--out` writes every row."""
    import duckdb

    from rsoko_pipelines.publish.query import (as_csv, as_json, max_rows_from_env, open_query,
                                               write_result)
    from rsoko_pipelines.publish.versions import NothingPublished

    try:
        cap = max_rows if max_rows is not None else max_rows_from_env()
        with open_query(_settings().published_dir, query, version) as q:
            if out is not None:
                rows = write_result(q.batches(), out)
                typer.echo(f"{rows:,} row(s) written to {out}")
                return
            head = q.head(cap)
            if fmt is Format.json:
                typer.echo(as_json(q.columns, head))
            elif fmt is Format.csv:
                typer.echo(as_csv(q.columns, head), nl=False)
            elif q.columns:
                _print_table(q.columns, head)
            sys.stdout.flush()  # the head shows now, while the rest is being counted
            rest = q.count_rest(len(head)) if cap else 0
    except NothingPublished as err:
        _fail(str(err))
    except (duckdb.Error, ValueError, OSError) as err:
        _fail_whole(str(err))
    if rest:
        typer.echo(f"… {rest:,} more row(s) not shown (--max-rows {cap}); write the whole "
                   "result with --out FILE.csv|.parquet|.xlsx", err=fmt is not Format.table)


def _print_table(columns: list[str], rows: list[tuple]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, caption=f"{len(rows):,} row(s)")
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*("[dim]NULL[/dim]" if x is None else _escape(x) for x in row))
    Console().print(table)


def _escape(value) -> str:
    from rich.markup import escape

    return escape(str(value))


def status(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    runs: int = typer.Option(10, "--runs", help="How many recent runs to show."),
) -> None:
    """Operator overview: academic years, recent runs, failing checks, quarantine, publication."""
    import json

    from rsoko_pipelines.publish.status import collect_status

    report = collect_status(_settings(), runs=runs)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        from rsoko_pipelines.publish.render import print_status

        print_status(report)


@publish_app.command("list")
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Kept versions, newest first (query an older one with `rsoko sql --version V`)."""
    import json

    from rsoko_pipelines.publish.versions import list_versions

    kept = list_versions(_settings().published_dir)
    if as_json:
        typer.echo(json.dumps(kept, ensure_ascii=False, indent=2))
        return
    if not kept:
        _fail("nothing published yet: run `rsoko nightly` first")
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Published versions (the name is the UTC publication time)")
    for col in ("version", "tables", "rows", "source files", "commit"):
        table.add_column(col, no_wrap=True)
    for v in kept:
        table.add_row(v["version"] + (" [bold green]← current[/]" if v["current"] else ""),
                      str(v["tables"]), f"{v['rows']:,}", str(v["source_files"]),
                      (v["git_commit"] or "")[:8])
    Console().print(table)


@publish_app.command("run")
def run_cmd(keep: Optional[int] = typer.Option(
        None, help="Versions to keep (default: $RSOKO_PUBLISH_KEEP or 7).")) -> None:
    """Publish the warehouse's marts now (normally the nightly load does it). Fails cleanly
    if a load holds the warehouse."""
    import duckdb

    from rsoko_pipelines.publish.publisher import publish_marts
    from rsoko_pipelines.publish.versions import keep_from_env

    settings = _settings()
    try:
        publish_marts(settings.warehouse_path, settings.published_dir,
                      keep=keep if keep is not None else keep_from_env(), log=typer.echo)
    except (OSError, ValueError, duckdb.Error) as err:
        _fail(str(err))


def report(
    version: Optional[str] = typer.Option(None, "--version",
                                          help="A kept version (default: the current one)."),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", file_okay=False,
        help="Folder of the site (default: $RSOKO_DATA_DIR/report/<version>)."),
    school: Optional[list[str]] = typer.Option(
        None, "--school", help="Only this school's page (repeatable); the region and "
                               "municipality pages and workbooks are always written."),
) -> None:
    """Static HTML reports of a published version (region, municipalities, schools; SVG
    charts, no server, no network) and an XLSX workbook per municipality."""
    import duckdb

    from rsoko_pipelines.publish.versions import NothingPublished, list_versions
    from rsoko_pipelines.report.build import build_report

    settings = _settings()
    try:
        chosen = version or next((v["version"] for v in list_versions(settings.published_dir)
                                  if v["current"]), None)
        if chosen is None:
            raise NothingPublished("nothing published yet: run `rsoko nightly` first")
        build_report(settings.published_dir, out or settings.data_dir / "report" / chosen,
                     chosen, log=typer.echo, only_schools=set(school) if school else None)
    except NothingPublished as err:
        _fail(str(err))
    except (duckdb.Error, OSError, ValueError) as err:
        _fail_whole(str(err))
