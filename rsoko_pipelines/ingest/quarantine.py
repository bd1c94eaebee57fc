"""Quarantine: a file that breaks the contract leaves the inbox for
`<quarantine>/<source>/<year>/`, with a JSON and an HTML report beside it naming the file,
the check, the rows and columns and what the operator should do. None of its rows are
loaded; the registry remembers it so the same bytes are never retried."""

from __future__ import annotations

import copy
import html
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from rsoko_pipelines.extract.schemas import source_spec
from rsoko_pipelines.ingest.outcomes import FileOutcome
from rsoko_pipelines.ingest.registry import slice_key
from rsoko_pipelines.settings import Settings


@dataclass
class Incoming:
    """A file of the inbox as the landing found it."""
    path: Path
    rel: str                 # its path relative to the inbox (how operators know it)
    stat: object             # os.stat_result (size, mtime)
    source: str
    academic_year: int
    file_id: str             # sha256 of its bytes

MAX_ROWS_IN_REPORT = 50
WHAT_TO_DO = ("Fix the file at its source system (or ask the supplier for a corrected export), "
              "then drop the corrected file into the same inbox folder; it will load on the "
              "next run. Other files are not affected.")


def problem_from_extract_error(err) -> dict:
    columns = list(getattr(err, "columns", None) or [])
    return {
        "check": getattr(err, "check", "parse"),
        "message": str(getattr(err, "message", err)),
        "rows": list(getattr(err, "rows", None) or [])[:MAX_ROWS_IN_REPORT],
        "columns": columns,
        "headers": columns,          # parser errors already name the file's headers
        "hint": getattr(err, "hint", "") or "",
    }


def problem_from_crash(err: BaseException) -> dict:
    """A parser bug must not stop the night for every other file: the file is quarantined
    and the report says it is our fault, not the operator's."""
    return {
        "check": "internal_error",
        "message": f"the file could not be processed because of an internal error "
                   f"({type(err).__name__}); it may well be valid",
        "rows": [], "columns": [], "headers": [],
        "hint": "report this file to the platform developers (keep it in quarantine); once "
                "fixed, drop it into the inbox again",
    }


def problem_not_a_file(path: Path) -> dict:
    """A symbolic link in the inbox: its target may be anywhere (outside the inbox, or
    changing after it was checked), so it is never followed."""
    try:
        target = str(path.readlink())
    except OSError:
        target = "?"
    return {
        "check": "not_a_regular_file",
        "message": f"the inbox entry is a symbolic link (to {target}), not a file",
        "rows": [], "columns": [], "headers": [],
        "hint": "copy the file itself into the inbox folder instead of linking to it",
    }


def carries_personal_data(source: str) -> bool:
    """ГИА sheets hold names and document numbers: a value shifted into a checked column
    (a surname in 'Код ОО') would otherwise reach the report as a GX sample value."""
    try:
        return bool(source_spec(source).personal_columns)
    except KeyError:
        return True   # unknown source: be safe


def without_samples(outcome):
    """A copy of a ValidationOutcome with no sample values (counts and rows stay)."""
    clean = copy.copy(outcome)
    clean.expectations = [copy.copy(e) for e in outcome.expectations]
    for e in clean.expectations:
        e.sample_values = []
    return clean


def problems_from_validation(outcome) -> list[dict]:
    """The blocking failures of a ValidationOutcome (skipped and warning-only expectations
    are not reasons to quarantine), in the report's problem shape."""
    return [{
        "check": exp.name,
        "message": _broken_rule(exp),
        "unexpected_count": exp.unexpected_count,
        "sample_values": [str(v) for v in exp.sample_values][:10],
        "rows": list(exp.rows)[:MAX_ROWS_IN_REPORT],
        "columns": [exp.column] if exp.column else [],
        "headers": list(getattr(exp, "headers", None) or []),
        "hint": exp.hint or "",
    } for exp in outcome.blocking_failures]


def _broken_rule(exp) -> str:
    """A suite describes what must hold ("the school is in the registry"); the operator
    needs to read that it does not, and for how many rows."""
    rule = exp.description or exp.expectation_type
    if exp.exception:
        return f"the check could not run ({exp.exception[:200]}): {rule}"
    count = exp.unexpected_count
    if count:
        return f"{count:,} row(s) break the rule / нарушено правило: {rule}"
    return f"rule broken / нарушено правило: {rule}"


def summary_line(rel: str, problems: list[dict]) -> str:
    first = problems[0] if problems else {"check": "?", "message": "unknown problem"}
    where = []
    if first.get("headers") or first.get("columns"):
        where.append("column " + ", ".join(f"«{h}»" for h in (first.get("headers")
                                                               or first["columns"])))
    if first.get("rows"):
        rows = first["rows"]
        where.append("rows " + ", ".join(map(str, rows[:5])) + (" …" if len(rows) > 5 else ""))
    more = f" (+{len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    loc = f" [{'; '.join(where)}]" if where else ""
    hint = f" What to do: {first.get('hint') or WHAT_TO_DO}"
    message = str(first["message"]).strip().rstrip(".")
    if message.startswith(rel):  # parser messages already name the file
        message = message[len(rel):].lstrip(" :")
    return f"{rel}: {first['check']}: {message}{loc}{more}.{hint}"


def quarantine_file(con, settings: Settings, incoming: Incoming,
                    problems: list[dict] | None = None, validation=None,
                    slice_: dict | None = None) -> FileOutcome:
    """Move the file to the quarantine folder with its reports and register it. `slice_`
    (when the file could be parsed) says which slice a later corrected file must fill to
    resolve it (ingest/release.py)."""
    path, rel, stat = incoming.path, incoming.rel, incoming.stat
    source, academic_year, file_id = incoming.source, incoming.academic_year, incoming.file_id
    if validation is not None and carries_personal_data(source):
        validation = without_samples(validation)
    problems = list(problems or []) + (problems_from_validation(validation) if validation else [])
    folder = settings.quarantine_dir / source / str(academic_year)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{file_id[:12]}__{path.name}"
    message = summary_line(rel, problems)
    report = QuarantineReport(
        file=rel, file_id=file_id, source=source, academic_year=academic_year,
        size_bytes=stat.st_size, quarantined_as=str(target), summary=message,
        problems=problems, what_to_do=WHAT_TO_DO)
    json_path, html_path = report.paths(target)
    report.write(json_path)
    html_path.write_text(_html(report.as_dict()), encoding="utf-8")
    if validation is not None:
        try:
            from rsoko_pipelines.quality.report import write_report

            write_report(validation, folder, target.name)
        except Exception:  # noqa: BLE001 - the GX report is a bonus; ours above suffices
            pass
    shutil.move(str(path), str(target))
    con.execute(
        "INSERT INTO raw._file_registry (file_id, source, academic_year, inbox_path, file_name, "
        "size_bytes, mtime_ns, archive_path, rows, status, message, report_path, slice_key, "
        "released) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'quarantined', ?, ?, ?, false)",
        [file_id, source, academic_year, rel, path.name, stat.st_size, stat.st_mtime_ns,
         str(target), message, str(html_path),
         slice_key(source, academic_year, slice_) if slice_ else None])
    return FileOutcome(rel, "quarantined", file_id, 0, message, str(html_path), validation,
                       problems=problems)


@dataclass
class QuarantineReport:
    """`<quarantine>/<source>/<year>/<file>.report.json`: the one format of a quarantine
    report, written here and read by `rsoko status` (publish/status.py)."""
    file: str
    file_id: str
    source: str
    academic_year: int
    size_bytes: int
    quarantined_as: str
    summary: str
    problems: list
    what_to_do: str = WHAT_TO_DO

    SUFFIX = ".report.json"

    @staticmethod
    def paths(target: Path) -> tuple[Path, Path]:
        return (target.with_name(target.name + QuarantineReport.SUFFIX),
                target.with_name(target.name + ".report.html"))

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "file", "file_id", "source", "academic_year", "size_bytes", "quarantined_as",
            "summary", "problems", "what_to_do")}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2),
                        encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "QuarantineReport":
        """The report at `path`; an unreadable one still says where it is and that it is."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        name = path.name[: -len(cls.SUFFIX)]
        return cls(file=data.get("file", name), file_id=data.get("file_id", ""),
                   source=data.get("source", path.parent.parent.name),
                   academic_year=data.get("academic_year", path.parent.name),
                   size_bytes=data.get("size_bytes", 0),
                   quarantined_as=data.get("quarantined_as") or str(path)[: -len(cls.SUFFIX)],
                   summary=data.get("summary") or f"unreadable report {path.name}",
                   problems=data.get("problems", []),
                   what_to_do=data.get("what_to_do", WHAT_TO_DO))


def _html(report: dict) -> str:
    rows = []
    for p in report["problems"]:
        rows.append(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                *(html.escape(str(x)) for x in (
                    p.get("check"), p.get("message"),
                    ", ".join(map(str, p.get("headers") or p.get("columns", []))),
                    ", ".join(map(str, p.get("rows", [])[:20])),
                    ", ".join(p.get("sample_values", []) or []), p.get("hint", "")))))
    return f"""<!doctype html><html lang="ru"><meta charset="utf-8">
<title>Карантин / Quarantine: {html.escape(report['file'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px;
vertical-align:top}}table{{border-collapse:collapse}}th{{background:#f4d6d6}}</style>
<h1>Файл помещён в карантин / File quarantined</h1>
<p><b>{html.escape(report['file'])}</b> ({report['size_bytes']} bytes, sha256
<code>{report['file_id']}</code>), source <b>{report['source']}</b>, academic year
<b>{report['academic_year']}</b>.</p>
<p>{html.escape(report['summary'])}</p>
<table><tr><th>Проверка / Check</th><th>Проблема / Problem</th><th>Столбцы / Columns</th>
<th>Строки / Rows</th><th>Примеры / Samples</th><th>Что делать / What to do</th></tr>
{''.join(rows)}</table>
<p>{html.escape(report['what_to_do'])}</p></html>"""
