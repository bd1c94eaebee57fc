"""Turn a :class:`ValidationOutcome` into a Dagster asset check result.

``outcome_to_check_result(outcome, asset_key=None, check_name=...)`` →
``dagster.AssetCheckResult`` with ``passed`` (no blocking failure), ``severity`` ERROR when a
blocking expectation failed (WARN when only warnings failed) and metadata an operator can scan
in the UI: a Markdown table of the expectations that did not pass (✗ error / ! warning, count,
samples, rows), totals, and — when given — the path/URL of the HTML report.
"""

from __future__ import annotations

MAX_MD_ROWS = 30


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def outcome_markdown(outcome, max_rows: int = MAX_MD_ROWS) -> str:
    t = outcome.totals()
    lines = [
        f"**{outcome.file_label or outcome.source}** — "
        f"{'✓ passed' if outcome.success else '✗ blocking failures'}: "
        f"{t['passed']}/{t['evaluated']} passed, {t['failed_error']} error(s), "
        f"{t['failed_warning']} warning(s), {t['skipped']} skipped; {outcome.row_count:,} rows",
        "",
        "| | severity | check | column | unexpected | samples | rows | what to do |",
        "|---|---|---|---|---|---|---|---|",
    ]
    shown = [e for e in outcome.expectations if e.success is False]
    shown.sort(key=lambda e: (e.severity != "error", e.name))
    for e in shown[:max_rows]:
        mark = "✗" if e.severity == "error" else "!"
        count = "" if e.unexpected_count is None else f"{e.unexpected_count:,}"
        if e.unexpected_percent is not None:
            count += f" ({e.unexpected_percent:.2f} %)"
        samples = ", ".join(map(str, e.sample_values[:5]))
        rows = ", ".join(map(str, e.rows[:10])) + (" …" if len(e.rows) > 10 else "")
        lines.append("| " + " | ".join(_md_cell(x) for x in (
            mark, e.severity, e.name, ", ".join(e.headers) or e.column or "", count, samples,
            rows,
            e.hint if e.severity == "error" else "")) + " |")
    if len(shown) > max_rows:
        lines.append(f"| … | | {len(shown) - max_rows} more | | | | | |")
    if not shown:
        lines.append("| ✓ | | all expectations passed | | | | | |")
    return "\n".join(lines)


def outcome_to_check_result(outcome, asset_key=None, check_name: str = "great_expectations",
                            report_path=None, report_url: str | None = None):
    import dagster as dg

    blocking = outcome.blocking_failures
    severity = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN
    totals = outcome.totals()
    metadata = {
        "expectations": dg.MetadataValue.md(outcome_markdown(outcome)),
        "source": dg.MetadataValue.text(outcome.source),
        "rows": dg.MetadataValue.int(int(outcome.row_count)),
        "evaluated": dg.MetadataValue.int(totals["evaluated"]),
        "failed_error": dg.MetadataValue.int(totals["failed_error"]),
        "failed_warning": dg.MetadataValue.int(totals["failed_warning"]),
        "skipped": dg.MetadataValue.int(totals["skipped"]),
        "validation_seconds": dg.MetadataValue.float(round(float(outcome.seconds), 3)),
    }
    if outcome.file_label:
        metadata["file"] = dg.MetadataValue.text(str(outcome.file_label))
    if blocking:
        metadata["blocking_checks"] = dg.MetadataValue.text(
            ", ".join(e.name for e in blocking))
    if report_path is not None:
        metadata["report"] = dg.MetadataValue.path(str(report_path))
    if report_url:
        metadata["report_url"] = dg.MetadataValue.url(report_url)
    kwargs = {"passed": not blocking, "severity": severity, "metadata": metadata,
              "check_name": check_name}
    if asset_key is not None:
        kwargs["asset_key"] = asset_key
    return dg.AssetCheckResult(**kwargs)
