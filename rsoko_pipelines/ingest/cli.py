"""`rsoko extract check FILE`: what an operator runs when a file arrives. Parses and
validates one file exactly as the nightly load would, without loading or moving it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rsoko_pipelines.settings import SOURCES

extract_app = typer.Typer(name="extract", no_args_is_help=True)


def infer_source_year(path: Path) -> tuple[str | None, int | None]:
    """`…/<source>/<year>/<file>` as in the inbox layout; either may be missing."""
    from rsoko_pipelines import inbox

    return inbox.location(path, SOURCES)


@extract_app.command("check")
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    source: Optional[str] = typer.Option(None, help=f"One of {', '.join(SOURCES)}; default: "
                                         "from the path <source>/<year>/<file>."),
    year: Optional[int] = typer.Option(None, help="Academic year (2025 = 2024/25); default: "
                                       "from the path."),
) -> None:
    """Validate FILE against its contract and Great Expectations suite; exit 1 if the
    nightly load would quarantine it."""
    from rich.console import Console

    from rsoko_pipelines.ingest.checking import check_file

    console = Console()
    guessed_source, guessed_year = infer_source_year(file.resolve())
    source = source or guessed_source
    year = year or guessed_year
    if source not in SOURCES or year is None:
        console.print("[red]Cannot tell the source and academic year of this file: pass "
                      f"--source ({', '.join(SOURCES)}) and --year, or place it as "
                      "<source>/<year>/<file>.[/red]")
        raise typer.Exit(2)
    ok = check_file(file, source, year, console)
    raise typer.Exit(0 if ok else 1)


quarantine_app = typer.Typer(name="quarantine", no_args_is_help=True)


@quarantine_app.command("list")
def quarantine_list() -> None:
    """Quarantined files whose problem is not resolved (each holds back its source × year)."""
    from rich.console import Console

    from rsoko_pipelines.ingest.warehouse import connect
    from rsoko_pipelines.settings import Settings

    console, settings = Console(), Settings.from_env()
    if not settings.warehouse_path.exists():
        console.print("No warehouse yet: nothing is quarantined.")
        return
    con = connect(settings.warehouse_path, read_only=True)
    try:
        rows = con.execute(
            "SELECT source, academic_year, inbox_path, first_seen_at, message FROM "
            "raw._file_registry WHERE status = 'quarantined' AND resolved_at IS NULL "
            "ORDER BY first_seen_at").fetchall()
    finally:
        con.close()
    if not rows:
        console.print("[green]No unresolved quarantine: nothing is held back by a file.[/green]")
    for source, year, path, seen, message in rows:
        console.print(f"• {source} {year}: {path} (since {seen:%Y-%m-%d %H:%M})\n  {message}")


@quarantine_app.command("dismiss")
def quarantine_dismiss(
    file: str = typer.Argument(..., help="The quarantined file: its name, inbox path or sha256."),
    by: str = typer.Option(..., "--by", help="Who decides (written into the registry)."),
) -> None:
    """Release the file's source × year without it: the operator decides that the rest of
    that year's files are complete enough to publish. The next night does it."""
    import dagster as dg
    from rich.console import Console

    from rsoko_pipelines.ingest.release import dismiss_quarantine
    from rsoko_pipelines.ingest.warehouse import writer
    from rsoko_pipelines.night.command import prepare_dagster_home
    from rsoko_pipelines.settings import Settings

    console, settings = Console(), Settings.from_env()
    with writer(settings.warehouse_path) as con:
        done = dismiss_quarantine(con, file, by)
    if not done:
        console.print(f"[red]No unresolved quarantined file {file!r}: see `rsoko quarantine "
                      "list`.[/red]")
        raise typer.Exit(1)
    prepare_dagster_home(settings)
    with dg.DagsterInstance.get() as instance:   # tells the planner: release again
        instance.report_runless_asset_event(dg.AssetObservation(
            asset_key=dg.AssetKey(["raw", "file_registry"]),
            metadata={"dismissed": dg.MetadataValue.text(f"{file} by {by}")}))
    # the inbox sensor starts a night only for new files: a dismissal waits for the
    # schedule or a manual `rsoko nightly`
    console.print(f"[green]Dismissed {file}: the next night (`rsoko nightly` now, or the "
                  "02:00 schedule) releases its source × year without it.[/green]")
