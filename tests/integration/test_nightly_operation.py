"""Nightly operation on the demo tier XS, through the operators' entry points: the plan,
`rsoko nightly`, the inbox sensor and the 02:00 schedule, all against one real Dagster
instance, real DuckDB and real dbt. One night is one run of the job `nightly`.

The cold night is the session's reference night (tests/integration/_nightly.py: `rsoko
nightly` in its own process on tier XS); this module clones it and goes through the nights
after it in order (the tests depend on each other's state, so they run in file order on one
xdist worker): the cold night's record → a quiet night → a new ВПР file (a school's corrected
sheet) → a broken ЕГЭ file → the night after (quiet) → the corrected ЕГЭ file."""

from __future__ import annotations

import json
import shutil

import dagster as dg

from tests._project import mart_names
import duckdb
import pytest

from tests.conftest import generated_tier
from tests.integration import _broken_files as broken
from tests.integration import _nightly as n

pytestmark = pytest.mark.slow

LATEST = "2025"
ALL_STEPS = {"rsoko_dbt_reference", "raw__file_registry", "rsoko_dbt_models",
             "rsoko_dbt_marts", "published__marts"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> n.Reference:
    return n.reference_night(tmp_path_factory)


@pytest.fixture(scope="module")
def deployment(reference, tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    n.clone_deployment(reference.data, root / "data")
    mp = pytest.MonkeyPatch()
    settings = broken.use_deployment(mp, root / "data")
    yield settings
    mp.undo()


@pytest.fixture(scope="module")
def state() -> dict:
    """What one test leaves for the next (versions, run ids)."""
    return {}


def _instance():
    return dg.DagsterInstance.get()


def _runs(instance) -> list:
    return [r.dagster_run for r in instance.get_run_records()]


def _materializations(instance) -> int:
    return len(instance.get_event_records(dg.EventRecordsFilter(
        event_type=dg.DagsterEventType.ASSET_MATERIALIZATION)))


def _nightly() -> int:
    from rsoko_pipelines.night.command import run_nightly

    return run_nightly()


def _report(settings) -> dict:
    return json.loads((settings.reports_dir / "nightly" / "latest.json").read_text())


def _current(settings) -> dict:
    from rsoko_pipelines.publish import current_manifest

    return current_manifest(settings.published_dir)


def _defs():
    from rsoko_pipelines.definitions import defs

    return defs()


def _steps(instance, run_id) -> dict[str, str]:
    return {s.step_key: s.status.value for s in instance.get_run_step_stats(run_id)}


def _checks(instance, run_id) -> dict[tuple[str, str], object]:
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    return {(e.asset_key.to_user_string(), e.check_name): e for e in (
        r.event_log_entry.dagster_event.event_specific_data for r in records)}


def _evaluate_sensor(name: str, instance):
    definitions = _defs()
    sensor = definitions.resolve_sensor_def(name)
    context = dg.build_sensor_context(instance=instance,
                                      repository_def=definitions.get_repository_def())
    return sensor.evaluate_tick(context)


def _query(path, sql, params=None) -> list:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _published_db(settings):
    from rsoko_pipelines.publish import published_database

    return published_database(settings.published_dir)


def test_cold_night_is_one_run_of_the_code_location_that_publishes(deployment, reference):
    from rsoko_pipelines import inbox
    from rsoko_pipelines.orchestration.resources import project_fingerprint
    from rsoko_pipelines.publish import table_checksum
    from rsoko_pipelines.settings import SOURCES

    instance = _instance()
    [run] = _runs(instance)
    assert (run.run_id, run.job_name, run.status) == (
        reference.run_id, "nightly", dg.DagsterRunStatus.SUCCESS)
    # a real run of the code location `rsoko` (workspace.yaml): visible in the job's Runs
    # tab and re-executable from the UI
    origin = run.remote_job_origin
    assert origin is not None and origin.job_name == "nightly"
    assert origin.repository_origin.code_location_origin.location_name == "rsoko"
    # short tags: who started it, which plan, complete once published
    assert run.tags["rsoko/trigger"] == "manual" and len(run.tags["rsoko/plan"]) == 16
    assert run.tags["rsoko/complete"] == f"published {reference.version}"
    assert run.tags["rsoko/pid"].endswith(f":{run.run_id}")
    assert not [k for k in run.tags if "inbox" in k or "fingerprint" in k]
    steps = _steps(instance, run.run_id)
    assert set(steps) == ALL_STEPS | {f"raw__{s}" for s in SOURCES}
    assert set(steps.values()) == {"SUCCESS"}
    # every source, alphabetically, both years (the console wraps long lines)
    plan = "Plan: new or changed files: " + ", ".join(
        f"{s} (2024, 2025)" for s in sorted(SOURCES)) + "; "
    assert plan in reference.output.replace("\n", "")
    report = _report(deployment)
    assert report["runs"][0]["run_id"] == run.run_id and report["runs"][0]["success"]
    assert {s for s, v in report["stages"].items() if v > 0} == {
        "reference", "ingest", "validate", "release", "transform", "marts", "publish"}
    assert report["failed_checks"] == [] and report["held_back"] == []
    # every landing step recorded its folders, and the publication what it covers: the
    # planner's state for the next night
    for source in SOURCES:
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", source]))
        recorded = event.asset_materialization.metadata["inbox_fingerprint"].value
        assert recorded == inbox.source_fingerprints(deployment.inbox_dir, source), source
    published = instance.get_latest_materialization_event(dg.AssetKey(["published", "marts"]))
    night_state = published.asset_materialization.metadata["night_state"].value
    assert night_state["dbt_project"] == project_fingerprint()
    # the published copy equals the warehouse marts, table by table
    manifest = _current(deployment)
    assert manifest["version"] == reference.version
    warehouse = duckdb.connect(str(deployment.warehouse_path), read_only=True)
    published_con = duckdb.connect(str(_published_db(deployment)), read_only=True)
    try:
        tables = [t for (t,) in warehouse.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()]
        assert set(tables) == mart_names()
        for table in tables:
            assert (table_checksum(published_con, f"marts.{table}")
                    == table_checksum(warehouse, f"marts.{table}")), table
            assert manifest["tables"][table]["rows"] == warehouse.execute(
                f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
        status = published_con.execute(
            "SELECT source, academic_year, state, is_held_back, files_in_use "
            "FROM marts.data_status ORDER BY ALL").fetchall()
    finally:
        warehouse.close()
        published_con.close()
    generated = json.loads((generated_tier("XS") / "manifest.json").read_text())["files"]
    assert len(manifest["source_files"]) == len(generated)
    # every source × year current, none held back; ref_sources lists every source
    assert {(s, y) for s, y, *_ in status} == {(s, y) for s in SOURCES for y in (2024, 2025)}
    assert {(st, held) for _, _, st, held, _ in status} == {("актуальны", False)}
    assert manifest["data_status"] and not any(r["is_held_back"]
                                               for r in manifest["data_status"])


def test_quiet_night_materialises_nothing(deployment, state):
    instance = _instance()
    runs_before, events_before = len(_runs(instance)), _materializations(instance)
    version_before = _current(deployment)["version"]
    assert _nightly() == 0
    assert len(_runs(instance)) == runs_before
    assert _materializations(instance) == events_before
    report = _report(deployment)
    assert report["runs"] == [] and report["plan"] == "nothing new in the inbox"
    assert _current(deployment)["version"] == version_before
    # the daemon's view of the same night: nothing to request
    result = _evaluate_sensor("inbox_sensor", instance)
    assert result.run_requests == [] and result.skip_message == "nothing new in the inbox"
    definitions = _defs()
    schedule = definitions.resolve_schedule_def("nightly_schedule")
    with dg.build_schedule_context(instance=instance,
                                   repository_def=definitions.get_repository_def()) as context:
        data = schedule.evaluate_tick(context)
    assert data.run_requests == []
    assert data.skip_message == "nothing new in the inbox"
    state["version"] = version_before


def _slice_rows(warehouse) -> dict[str, tuple]:
    """Per build slice of core.fct_assessment_result: (rows, order-independent hash)."""
    return {s: (rows, h) for s, rows, h in _query(
        warehouse, "SELECT _slice, count(*), sum(hash(t)::HUGEINT) FROM "
                   "core.fct_assessment_result t GROUP BY ALL")}


def _school_vpr_sheet() -> dict:
    """A school's ВПР sheet of the latest year whose subject × grade other schools delivered
    too (its build slice holds other files), of median size (the generator's manifest)."""
    from collections import Counter

    manifest = json.loads((generated_tier("XS") / "manifest.json").read_text())
    latest = max(manifest["years"])
    vpr = [f for f in manifest["files"] if f["source"] == "vpr" and f["academic_year"] == latest]
    pairs = Counter((f["slice"]["subject_code"], f["slice"]["grade"]) for f in vpr)
    pool = sorted((f for f in vpr if f["slice"].get("layout") == "school"
                   and pairs[(f["slice"]["subject_code"], f["slice"]["grade"])] > 1),
                  key=lambda f: (f["rows"], f["path"]))
    return pool[len(pool) // 2]


def test_new_vpr_file_rebuilds_only_its_subject_and_grade(deployment, state):
    """A new ВПР file arrives: a school's corrected sheet (the class of its first work
    changed), under a new name. The sensor and `rsoko nightly` select the ВПР landing step
    and the steps after the landing, no other source, no reference data; the models rebuild
    that subject × grade of that year only (rows of other slices are not even rewritten: a
    mark put on them survives), the marts and the publication follow."""
    from rsoko_pipelines.ingest.release import build_slice_id

    instance = _instance()
    info = _school_vpr_sheet()
    original = deployment.inbox_dir / info["path"]
    rows = broken.read_sheet(original)
    col = rows[3].index("Класс")
    assert rows[4][col] and rows[4][col] != "9Ю"
    rows[4][col] = "9Ю"
    target = broken.write_sheet(original.with_name(original.stem + " исправленный.xlsx"), rows)
    rel = target.relative_to(deployment.inbox_dir).as_posix()
    result = _evaluate_sensor("inbox_sensor", instance)
    [request] = result.run_requests
    keys = {k.to_user_string() for k in request.asset_selection}
    assert {"raw/vpr", "raw/file_registry", "staging/stg_vpr", "core/fct_assessment_result",
            "marts/vpr_objectivity", "published/marts"} <= keys
    assert not keys & {"raw/ege", "raw/schools", "reference/ref_subjects"}
    assert not any(k.startswith(("raw/", "reference/")) and k not in (
        "raw/vpr", "raw/file_registry") for k in keys)
    assert request.tags["rsoko/trigger"] == "sensor"

    # the slice of the new file, and a mark on a row of it and of two other slices
    wh = deployment.warehouse_path
    subject = _query(wh, "SELECT DISTINCT subject_name FROM raw.vpr WHERE academic_year = 2025 "
                         "AND lower(subject_name) LIKE ?", [info["slice"]["subject"].lower()])
    mine = build_slice_id("vpr", 2025, {"subject_name": subject[0][0],
                                        "grade": info["slice"]["grade"]})
    before = _slice_rows(wh)
    assert mine in before
    others = sorted(s for s in before if s.startswith("vpr|") and s != mine)[:1] + ["ege|2025"]
    originals = {}
    con = duckdb.connect(str(wh))
    try:
        for s in [mine, *others]:
            result_id, class_name = con.execute(
                "SELECT result_id, class_name FROM core.fct_assessment_result WHERE _slice = ? "
                "ORDER BY result_id LIMIT 1", [s]).fetchone()
            originals[result_id] = class_name
            con.execute("UPDATE core.fct_assessment_result SET class_name = 'MARK' "
                        "WHERE result_id = ?", [result_id])
    finally:
        con.close()
    marked = _slice_rows(wh)

    runs_before = {r.run_id for r in _runs(instance)}
    assert _nightly() == 0
    [run] = [r for r in _runs(instance) if r.run_id not in runs_before]
    assert (run.job_name, run.status) == ("nightly", dg.DagsterRunStatus.SUCCESS)
    assert set(_steps(instance, run.run_id)) == {"raw__vpr", "raw__file_registry",
                                                 "rsoko_dbt_models", "rsoko_dbt_marts",
                                                 "published__marts"}
    registry = instance.get_latest_materialization_event(dg.AssetKey(["raw", "file_registry"]))
    metadata = registry.asset_materialization.metadata
    assert metadata["build_scope"].value == 1
    assert metadata["release"].value == "released: vpr 2025"
    after = _slice_rows(wh)
    assert after[mine][0] == before[mine][0]                      # the same works, corrected
    for s in others:                                              # not rebuilt: mark kept
        assert after[s] == marked[s] != before[s], s
    assert _query(wh, "SELECT count(*) FROM core.fct_assessment_result WHERE _slice = ? "
                      "AND class_name = 'MARK'", [mine]) == [(0,)]   # rebuilt
    assert {s: v for s, v in after.items() if s not in [mine, *others]} == {
        s: v for s, v in before.items() if s not in [mine, *others]}
    con = duckdb.connect(str(wh))                 # the marks go again
    try:
        for result_id, class_name in originals.items():
            con.execute("UPDATE core.fct_assessment_result SET class_name = ? "
                        "WHERE result_id = ? AND class_name = 'MARK'", [class_name, result_id])
    finally:
        con.close()
    assert _slice_rows(wh) == after | {s: before[s] for s in others}
    assert _current(deployment)["version"] != state["version"]
    assert _current(deployment)["data_status"] and not any(
        r["is_held_back"] for r in _current(deployment)["data_status"])
    registered = _query(wh, "SELECT status, released, released_at IS NOT NULL, build_slice "
                            "FROM raw._file_registry WHERE inbox_path IN (?, ?) ORDER BY "
                            "first_seen_at", [info["path"], rel])
    assert registered == [("superseded", False, True, mine), ("loaded", True, True, mine)]
    # the models read the corrected sheet: its first work (sheet row 5) in its new class
    assert _query(wh, "SELECT f.class_name FROM core.fct_assessment_result f JOIN "
                      "raw._file_registry r ON r.file_id = f._file_id WHERE r.inbox_path = ? "
                      "AND f._source_line = 5", [rel]) == [("9Ю",)]
    assert _query(wh, "SELECT count(*) FROM raw.vpr v JOIN raw._file_registry r ON "
                      "r.file_id = v._file_id WHERE r.inbox_path = ?", [info["path"]]) == [(0,)]
    state["marked"] = others


def test_broken_ege_file_fails_the_night_but_publishes_the_rest(deployment, state, tmp_path,
                                                                capsys):
    """A broken ЕГЭ sheet: its column check fails with its file and rule, then the ЕГЭ
    landing step; the rest of the night runs and publishes; ЕГЭ 2025 keeps its last good
    data and `data_status`, the manifest, the summary and the night report say so."""
    instance = _instance()
    case = broken.ege_score_out_of_range(deployment.inbox_dir, int(LATEST), tmp_path)
    target = deployment.inbox_dir / "ege" / LATEST / case.path.name
    shutil.copy(case.path, target)
    before = _current(deployment)
    ege_before = _query(_published_db(deployment),
                        "SELECT count(*), sum(hash(t)::HUGEINT) FROM marts.assessment_results t "
                        "WHERE procedure = 'EGE' AND academic_year = 2025")
    runs_before = {r.run_id for r in _runs(instance)}
    capsys.readouterr()

    assert _nightly() == 1
    out = " ".join(capsys.readouterr().out.split())      # as printed, without rich's wrapping
    [run] = [r for r in _runs(instance) if r.run_id not in runs_before]
    assert (run.job_name, run.status) == ("nightly", dg.DagsterRunStatus.FAILURE)
    assert run.tags["rsoko/complete"].startswith("published ")      # the night published
    steps = _steps(instance, run.run_id)
    assert steps == {"raw__ege": "FAILURE", "raw__file_registry": "SUCCESS",
                     "rsoko_dbt_models": "SUCCESS", "rsoko_dbt_marts": "SUCCESS",
                     "published__marts": "SUCCESS"}
    failing = {k: e for k, e in _checks(instance, run.run_id).items() if not e.passed}
    assert set(failing) == {("raw/ege", "test_score"), ("raw/file_registry", "nothing_held_back")}
    check = failing[("raw/ege", "test_score")]
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description.startswith(f"1 file(s) quarantined: ege/{LATEST}/{case.path.name}")
    assert f"| {case.rows[0]} |" in check.metadata["findings"].value
    # a new version is published, with ЕГЭ 2025 held back at its last good data
    manifest = _current(deployment)
    assert manifest["version"] != before["version"]
    held = [r for r in manifest["data_status"] if r["is_held_back"]]
    assert [(r["source"], r["academic_year"]) for r in held] == [("ege", 2025)]
    assert case.path.name in held[0]["held_back_reason"]
    assert held[0]["state"] == "задержаны новые данные: используются последние проверенные"
    published = _query(_published_db(deployment),
                       "SELECT source, academic_year, held_back_reason, held_since IS NOT NULL, "
                       "files_quarantined FROM marts.data_status WHERE is_held_back")
    assert published == [("ege", 2025, held[0]["held_back_reason"], True, 1)]
    assert _query(_published_db(deployment),
                  "SELECT count(*), sum(hash(t)::HUGEINT) FROM marts.assessment_results t "
                  "WHERE procedure = 'EGE' AND academic_year = 2025") == ege_before
    # the operator is told: the summary, the night report
    assert f"Held back: ege 2025 — файл в карантине / file quarantined: {case.path.name}" in out
    assert "raw/ege › test_score: 1 file(s) quarantined" in out
    report = _report(deployment)
    assert [(h["source"], h["academic_year"]) for h in report["held_back"]] == [("ege", 2025)]
    assert {(c["asset"], c["check"]) for c in report["failed_checks"]} == set(failing)
    # the file left the inbox for the quarantine, with its report
    assert not target.exists()
    assert list((deployment.quarantine_dir / "ege" / LATEST).glob(case.path.name))
    assert list((deployment.quarantine_dir / "ege" / LATEST).glob(f"{case.path.name}.report.html"))
    state["broken_run"] = run.run_id


def test_night_after_the_failure_is_quiet_then_the_corrected_file_loads(deployment, state,
                                                                        tmp_path):
    """The quarantined file left the inbox and the failed night published: nothing to do,
    no retry. The corrected sheet of the same slice then resolves the quarantine: ЕГЭ 2025
    is released again and nothing is held back."""
    instance = _instance()
    version_before = _current(deployment)["version"]
    runs_before = {r.run_id for r in _runs(instance)}
    assert _nightly() == 0
    assert {r.run_id for r in _runs(instance)} == runs_before
    assert _current(deployment)["version"] == version_before

    fixed = broken.ege_score_out_of_range(deployment.inbox_dir, int(LATEST), tmp_path, score=77)
    shutil.copy(fixed.path, deployment.inbox_dir / "ege" / LATEST / "ege_corrected.csv")
    assert _nightly() == 0
    [run] = [r for r in _runs(instance) if r.run_id not in runs_before]
    assert (run.job_name, run.status) == ("nightly", dg.DagsterRunStatus.SUCCESS)
    assert set(_steps(instance, run.run_id)) == {"raw__ege", "raw__file_registry",
                                                 "rsoko_dbt_models", "rsoko_dbt_marts",
                                                 "published__marts"}
    # the corrected sheet loads; a rule of severity `warning` may still flag it (77 is not
    # the scale's test score for the row's primary score): a warning, named with the file
    failing = {k: e for k, e in _checks(instance, run.run_id).items() if not e.passed}
    assert all(e.severity == dg.AssetCheckSeverity.WARN and k[0] == "raw/ege"
               and "finding(s), files loaded" in e.description
               for k, e in failing.items()), {k: e.description for k, e in failing.items()}
    assert _checks(instance, run.run_id)[("raw/file_registry", "nothing_held_back")].passed
    manifest = _current(deployment)
    assert manifest["version"] != version_before
    assert not any(r["is_held_back"] for r in manifest["data_status"])
    wh = deployment.warehouse_path
    assert _query(wh, "SELECT status, released FROM raw._file_registry WHERE file_name = "
                      "'ege_corrected.csv'") == [("loaded", True)]
    assert _query(wh, "SELECT resolution FROM raw._file_registry WHERE status = 'quarantined'"
                  ) == [("исправленный файл / corrected file: ege_corrected.csv",)]
    # the corrected score is what the models read now; the original sheet is superseded
    corrected = _query(wh, "SELECT f.test_score FROM core.fct_assessment_result f JOIN "
                           "raw._file_registry r ON f._file_id = r.file_id "
                           "WHERE r.file_name = 'ege_corrected.csv' AND f._source_line = ?",
                       [fixed.rows[0]])
    assert corrected == [(77,)]
    assert _query(wh, "SELECT count(*) FROM raw._file_registry WHERE status = 'superseded' "
                      "AND superseded_by = (SELECT file_id FROM raw._file_registry WHERE "
                      "file_name = 'ege_corrected.csv') AND NOT released") == [(1,)]
