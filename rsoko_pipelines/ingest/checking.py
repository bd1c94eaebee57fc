"""`rsoko extract check FILE`: the verdict the night would give one file, without side
effects. The same functions judge it as in the night: `parsing.parse_one` (a contract breach
or a parser crash becomes a problem) and `validation.validate_parsed` (the GX suites against
the registry of schools of the year in the warehouse, when there is one)."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from rsoko_pipelines.extract.pseudonym import Pseudonymizer
from rsoko_pipelines.ingest import quarantine
from rsoko_pipelines.ingest.parsing import parse_one
from rsoko_pipelines.ingest.validation import validate_parsed
from rsoko_pipelines.ingest.warehouse import connect
from rsoko_pipelines.settings import Settings


def problems_for_file(path: Path, source: str, academic_year: int) -> tuple[list[dict], int]:
    """The problems that would quarantine `path` (empty if it would load) and its row count."""
    settings = Settings.from_env()
    settings.secrets_dir.mkdir(parents=True, exist_ok=True)
    parsed, problem = parse_one(path, source, academic_year,
                                Pseudonymizer.from_env(settings.secrets_dir))
    if problem is not None:
        return [problem], 0
    con = None
    if settings.warehouse_path.exists():  # the registry of schools, for known-school checks
        try:
            con = connect(settings.warehouse_path, read_only=True)
        except Exception:
            con = None
    try:
        outcome = validate_parsed(con, source, academic_year, parsed)
    finally:
        if con is not None:
            con.close()
    return (quarantine.problems_from_validation(outcome) if not outcome.success else []), parsed.rows


def check_file(path: Path, source: str, academic_year: int, console) -> bool:
    problems, rows = problems_for_file(path, source, academic_year)
    label = f"{source}/{academic_year}/{path.name}"
    if not problems:
        console.print(f"[green]✓ {label}: {rows:,} rows would load.[/green]")
        return True
    console.print(f"[red]✗ {escape(quarantine.summary_line(label, problems))}[/red]")
    for p in problems:
        where = []
        columns = [str(c) for c in p.get("columns") or []]
        headers = [str(h) for h in p.get("headers") or []] or columns
        if headers:
            internal = f" ({', '.join(columns)})" if columns and columns != headers else ""
            where.append("columns: " + ", ".join(f"«{h}»" for h in headers) + internal)
        if p.get("rows"):
            where.append("rows: " + ", ".join(map(str, p["rows"][:10])))
        line = f"  • {p['check']}: {p['message']}" + (f" ({'; '.join(where)})" if where else "")
        console.print(escape(line))
        if p.get("hint"):
            console.print(escape(f"    what to do: {p['hint']}"))
    return False
