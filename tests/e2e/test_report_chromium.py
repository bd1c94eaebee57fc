"""The reports of `rsoko report` as a methodologist sees them, in headless Chromium (Debian's
/usr/bin/chromium driven by Playwright, as tests/e2e/test_ui_chromium.py): the region page
and one school page of the tier XS reference night. The charts rendered (inline SVG with
drawn paths), suppressed small cells are blank, and the browser fetched nothing but the
page file itself. Screenshots: $RSOKO_TEST_ARTIFACTS (default var/test/artifacts/)."""

from __future__ import annotations

import duckdb
import pytest

from rsoko_pipelines.publish.versions import published_database
from rsoko_pipelines.report.build import build_report
from tests.e2e.test_ui_chromium import ARTIFACTS, browser  # noqa: F401 (fixture)
from tests.integration import _nightly as n

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site of the reference night, with the page of one school that has a suppressed
    (small) cell in its results; returns (site folder, that school's code)."""
    reference = n.reference_night(tmp_path_factory)
    published = n.settings_for(reference.data).published_dir
    con = duckdb.connect(str(published_database(published)), read_only=True)
    school = con.execute("""
        SELECT school_code FROM marts.assessment_results
        WHERE level = 'school' AND academic_year = (SELECT max(academic_year)
                                                     FROM marts.assessment_results)
        GROUP BY school_code
        HAVING bool_or(is_suppressed) AND bool_or(NOT is_suppressed)
        ORDER BY count(*) DESC, school_code LIMIT 1""").fetchone()[0]
    con.close()
    out = tmp_path_factory.mktemp("report") / "site"
    build_report(published, out, log=lambda m: None, only_schools={school})
    return out, school


def _open(browser, path, shot: str):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return page, requests


def _charts_rendered(page) -> list[int]:
    """Drawn elements (paths, lines, text) per inline chart, and its rendered width."""
    return page.eval_on_selector_all(
        "figure.chart svg", "svgs => svgs.map(s => s.querySelectorAll('path, use').length "
                            "* (s.getBoundingClientRect().width > 100 ? 1 : 0))")


def test_region_page(site, browser):  # noqa: F811
    root, _ = site
    page, requests = _open(browser, root / "index.html", "report_region.png")
    try:
        assert page.title() == "Регион: мониторинг качества образования"
        drawn = _charts_rendered(page)
        assert len(drawn) >= 2 and all(d > 10 for d in drawn), drawn
        rows = page.eval_on_selector_all("#scorecard tr", "rs => rs.length")
        assert rows > 10
        assert page.locator("#scorecard").get_by_text("EGE_FAIL_PCT").count() >= 1
        links = page.eval_on_selector_all("#municipalities a", "as => as.map(a => a.href)")
        assert any(h.endswith(".html") for h in links) and any(h.endswith(".xlsx") for h in links)
    finally:
        page.close()
    assert requests == [(root / "index.html").as_uri()], requests  # nothing else fetched


def test_school_page(site, browser):  # noqa: F811
    root, school = site
    path = root / "school" / f"{school}.html"
    page, requests = _open(browser, path, "report_school.png")
    try:
        drawn = _charts_rendered(page)
        assert len(drawn) >= 1 and all(d > 10 for d in drawn), drawn
        # suppressed small cells: every rate and mean blank, the counts shown
        cells = page.eval_on_selector_all(
            "table.results tr.suppressed", "trs => trs.map(tr => Array.from(tr.cells)"
                                           ".map(td => td.textContent))")
        assert cells, "the chosen school has a suppressed row"
        for row in cells:
            assert row[3] != "" and all(c == "" for c in (row[4], row[6], row[8], row[9])), row
        shown = page.eval_on_selector_all(
            "table.results tr:not(.suppressed)", "trs => trs.slice(1).map(tr => "
                                                 "tr.cells[6].textContent)")
        assert any(text != "" for text in shown)
        for heading in ("Контекст", "Результаты против региона", "Дефицитные задания",
                        "Объективность ВПР"):
            assert page.get_by_role("heading", name=heading).count() == 1
    finally:
        page.close()
    assert requests == [path.as_uri()], requests
