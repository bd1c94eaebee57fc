"""`rsoko report`: the static HTML site and the municipal workbooks of a published version.

    <out>/index.html              the region: scorecard against the targets, municipalities
    <out>/msu/<code>.html         a municipality
    <out>/school/<code>.html      a school
    <out>/xlsx/msu_<code>.xlsx    the municipality's tables, for Excel

Every page is self-contained (inline CSS and SVG charts, no script, no network), so the
folder can be copied to a file share and opened from there. Written to a temporary folder
and renamed, so a half-written site never replaces a complete one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from rsoko_pipelines.report import data as report_data
from rsoko_pipelines.report.pages import Index, municipality_page, region_page, school_page
from rsoko_pipelines.report.workbook import write_workbook


def build_report(published_dir: Path, out_dir: Path, version: str | None = None,
                 log: Callable[[str], None] = print,
                 only_schools: set[str] | None = None) -> dict:
    """Write the site of `version` (default: the current one) into `out_dir`; return counts.
    `only_schools`: school pages for these codes only (a quick look at a few schools)."""
    from rsoko_pipelines.publish.query import connect

    # one connection for the whole report: every page and workbook from the same version,
    # even if a publication swaps `current` meanwhile
    con = connect(published_dir, version)
    try:
        data = report_data.load_from(con)
        _write_site(con, data, Path(out_dir), only_schools)
    finally:
        con.close()
    codes = {s["school_code"] for s in data.schools}
    counts = {"version": data.version, "year": data.latest_year,
              "municipalities": len(data.municipalities),
              "schools": len(codes if only_schools is None else codes & only_schools),
              "recommendations": data.recommendations is not None, "out": str(out_dir)}
    log(f"report of version {data.version} ({data.latest_year - 1}/{str(data.latest_year)[-2:]}):"
        f" 1 region page, {counts['municipalities']} municipality pages and workbooks, "
        f"{counts['schools']} school pages → {out_dir / 'index.html'}")
    return counts


def _write_site(con, data, out_dir: Path, only_schools: set[str] | None) -> None:
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ("msu", "school", "xlsx"):
        (tmp / sub).mkdir(parents=True)
    idx = Index(data.indicators)
    (tmp / "index.html").write_text(region_page(data, idx), encoding="utf-8")
    for m in data.municipalities:
        (tmp / "msu" / f"{m['code']}.html").write_text(municipality_page(data, idx, m),
                                                       encoding="utf-8")
    low = {r["school_code"]: r for r in data.low_results}
    for s in data.schools:
        if only_schools is not None and s["school_code"] not in only_schools:
            continue
        (tmp / "school" / f"{s['school_code']}.html").write_text(
            school_page(data, idx, s, low.get(s["school_code"])), encoding="utf-8")
    for m in data.municipalities:
        sheets = report_data.workbook_tables_from(con, m["code"])
        write_workbook(tmp / "xlsx" / f"msu_{m['code']}.xlsx",
                       f"{m['name']}: таблицы отчёта, версия {data.version}", sheets,
                       data.descriptions)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
