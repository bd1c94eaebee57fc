"""`rsoko demo …`: the demo-region generator on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

demo_app = typer.Typer(name="demo", help="The built-in demo region (generator).",
                       no_args_is_help=True, add_completion=False)


@demo_app.callback()
def _demo() -> None:
    """The built-in demo region (generator)."""


@demo_app.command("generate")
def generate_cmd(
    tier: str = typer.Option("S", "--tier", help="S (600 schools, 3 years), M (1,500), F (40,000)."),
    seed: int = typer.Option(20250607, "--seed", help="Random seed: same seed, same bytes."),
    out: Optional[Path] = typer.Option(None, "--out",
                                       help="Output folder (default: the inbox, RSOKO_INBOX_DIR)."),
    sources: Optional[str] = typer.Option(
        None, "--sources", help="Comma-separated subset: schools,ege,oge,vpr,rpr,olympiad,"
                                "literacy,staff,dpo,deficits,nokuod,measures."),
    workers: int = typer.Option(2, "--workers", help="Parallel processes (1 = in this process)."),
    profile: str = typer.Option("default", "--profile",
                                help="default, or variant: a second region that differs in "
                                     "every way the input contract allows."),
) -> None:
    """Write a demo region (extracts exactly as real systems deliver them) and its manifest."""
    from rsoko_pipelines.demo.generate import generate
    from rsoko_pipelines.demo.profiles import PROFILES
    from rsoko_pipelines.demo.region import TIERS
    from rsoko_pipelines.settings import Settings

    if tier.upper() not in TIERS:
        raise typer.BadParameter(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}",
                                 param_hint="--tier")
    if profile.lower() not in PROFILES:
        raise typer.BadParameter(f"unknown profile {profile!r}; expected one of "
                                 f"{', '.join(PROFILES)}", param_hint="--profile")
    target = out if out is not None else Settings.from_env().inbox_dir
    try:
        generate(tier=tier, seed=seed, out=target, sources=sources, workers=workers,
                 profile=profile.lower())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--sources") from exc


@demo_app.command("hostile")
def hostile_cmd(
    source_dir: Path = typer.Option(..., "--from", exists=True, file_okay=False,
                                    help="A generated demo tier (`rsoko demo generate`), "
                                         "two years at least (XS or S)."),
    out: Path = typer.Option(..., "--out", help="An empty or new folder for the corpus (an "
                                                "earlier corpus there is replaced)."),
) -> None:
    """Write a corpus of broken and hostile extracts made from a generated tier: each case
    says whether the platform must load or quarantine it, and why (OUT/cases.json). Load
    the base files it lists first, then copy OUT/<source>/ into the inbox."""
    from rich.console import Console
    from rich.table import Table

    from rsoko_pipelines.demo.hostile import build_corpus

    try:
        cases = build_corpus(source_dir, out)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--from/--out") from exc
    table = Table(title=f"Hostile corpus: {len(cases)} cases → {out}")
    for column in ("case", "file(s)", "expect", "check"):
        table.add_column(column)
    for case in cases:
        table.add_row(case.id, "\n".join(case.paths), case.expect, case.check or "")
    Console().print(table)


@demo_app.command("evaluate")
def evaluate_cmd(
    database: Path = typer.Option(..., "--db", exists=True, dir_okay=False,
                                  help="A database with schema marts: the warehouse or a "
                                       "published version (published/<version>/rsoko.duckdb)."),
    manifest: Path = typer.Option(..., "--manifest", exists=True, dir_okay=False,
                                  help="The manifest.json of the generated region."),
    min_recall: float = typer.Option(0.9, "--min-recall"),
    min_precision: float = typer.Option(0.8, "--min-precision"),
) -> None:
    """Recall and precision of every planted truth; exit 1 if one is below the bar or a
    planted inflating school is резильентная."""
    from rsoko_pipelines.demo.evaluate import evaluate, report

    figures, extra = evaluate(database, manifest)
    typer.echo(report(figures, extra))
    failed = [f.name for f in figures.values()
              if f.planted and ((f.recall or 0) < min_recall or (f.precision or 0) < min_precision)]
    if failed or extra["inflating_resilient"]:
        typer.echo(f"below the bar: {', '.join(failed) or '-'}; inflating resilient: "
                   f"{sorted(extra['inflating_resilient'])}")
        raise typer.Exit(1)
