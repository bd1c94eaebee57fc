"""The `rsoko` command. Sub-commands import their heavy modules lazily, so `rsoko --help`
answers at once."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="rsoko",
    help="РСОКО data platform: demo data, nightly load, extract checks, published marts.",
    no_args_is_help=True,
    add_completion=False,
)


def _mount_subcommands() -> None:
    from rsoko_pipelines.demo.cli import demo_app
    from rsoko_pipelines.publish.cli import publish_app, report, sql, status

    app.add_typer(demo_app, name="demo", help="The built-in demo region (generator).")
    app.command("sql")(sql)
    app.command("status")(status)
    app.command("report")(report)
    app.add_typer(publish_app, name="publish")
    try:
        from rsoko_pipelines.ingest.cli import extract_app
    except ImportError:  # ingestion not built yet on this branch
        return
    app.add_typer(extract_app, name="extract", help="Check raw extract files.")


_mount_subcommands()


@app.command()
def nightly(
    demo: bool = typer.Option(False, "--demo", help="Fill the inbox with the demo region first."),
    tier: str = typer.Option("S", help="Demo tier when --demo: S, M or F."),
    seed: int = typer.Option(20250607, help="Demo seed when --demo."),
) -> None:
    """Run the nightly load: (demo data →) ingest → validate → star → marts → publish."""
    from rsoko_pipelines.nightly import run_nightly

    raise typer.Exit(run_nightly(demo=demo, tier=tier, seed=seed))


if __name__ == "__main__":
    app()
