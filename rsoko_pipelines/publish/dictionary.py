"""The data dictionary of a published version: one static HTML page (`dictionary.html`, no
script, no network) generated from the COMMENTs of the published database, so the page,
`DESCRIBE`, `duckdb_columns()` and the Parquet metadata always say the same thing.

Every schema of the published database is listed (marts first, then reference data and
whatever else a publication holds), so a table added to the publication is documented
without touching this module."""

from __future__ import annotations

from html import escape
from pathlib import Path

SCHEMA_TITLES = {
    "marts": "Витрины показателей / Indicator marts",
    "reference": "Справочники и правила / Reference data and rules",
}
SCHEMA_ORDER = ("marts", "reference")

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1d2530;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccd}
h3{font-size:1.05rem;margin-top:1.6rem}code{background:#f1f3f6;padding:0 .25em}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #d5dae1;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f6}td.t{white-space:nowrap;color:#555;font-family:monospace}
.toc{columns:3;font-size:.92rem}.meta{color:#555;font-size:.92rem}
pre{background:#f6f8fa;padding:.6rem;overflow:auto}
"""


def _paragraphs(text: str | None) -> str:
    parts = [p.strip() for p in (text or "").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p)}</p>" for p in parts) or "<p><em>—</em></p>"


def _schemas(con, db: str) -> list[str]:
    present = [r[0] for r in con.execute(
        "SELECT DISTINCT schema_name FROM duckdb_tables() WHERE database_name = ? "
        "ORDER BY 1", [db]).fetchall()]
    return [s for s in SCHEMA_ORDER if s in present] + \
           [s for s in present if s not in SCHEMA_ORDER]


def _parquet_hint(schema: str, name: str, has_year: bool) -> str:
    if schema == "reference":
        return f"parquet/reference/{name}.parquet"
    return f"parquet/{name}/{name}_<год/year>.parquet" if has_year \
        else f"parquet/{name}/{name}.parquet"


def render_dictionary(con, db: str, info: dict) -> str:
    """The page, from the catalog of the open database `db` (the published copy)."""
    tables = con.execute(
        "SELECT schema_name, table_name, comment, estimated_size FROM duckdb_tables() "
        "WHERE database_name = ? ORDER BY schema_name, table_name", [db]).fetchall()
    columns: dict[tuple[str, str], list[tuple]] = {}
    for schema, table, column, type_, comment in con.execute(
            "SELECT schema_name, table_name, column_name, data_type, comment "
            "FROM duckdb_columns() WHERE database_name = ? "
            "ORDER BY schema_name, table_name, column_index", [db]).fetchall():
        columns.setdefault((schema, table), []).append((column, type_, comment))
    by_schema: dict[str, list[tuple]] = {}
    for row in tables:
        by_schema.setdefault(row[0], []).append(row)

    out = [f"<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
           f"<title>Словарь данных rsoko {escape(info['version'])}</title>"
           f"<style>{STYLE}</style></head><body>",
           "<h1>Словарь данных РСОКО / rsoko data dictionary</h1>",
           f"<p class='meta'>Версия / version <b>{escape(info['version'])}</b>, "
           f"опубликована / published {escape(str(info['published_at_dt']))} UTC; "
           f"коммит / commit {escape((info.get('git_commit') or '?')[:10])}.</p>",
           "<p>База <code>rsoko_marts.duckdb</code> открывается только для чтения любым "
           f"клиентом DuckDB (формат хранения {escape(info['storage_version'])}: "
           f"{escape(info['readable_by'])}). Те же таблицы — в <code>parquet/</code>, по файлу "
           "на учебный год; <code>academic_year</code> — INTEGER, как в базе. / The database "
           "opens read-only in any DuckDB client; the same tables are in <code>parquet/</code>, "
           "one file per academic year, academic_year an INTEGER as in the database.</p>",
           "<pre>duckdb -readonly rsoko_marts.duckdb \"SELECT * FROM marts.indicators LIMIT 5\"\n"
           "SELECT * FROM read_parquet('parquet/task_mastery/*.parquet') "
           "WHERE academic_year = 2025;</pre>"]
    for schema in _schemas(con, db):
        out.append(f"<h2 id='{escape(schema)}'>{escape(SCHEMA_TITLES.get(schema, schema))} "
                   f"(<code>{escape(schema)}</code>)</h2><div class='toc'><ul>")
        out += [f"<li><a href='#{escape(schema)}.{escape(t[1])}'>{escape(t[1])}</a></li>"
                for t in by_schema[schema]]
        out.append("</ul></div>")
        for _, name, comment, size in by_schema[schema]:
            cols = columns.get((schema, name), [])
            has_year = any(c[0] == "academic_year" for c in cols)
            out.append(f"<h3 id='{escape(schema)}.{escape(name)}'><code>{escape(schema)}."
                       f"{escape(name)}</code></h3>{_paragraphs(comment)}"
                       f"<p class='meta'>≈ {int(size or 0):,} строк / rows · Parquet: "
                       f"<code>{escape(_parquet_hint(schema, name, has_year))}</code></p>"
                       "<table><tr><th>столбец / column</th><th>тип / type</th>"
                       "<th>описание / description</th></tr>")
            out += [f"<tr><td><code>{escape(c)}</code></td><td class='t'>{escape(t)}</td>"
                    f"<td>{escape(d or '—')}</td></tr>" for c, t, d in cols]
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def write_dictionary(con, db: str, path: Path, info: dict) -> None:
    """info: version, published_at_dt, git_commit, storage_version, readable_by."""
    Path(path).write_text(render_dictionary(con, db, info), encoding="utf-8")
