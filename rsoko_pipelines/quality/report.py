"""Render a :class:`ValidationOutcome` as a self-contained HTML page (our "Data Docs"
equivalent: no GX site, no external assets) and as JSON.

The report shows what GX returned about the landing frame — counts, a few sample values of the
checked column and the file's line numbers — never raw-file contents beyond that. Landing
tables hold no personal data (ГИА names and document numbers are dropped at parse time).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

_SAFE = re.compile(r"[^0-9A-Za-zА-Яа-яЁё._-]+")


def outcome_to_json(outcome) -> str:
    return json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2)


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _fmt_kwargs(kwargs: dict) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("batch_id",)}
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in shown.items())


def outcome_to_html(outcome, title: str | None = None) -> str:
    totals = outcome.totals()
    label = outcome.file_label or outcome.file_id or outcome.source
    verdict = ("✓ пройдена / passed" if outcome.success
               else "✗ блокирующие ошибки — файл не загружается / blocking failures — file not loaded")
    order = {"failed": 0, "skipped": 2, "passed": 3}

    def key(e):
        rank = order.get(e.status, 1)
        if e.status == "failed" and e.severity != "error":
            rank = 1
        return rank

    rows = []
    for e in sorted(outcome.expectations, key=key):
        if e.status == "failed":
            cls, mark = ("err", "✗") if e.severity == "error" else ("warn", "!")
        elif e.status == "skipped":
            cls, mark = "skip", "–"
        else:
            cls, mark = "ok", "✓"
        count = "" if e.unexpected_count is None else f"{e.unexpected_count:,}".replace(",", " ")
        pct = "" if e.unexpected_percent is None else f"{e.unexpected_percent:.2f} %"
        extra = e.exception or e.skipped_reason or ""
        if e.observed_value is not None and e.status == "failed":
            extra = (extra + " " if extra else "") + f"observed: {e.observed_value}"
        rows.append(
            f'<tr class="{cls}"><td class="m">{mark}</td><td>{_e(e.severity)}</td>'
            f"<td><code>{_e(e.name)}</code><br><small>{_e(e.expectation_type)}"
            f"{' (' + _e(_fmt_kwargs(e.kwargs)) + ')' if e.kwargs else ''}</small></td>"
            f"<td>{_e(', '.join(e.headers) or e.column)}"
            f"{'<br><small>' + _e(e.column) + '</small>' if e.headers and e.column else ''}</td>"
            f"<td>{_e(e.description)}</td>"
            f'<td class="n">{count}</td><td class="n">{pct}</td>'
            f"<td>{_e(', '.join(map(str, e.sample_values)))}</td>"
            f"<td>{_e(', '.join(map(str, e.rows)))}"
            f"{' …' if e.unexpected_count and len(e.rows) < e.unexpected_count else ''}</td>"
            f"<td>{_e(e.hint) if e.status == 'failed' else ''}"
            f"{'<br><small>' + _e(extra) + '</small>' if extra else ''}</td></tr>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in outcome.notes)
    tables = ", ".join(f"{_e(t)}: {n:,}".replace(",", " ") for t, n in outcome.tables.items())
    head = title or f"Проверка данных / Data validation: {label}"
    return f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{_e(head)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5em;color:#222}}
table{{border-collapse:collapse;width:100%;font-size:13px}}
td,th{{border:1px solid #ccc;padding:4px 6px;vertical-align:top}}
th{{background:#eee;text-align:left}} td.n{{text-align:right;white-space:nowrap}}
td.m{{font-weight:bold;text-align:center}} tr.err{{background:#fbe3e3}}
tr.warn{{background:#fff4d6}} tr.skip{{color:#888}} .verdict{{font-size:1.2em;font-weight:bold}}
.bad{{color:#b00}} .good{{color:#070}} dl{{display:grid;grid-template-columns:max-content auto;gap:2px 12px}}
</style></head><body>
<h1>{_e(head)}</h1>
<p class="verdict {'good' if outcome.success else 'bad'}">{_e(verdict)}</p>
<dl>
<dt>Файл / File</dt><dd>{_e(label)}</dd>
<dt>Источник / Source</dt><dd>{_e(outcome.source)} (suite {_e(outcome.suite)})</dd>
<dt>Учебный год / Academic year</dt><dd>{_e(outcome.academic_year)}</dd>
<dt>SHA-256</dt><dd><code>{_e(outcome.file_id)}</code></dd>
<dt>Строк / Rows</dt><dd>{tables}</dd>
<dt>Итого / Totals</dt><dd>проверок {totals['evaluated']}, пройдено {totals['passed']},
 ошибок {totals['failed_error']}, замечаний {totals['failed_warning']}, пропущено {totals['skipped']}
 / evaluated {totals['evaluated']}, passed {totals['passed']}, errors {totals['failed_error']},
 warnings {totals['failed_warning']}, skipped {totals['skipped']}</dd>
<dt>Проверено / Validated</dt><dd>{_e(outcome.validated_at)} in {outcome.seconds:.2f} s
 (Great Expectations {_e(outcome.gx_version)})</dd>
</dl>
{'<h2>Примечания / Notes</h2><ul>' + notes + '</ul>' if notes else ''}
<h2>Ожидания / Expectations</h2>
<p><small>error — блокирует загрузку файла / blocks the file; warning — замечание / finding only.
Строки — номера строк исходного файла (_source_line) / Rows are line numbers in the original file.</small></p>
<table><tr><th></th><th>Важность / Severity</th><th>Проверка / Check</th><th>Столбец / Column</th>
<th>Описание / Description</th><th>Нарушений / Unexpected</th><th>%</th>
<th>Примеры / Samples</th><th>Строки / Rows</th><th>Что делать / What to do</th></tr>
{''.join(rows)}
</table></body></html>
"""


def write_report(outcome, out_dir, file_label: str | None = None) -> tuple[Path, Path]:
    """Write ``<label>.validation.json`` and ``<label>.validation.html`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    label = file_label or outcome.file_label or (outcome.file_id or outcome.source)[:16]
    stem = _SAFE.sub("_", str(label)).strip("_") or "validation"
    json_path = out / f"{stem}.validation.json"
    html_path = out / f"{stem}.validation.html"
    json_path.write_text(outcome_to_json(outcome) + "\n", encoding="utf-8")
    html_path.write_text(outcome_to_html(outcome), encoding="utf-8")
    return json_path, html_path
