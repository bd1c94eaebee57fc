"""HTML building blocks of the reports: the page frame, tables whose suppressed small
cells are blank, number formats. Plain strings with every value escaped; no template
engine, no script, no external file: each page is one self-contained file."""

from __future__ import annotations

from html import escape

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
color:#1d2530;line-height:1.45;background:#fafbfc}
header{background:#1f5fa8;color:#fff;padding:.8rem 1.5rem}header a{color:#fff}
nav{font-size:.9rem;opacity:.9}main{max-width:78rem;margin:0 auto;padding:1rem 1.5rem 3rem}
h1{font-size:1.5rem;margin:.3rem 0}
h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #dfe3e8}
h3{font-size:1rem;margin-top:1.2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;background:#fff;font-size:.88rem}
th,td{border:1px solid #d5dae1;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.suppressed td{background:#f6f6f6;color:#777}
.charts{display:flex;flex-wrap:wrap;gap:1rem}
figure.chart{margin:0;background:#fff;border:1px solid #e1e5ea;padding:.4rem}
figure.chart svg{max-width:100%;height:auto}
.ok{color:#2e7d32}.bad{color:#c62828}.note{color:#555;font-size:.88rem}
.flag{background:#fff4e5;border-left:4px solid #ed8b00;padding:.5rem .8rem;margin:.5rem 0}
.card{display:inline-block;background:#fff;border:1px solid #e1e5ea;padding:.5rem .8rem;
margin:0 .5rem .5rem 0;min-width:10rem}.card b{display:block;font-size:1.2rem}
"""

SUPPRESSED_NOTE = ("Пустая ячейка: группа меньше порога малых групп (rsoko:min_cell_size) — "
                   "доли и средние не публикуются, счётчики сохранены.")


def page(title: str, crumbs: list[tuple[str, str | None]], body: str, footer: str) -> str:
    nav = " › ".join(f"<a href='{escape(href)}'>{escape(text)}</a>" if href else escape(text)
                     for text, href in crumbs)
    return (f"<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            f"<header><nav>{nav}</nav><h1>{escape(title)}</h1></header>"
            f"<main>{body}<p class='note'>{escape(footer)}</p></main></body></html>")


def num(value, digits: int = 1) -> str:
    """Russian number format: 12,3; thousands with a thin space; None -> blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    return f"{float(value):,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def yes_no(value) -> str:
    return "" if value is None else ("да" if value else "нет")


def table(columns: list[tuple[str, str, str]], rows: list[dict], *, css: str = "") -> str:
    """columns: (key, header, kind) with kind text | int | num | pct | bool | html.
    A row with is_suppressed true gets class `suppressed`; None is always a blank cell."""
    if not rows:
        return "<p class='note'>Нет данных.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in columns)
    body = []
    for row in rows:
        cells = []
        for key, _, kind in columns:
            value = row.get(key)
            if kind == "html":
                cells.append(f"<td>{value or ''}</td>")
            elif kind in ("int", "num", "pct"):
                whole = kind == "int" or row.get("unit") == "count"  # indicators' counts
                text = num(round(value) if whole and value is not None else value,
                           0 if whole else 1)
                cells.append(f"<td class='n {escape(kind)}'>{escape(text)}</td>")
            elif kind == "bool":
                cells.append(f"<td>{escape(yes_no(value))}</td>")
            else:
                cells.append(f"<td>{escape('' if value is None else str(value))}</td>")
        cls = " class='suppressed'" if row.get("is_suppressed") else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table class='{escape(css)}'><tr>{head}</tr>{''.join(body)}</table>"


def figure(svg: str, caption: str = "") -> str:
    cap = f"<figcaption class='note'>{escape(caption)}</figcaption>" if caption else ""
    return f"<figure class='chart'>{svg}{cap}</figure>"


def section(title: str, content: str, anchor: str = "") -> str:
    ident = f" id='{escape(anchor)}'" if anchor else ""
    return f"<section{ident}><h2>{escape(title)}</h2>{content}</section>"
