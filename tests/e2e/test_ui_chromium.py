"""The Dagster UI as an operator sees it, in headless Chromium (Debian's /usr/bin/chromium
driven by Playwright; no browser is downloaded), after real nights of `rsoko nightly` on tier
XS (issue 14): the `nightly` job's Runs tab lists the nights; a raw asset's failed column
check names the quarantined file and the rule; the failed night is re-executed "from
failure" once the file is fixed (the UI's own GraphQL mutation, `launchRunReexecution` with
strategy FROM_FAILURE) and the new run succeeds. Screenshots are kept as test artefacts under
$RSOKO_TEST_ARTIFACTS (default var/test/artifacts/, git-ignored).

The deployment is a clone of the session's reference night (tests/integration/_nightly.py:
`rsoko nightly` on tier XS in its own process), then a night with a broken ЕГЭ sheet
(`rsoko nightly` again: it fails, publishes the rest and holds ЕГЭ 2025 back). The webserver
and the daemon are started as scripts/ui.sh starts them: the local instance queues runs
launched from the UI and the daemon launches them. The inbox sensor is stopped first (as an
operator may), so that the fixed file is loaded by the re-execution and not by a night the
sensor would request meanwhile."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from rsoko_pipelines.settings import REPO_ROOT
from tests.e2e._dagster import LOCATION, REPOSITORY, Dagster, deployment_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = os.environ.get("RSOKO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("RSOKO_TEST_ARTIFACTS", REPO_ROOT / "var" / "test" / "artifacts"))
YEAR = 2025
VIEWPORT = {"width": 1600, "height": 1000}
UI_TIMEOUT_MS = 60_000
RUN_TIMEOUT = 1800          # the re-executed night: landing, release, models, marts, publish


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
def nights(tmp_path_factory):
    """The reference night's clone, then a night with a broken ЕГЭ sheet: its run failed
    (the column check `test_score` of raw/ege), the rest was published."""
    from tests.integration import _broken_files as bf
    from tests.integration import _nightly as n

    reference = n.reference_night(tmp_path_factory)
    root = tmp_path_factory.mktemp("e2e_ui")
    data = n.clone_deployment(reference.data, root / "data")
    inbox = n.settings_for(data).inbox_dir
    broken = bf.ege_score_out_of_range(inbox, YEAR, root / "made")
    shutil.copyfile(broken.path, inbox / "ege" / str(YEAR) / broken.path.name)
    n.run_night(data, "broken", expect=1)
    runs = n.dagster_runs(data)
    assert [(r["job"], r["status"]) for r in runs] == [("nightly", "FAILURE"),
                                                      ("nightly", "SUCCESS")], runs
    fixed = bf.ege_score_out_of_range(inbox, YEAR, root / "fixed", score=77)
    return dict(data=data, root=root, env=deployment_env(data), broken=broken, fixed=fixed,
                rel=f"ege/{YEAR}/{broken.path.name}", failed=runs[0]["run_id"],
                reference=runs[1]["run_id"], state={})


@pytest.fixture(scope="module")
def ui(nights):
    with Dagster(nights["env"], nights["root"] / "logs").start(daemon=True) as server:
        server.wait_loaded()
        _stop_inbox_sensor(server)
        yield server


def _stop_inbox_sensor(server) -> None:
    repo = server.graphql(SENSORS_QUERY, {"selector": SELECTOR})["repositoryOrError"]
    sensor = next(s for s in repo["sensors"] if s["name"] == "inbox_sensor")
    stopped = server.graphql(STOP_SENSOR, {"id": sensor["id"]})["stopSensor"]
    assert stopped["instigationState"]["status"] == "STOPPED", stopped


SELECTOR = {"repositoryName": REPOSITORY, "repositoryLocationName": LOCATION}
SENSORS_QUERY = """
query ($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository { sensors { id name sensorState { status } } }
  }
}"""
STOP_SENSOR = """
mutation ($id: String!) {
  stopSensor(id: $id) {
    __typename
    ... on StopSensorMutationResult { instigationState { status } }
    ... on PythonError { message }
  }
}"""
# what the run page's "Re-execute → From failure" sends
REEXECUTE = """
mutation ($parentRunId: String!) {
  launchRunReexecution(reexecutionParams: {parentRunId: $parentRunId, strategy: FROM_FAILURE}) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}"""
RUN_QUERY = """
query ($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId status parentRunId rootRunId jobName
      tags { key value }
      stepStats { stepKey status }
    }
  }
}"""


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


def _run(ui, run_id: str) -> dict:
    data = ui.graphql(RUN_QUERY, {"runId": run_id})["runOrError"]
    assert data["__typename"] == "Run", data
    return data


def test_the_nightly_runs_tab_lists_the_nights(page, ui, nights, artifacts, failure_shot):
    failure_shot(page)
    page.goto(ui.url + f"/locations/{LOCATION}/jobs/nightly/runs")
    _dismiss_community_dialog(page, ui)     # a fresh instance shows it on the first visit
    for run_id in (nights["failed"], nights["reference"]):
        page.get_by_text(run_id[:8]).first.wait_for()
    page.get_by_text("Failure").first.wait_for()
    page.get_by_text("Success").first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_nightly_runs")
    body = page.inner_text("body")
    assert "No runs found" not in body
    assert "manual" in body                                # the short trigger tag


def test_asset_lineage(page, ui, artifacts, failure_shot):
    failure_shot(page)
    started = time.monotonic()
    page.goto(ui.url + "/asset-groups")
    _dismiss_community_dialog(page, ui)
    page.get_by_text("Global asset lineage").first.wait_for()
    # the collapsed groups of the lineage, inbox → raw → … → published, are drawn
    for group in ("inbox", "raw", "staging", "intermediate", "core", "marts", "published"):
        page.get_by_text(group, exact=True).first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_asset_lineage")

    # one chain in detail: everything upstream of the ЕГЭ/ОГЭ/ВПР results mart, down to
    # the raw landing assets (long labels are shortened in the graph: fct_assess…_result)
    page.set_viewport_size({"width": 2400, "height": 1600})
    page.goto(ui.url + "/assets/marts/assessment_results?view=lineage"
                       "&lineageScope=upstream&lineageDepth=5")
    for label in ("assessment_results", "int_gia_results", "stg_ege", "file_registry",
                  "schools"):
        page.get_by_text(label, exact=True).first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_lineage_assessment_results")
    assert time.monotonic() - started < 120


def test_failed_column_check_names_the_file_and_the_rule(page, ui, nights, artifacts,
                                                         failure_shot):
    failure_shot(page)
    rel = nights["rel"]
    page.goto(ui.url + "/assets/raw/ege?view=checks")
    _dismiss_community_dialog(page, ui)
    for name in ("file_contract", "test_score", "gia_school_code"):
        page.get_by_text(name, exact=True).first.wait_for()
    page.goto(ui.url + "/assets/raw/ege?view=checks&checkDetail=test_score")
    page.get_by_text("Failed", exact=True).first.wait_for()
    page.get_by_text(rel).first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_failed_check_raw_ege_test_score")
    body = page.inner_text("body")
    assert "«Балл»: тестовый балл 0–100" in body                      # the rule
    assert f"1 file(s) quarantined: {rel} ({YEAR})" in body            # the file
    assert "ege.test_score.range" in body                             # the expectation
    assert "None" not in body.split("test_score", 1)[1][:2000]


def test_failed_run_page(page, ui, nights, artifacts, failure_shot):
    failure_shot(page)
    run = _run(ui, nights["failed"])
    assert run["status"] == "FAILURE" and run["jobName"] == "nightly"
    steps = {s["stepKey"]: s["status"] for s in run["stepStats"]}
    assert steps == {"raw__ege": "FAILURE", "raw__file_registry": "SUCCESS",
                     "rsoko_dbt_models": "SUCCESS", "rsoko_dbt_marts": "SUCCESS",
                     "published__marts": "SUCCESS"}
    page.goto(ui.url + f"/runs/{nights['failed']}")
    page.get_by_text("raw__ege").first.wait_for()
    page.get_by_text("Failure").first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_run_failed_night")
    assert "Re-execute" in page.inner_text("body")
    # the log is a virtual list that shows one screenful: the operator filters it to the
    # failure (the URL the log filter writes) to read why the step failed
    page.goto(ui.url + f"/runs/{nights['failed']}?logs=type:STEP_FAILURE")
    page.get_by_text("quarantined; held back").first.wait_for()
    _settle(page)
    _shot(page, artifacts, "ui_run_failed_night_failure_filter")
    body = page.inner_text("body")
    assert "1 file(s) of ege quarantined; held back: ege 2025" in body
    assert "ege.test_score.range: 1 row(s) break the rule" in body


def test_reexecute_from_failure_after_the_fix_succeeds(page, ui, nights, artifacts,
                                                       failure_shot):
    """The operator drops the corrected sheet and re-executes the failed night from
    failure: the daemon launches the new run, which loads the sheet, releases ЕГЭ 2025 and
    publishes."""
    failure_shot(page)
    inbox = Path(nights["env"]["RSOKO_DATA_DIR"]) / "inbox"
    shutil.copyfile(nights["fixed"].path, inbox / "ege" / str(YEAR) / "ege_corrected.csv")
    launched = ui.graphql(REEXECUTE, {"parentRunId": nights["failed"]})["launchRunReexecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        run = _run(ui, run_id)
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        assert time.monotonic() < deadline, run
        time.sleep(5)
    assert (run["status"], run["parentRunId"], run["rootRunId"]) == (
        "SUCCESS", nights["failed"], nights["failed"]), run
    steps = {s["stepKey"]: s["status"] for s in run["stepStats"]}
    # from failure: the failed landing step and every step after it, not the others
    assert steps == {"raw__ege": "SUCCESS", "raw__file_registry": "SUCCESS",
                     "rsoko_dbt_models": "SUCCESS", "rsoko_dbt_marts": "SUCCESS",
                     "published__marts": "SUCCESS"}, steps
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/parent_run_id"] == nights["failed"]
    assert tags["rsoko/complete"].startswith("published ")
    page.goto(ui.url + f"/runs/{run_id}")
    page.get_by_text("Success").first.wait_for()
    page.get_by_text("RUN_SUCCESS").first.wait_for()          # the event log has loaded
    page.get_by_text(nights["failed"][:8]).first.wait_for()    # its root, in Re-executions
    _settle(page)
    _shot(page, artifacts, "ui_run_reexecuted_from_failure")
    # the new publication: nothing held back any more
    from rsoko_pipelines.publish import current_manifest

    manifest = current_manifest(Path(nights["env"]["RSOKO_DATA_DIR"]) / "published")
    assert tags["rsoko/complete"] == f"published {manifest['version']}"
    assert not [r for r in manifest["data_status"] if r["is_held_back"]]
