"""The Dagster UI as an operator sees it, in headless Chromium (Debian's /usr/bin/chromium
driven by Playwright; no browser is downloaded): the asset lineage raw → … → published, and
a failed Great Expectations check that names the quarantined file. Screenshots are kept as
test artefacts under $RSOKO_TEST_ARTIFACTS (default var/test/artifacts/, git-ignored).

Only the webserver is started (no daemon): the failed check is made beforehand, in this
process, by materialising the raw assets on a tiny inbox with one broken ЕГЭ sheet; without
the daemon the inbox sensor cannot start runs of its own on that inbox while we look."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from rsoko_pipelines.settings import REPO_ROOT
from tests.e2e._dagster import Dagster, deployment_env

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("RSOKO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("RSOKO_TEST_ARTIFACTS", REPO_ROOT / "var" / "test" / "artifacts"))
YEAR = 2025
VIEWPORT = {"width": 1600, "height": 1000}
UI_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
                    "scripts/test.sh installs it when apt-get is available)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (test extra)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def failed_check(tmp_path_factory):
    """A private deployment whose raw/ege check failed on ege/2025/ege_score_104.csv
    (raw/schools passed); returns (data dir, the broken file's inbox path)."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from tests.integration import _broken_files as bf

    root = tmp_path_factory.mktemp("e2e_ui")
    gen = root / "gen"
    bf.generate_region(gen, sources=["schools", "ege"], n_schools=40)
    data = root / "data"
    env = deployment_env(data)              # writes the local dagster.yaml
    with pytest.MonkeyPatch.context() as mp:
        settings = bf.use_deployment(mp, data)
        bf.link_year(gen, settings.inbox_dir, YEAR, sources=["schools"])
        broken = bf.make("score_out_of_range", gen, YEAR, root / "made")
        target = settings.inbox_dir / "ege" / str(YEAR) / broken.path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(broken.path, target)

        from rsoko_pipelines.assets.raw import build_raw_assets

        assets = [a for a in build_raw_assets()
                  if {k.to_user_string() for k in a.keys} & {"raw/schools", "raw/ege"}]
        with dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as instance:
            instance.add_dynamic_partitions("academic_year", [str(YEAR)])
            result = dg.materialize(assets, partition_key=str(YEAR), instance=instance,
                                    raise_on_error=False)
    evaluations = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert evaluations["raw/schools"].passed
    assert not evaluations["raw/ege"].passed
    rel = f"ege/{YEAR}/{broken.path.name}"
    assert rel in evaluations["raw/ege"].description
    return env, root, rel


@pytest.fixture(scope="module")
def ui(failed_check):
    env, root, rel = failed_check
    with Dagster(env, root / "logs").start(daemon=False) as server:
        server.wait_loaded()
        yield server


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture()
def page(browser, ui):
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    yield page
    context.close()


def _dismiss_community_dialog(page, ui) -> bool:
    """The first visit to a fresh instance shows 'Join the Dagster community' (a newsletter
    sign-up; `nux` in dagster.yaml): Skip it. Skipping is remembered in DAGSTER_HOME, so the
    webserver's `shouldShowNux` says whether to expect it."""
    if not ui.graphql("query { shouldShowNux }")["shouldShowNux"]:
        return False
    dialog = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
    dialog.wait_for(state="visible")
    dialog.get_by_role("button", name="Skip").click()
    dialog.wait_for(state="hidden")
    return True


def _settle(page) -> None:
    """Let the page finish loading its data (the UI keeps polling, so 'network idle' may
    never come on a busy machine: wait for it a while, not forever)."""
    try:
        page.wait_for_load_state("networkidle", timeout=10_000)
    except Exception:  # noqa: BLE001 — playwright TimeoutError; the asserted text is there
        pass
    page.wait_for_timeout(500)


@pytest.fixture()
def failure_shot(request, artifacts):
    """On a failing test, a screenshot of where the page stood (…-FAILED.png)."""
    pages = []
    failed_before = request.session.testsfailed
    yield pages.append
    if request.session.testsfailed > failed_before:    # this test's call phase failed
        for page in pages:
            try:
                page.screenshot(path=str(artifacts / f"{request.node.name}-FAILED.png"),
                                full_page=True)
            except Exception:  # noqa: BLE001 — the browser may be gone
                pass


def _shot(page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, path
    return path


def test_asset_lineage(page, ui, artifacts, failure_shot):
    failure_shot(page)
    started = time.monotonic()
    page.goto(ui.url + "/asset-groups")
    _dismiss_community_dialog(page, ui)     # a fresh instance shows it on the first visit
    page.get_by_text("Global asset lineage").first.wait_for()
    # the collapsed groups of the lineage, raw → … → published, are drawn
    for group in ("raw", "staging", "intermediate", "core", "marts", "published"):
        page.get_by_text(group, exact=True).first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_asset_lineage")

    # one chain in detail: everything upstream of the ЕГЭ/ОГЭ/ВПР results mart, down to
    # the raw landing assets (long labels are shortened in the graph: fct_assess…_result)
    page.set_viewport_size({"width": 2400, "height": 1600})
    page.goto(ui.url + "/assets/marts/assessment_results?view=lineage"
                       "&lineageScope=upstream&lineageDepth=4")
    _dismiss_community_dialog(page, ui)
    for label in ("assessment_results", "int_gia_results", "stg_ege", "ege", "schools"):
        page.get_by_text(label, exact=True).first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_lineage_assessment_results")
    assert time.monotonic() - started < 60


def test_failed_check_names_the_quarantined_file(page, ui, failed_check, artifacts,
                                                failure_shot):
    failure_shot(page)
    _, _, rel = failed_check
    page.goto(ui.url + "/assets/raw/ege?view=checks")
    _dismiss_community_dialog(page, ui)
    page.get_by_text("great_expectations").first.wait_for()
    page.get_by_text("Failed", exact=True).first.wait_for()
    page.get_by_text(rel).first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_failed_check_raw_ege")
    body = page.inner_text("body")
    assert "ege.test_score.range" in body
    assert "files_quarantined" in body and "This is a blocking asset check" in body
