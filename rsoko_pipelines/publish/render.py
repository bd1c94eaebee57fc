"""The human-readable form of `rsoko status` (the data comes from `status.py`)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

STATUS_STYLE = {"SUCCESS": "green", "FAILURE": "red", "STARTED": "yellow", "CANCELED": "red"}


def _short(text, width: int = 110) -> str:
    text = " ".join(str(text or "").split())
    return escape(text if len(text) <= width else text[: width - 1] + "…")


def _time(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "—"


def _duration(start: str | None, end: str | None) -> str:
    if not (start and end):
        return "—"
    seconds = int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def print_status(report: dict, console: Console | None = None) -> None:
    console = console or Console()
    _dagster(console, report["dagster"])
    _quarantine(console, report["quarantine"])
    _published(console, report["published"])


def _dagster(console: Console, dagster: dict) -> None:
    console.rule("Dagster")
    if dagster["note"]:
        console.print(f"[yellow]{escape(dagster['note'])}[/yellow]  "
                      f"(DAGSTER_HOME={escape(dagster['home'])})")
    if not dagster["available"]:
        return
    if dagster["runs"]:
        table = Table(title="Recent runs", title_justify="left")
        for col in ("job", "by", "status", "completed", "started", "took", "run"):
            table.add_column(col, no_wrap=True)
        for run in dagster["runs"]:
            style = STATUS_STYLE.get(run["status"], "")
            table.add_row(run["job"], run.get("trigger") or "—",
                          f"[{style}]{run['status']}[/]" if style else run["status"],
                          run.get("complete") or "—",
                          _time(run["start"]), _duration(run["start"], run["end"]),
                          run["run_id"][:8])
        console.print(table)
    else:
        console.print("No runs yet.")
    release = dagster.get("release")
    if release and release.get("held_back"):
        console.print(f"[yellow]Release of the last night ({_time(release['at'])}): "
                      f"{_short(release['release'], 300)}[/yellow]")
    failing = dagster["failing_checks"]
    if not failing:
        console.print("[green]Asset checks: none failing.[/green]")
        return
    table = Table(title=f"Failing asset checks ({len(failing)})", title_justify="left")
    for col in ("asset", "check", "when", "what"):
        table.add_column(col, overflow="fold", no_wrap=col != "what")
    for check in failing:
        severity = "" if check["severity"] in (None, "ERROR") else f"[{check['severity']}] "
        table.add_row(escape(check["asset"]), escape(check["check"]),
                      _time(check["at"]), escape(severity) + _short(check["description"], 400))
    console.print(table)


def _quarantine(console: Console, files: list[dict]) -> None:
    console.rule("Quarantine")
    if not files:
        console.print("[green]No quarantined files.[/green]")
        return
    waiting = [f for f in files if f["present"]]
    console.print(f"[red]{len(waiting)} file(s) in quarantine[/red]"
                  + (f" ({len(files) - len(waiting)} report(s) of files already removed)"
                     if len(waiting) < len(files) else ""))
    for f in waiting:
        console.print(f"• {escape(str(f['source']))}/{f['academic_year']}: "
                      f"{_short(f['summary'] or f['file'])}\n  report: {escape(f['report'])}")


def _published(console: Console, published: dict | None) -> None:
    console.rule("Published marts")
    if published is None:
        console.print("[yellow]Nothing published yet: run `rsoko nightly` first.[/yellow]")
        return
    rows = sum(n or 0 for n in published["tables"].values())
    console.print(f"Version [bold]{published['version']}[/bold], published "
                  f"{published['published_at']} (commit {(published['git_commit'] or '?')[:10]}): "
                  f"{len(published['tables'])} tables, {rows:,} rows, "
                  f"{published['source_files']} source files; "
                  f"{len(published['kept_versions'])} version(s) kept.")
    console.print(f"Analysts: {escape(published['database'])} (read-only), "
                  "or `rsoko sql \"SELECT …\"`")
    _data_status(console, published)


def _data_status(console: Console, published: dict) -> None:
    rows = published.get("data_status") or []
    if not rows:
        return
    table = Table(title="Data in the published marts (marts.data_status)", title_justify="left")
    for col in ("source", "year", "state", "files", "rows", "version in use", "held back: why"):
        table.add_column(col, overflow="fold", no_wrap=col not in ("state", "held back: why"))
    for r in rows:
        held = r.get("is_held_back")
        style = "yellow" if held else ("dim" if not r.get("is_loaded") else "")
        state = escape(str(r.get("state")))
        table.add_row(escape(str(r.get("source"))), str(r.get("academic_year")),
                      f"[{style}]{state}[/]" if style else state,
                      f"{r.get('files_in_use', 0):,}", f"{r.get('rows_in_use', 0):,}",
                      _time(str(r.get("version_in_use") or "")),
                      _short(r.get("held_back_reason") or "", 200))
    console.print(table)
    for name, why in (published.get("marts_kept_from_previous") or {}).items():
        console.print(f"[yellow]marts.{escape(name)}: {_short(why, 300)}[/yellow]")
