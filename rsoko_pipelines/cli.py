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
        from rsoko_pipelines.ingest.cli import extract_app, quarantine_app
    except ImportError:  # ingestion not built yet on this branch
        return
    app.add_typer(extract_app, name="extract", help="Check raw extract files.")
    app.add_typer(quarantine_app, name="quarantine",
                  help="Quarantined files that hold back their source × year.")


_mount_subcommands()


@app.command()
def nightly(
    demo: bool = typer.Option(False, "--demo", help="Fill the inbox with the demo region first."),
    tier: str = typer.Option("S", help="Demo tier when --demo: S, M or F."),
    seed: int = typer.Option(20250607, help="Demo seed when --demo."),
) -> None:
    """Run the nightly load: (demo data →) ingest → validate → star → marts → publish."""
    from rsoko_pipelines.night.command import run_nightly

    raise typer.Exit(run_nightly(prepare_inbox=_demo_inbox(tier, seed) if demo else None))


def _demo_inbox(tier: str, seed: int):
    """Fill an empty inbox with the demo region (once: a manifest marks a generated inbox)."""
    def prepare(settings) -> None:
        from rich.console import Console

        if (settings.inbox_dir / "manifest.json").exists():
            Console().print(f"[dim]demo inbox already present: {settings.inbox_dir}[/dim]")
            return
        from rsoko_pipelines.demo.generate import generate

        generate(tier=tier, seed=seed, out=settings.inbox_dir)
    return prepare


if __name__ == "__main__":
    app()
