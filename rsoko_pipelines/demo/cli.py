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
        None, "--sources", help="Comma-separated subset: schools,ege,oge,vpr,rpr,olympiad,literacy."),
    workers: int = typer.Option(2, "--workers", help="Parallel processes (1 = in this process)."),
) -> None:
    """Write a demo region (extracts exactly as real systems deliver them) and its manifest."""
    from rsoko_pipelines.demo.generate import generate
    from rsoko_pipelines.demo.region import TIERS
    from rsoko_pipelines.settings import Settings

    if tier.upper() not in TIERS:
        raise typer.BadParameter(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}",
                                 param_hint="--tier")
    target = out if out is not None else Settings.from_env().inbox_dir
    try:
        generate(tier=tier, seed=seed, out=target, sources=sources, workers=workers)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--sources") from exc
