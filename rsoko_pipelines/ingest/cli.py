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
