"""Crash safety of `rsoko nightly` (issue 8, part 2) on the demo tier XS.

The night is run as a separate process, as cron runs it, and its whole process group (the
nightly, dbt, Dagster's log watchers) is SIGKILLed — a power cut or the OOM killer — at
three moments: while a raw landing step ingests files, while dbt builds the star, and while
the published version is being written. After each kill the published folder must be
what an analyst may safely open (nothing, or the previous complete version — never a
half-written one) and the warehouse must open with a consistent landing. The next
`rsoko nightly` must converge: raw landing, star and marts of the warehouse and the
published database checksum-identical to an uninterrupted night (`_nightly.reference_night`),
no debris (dbt `__dbt_tmp` relations, `.tmp-*` versions), no run left STARTED, no pool slot
held. A night is one run of the job `nightly`; a killed run is released (marked failed) by
the next `rsoko nightly`, which plans only what the killed night had not landed yet and
retries the rest of the night.

One deployment goes through the kills in order (the tests depend on each other's state):
cold night killed in ingestion → re-run killed in dbt → re-run to the end → quiet night →
a new file, that night killed while publishing → re-run to the end."""

from __future__ import annotations

import time

import pytest

from tests.integration import _nightly as n

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> n.Reference:
    return n.reference_night(tmp_path_factory)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return n.new_deployment(tmp_path_factory.mktemp("crash") / "data")


def _pub(data):
    return n.settings_for(data).published_dir


def _warehouse(data):
    return n.settings_for(data).warehouse_path


def _landing_is_whole_files(data) -> int:
    """Every landed row belongs to a registered, loaded file (or to a superseded one whose
    correction is not committed yet) and every loaded file has all its rows: a kill never
    leaves part of a file (or of a batch) in the landing."""
    con = n._connect(_warehouse(data))
    try:
        tables = [t for t in n.relations(con, "raw") if not t.startswith("_")]
        loaded = 0
        for table in tables:
            orphans = con.execute(
                f'SELECT count(*) FROM raw."{table}" WHERE _file_id NOT IN (SELECT file_id '
                "FROM raw._file_registry WHERE status = 'loaded' "
                "OR (status = 'superseded' AND released))").fetchone()[0]
            assert orphans == 0, (table, orphans)
        for source, file_id, rows, found in con.execute(
                "SELECT r.source, r.file_id, r.rows, (SELECT count(*) FROM duckdb_tables() "
                "WHERE schema_name = 'raw' AND table_name = r.source) FROM raw._file_registry r "
                "WHERE status = 'loaded'").fetchall():
            assert found, source
            n_rows = con.execute(f'SELECT count(*) FROM raw."{source}" WHERE _file_id = ?',
                                 [file_id]).fetchone()[0]
            assert n_rows == rows, (source, file_id, n_rows, rows)
            loaded += 1
        return loaded
    finally:
        con.close()


def _runs_settled(data) -> list[dict]:
    """No run may stay STARTED/STARTING once the night is over, and the warehouse pool
    holds no slot."""
    runs = n.dagster_runs(data)
    stuck = [r for r in runs if r["status"] in ("STARTED", "STARTING", "QUEUED", "NOT_STARTED")]
    assert not stuck, stuck
    assert n.free_pool_slots(data) == {"claimed": 0, "pending": 0}
    return runs


def test_kill_during_ingestion_leaves_whole_files_and_nothing_published(data):
    night = n.Nightly(data, "kill-ingest")
    try:
        night.wait_for_line(r" - raw__oge - oge/2024: \d+ new file")
        time.sleep(0.7)   # inside the step: the files are being parsed, validated, landed
        finished = night.seen(r"raw__oge - oge/2024: \d+/\d+ files")
        alive = night.kill()
    finally:
        night.close()
    assert not finished, "the OGE step ended before the kill: the test killed nothing"
    assert any("rsoko nightly" in cmd for _, cmd in alive)
    assert n.verify_publication(_pub(data)) is None        # a cold night: nothing yet
    assert n.leftovers(_pub(data)) == []
    assert _landing_is_whole_files(data) > 0               # schools and ЕГЭ 2024 landed
    # the night's one run, left STARTED by its killed process
    runs = n.dagster_runs(data)
    assert [(r["job"], r["status"], r["pid"]) for r in runs] == [
        ("nightly", "STARTED", night.pid)]


def _landed_sources(data) -> set[str]:
    con = n._connect(_warehouse(data))
    try:
        return {r[0] for r in con.execute(
            "SELECT DISTINCT source FROM raw._file_registry WHERE status = 'loaded'").fetchall()}
    finally:
        con.close()


def test_kill_during_dbt_leaves_a_consistent_warehouse(data):
    from rsoko_pipelines.settings import SOURCES

    # the sources the killed night had landed (schools, ЕГЭ, ... whichever steps ended
    # before the kill in OGE's): OGE itself is not among them
    landed = _landed_sources(data)
    assert "schools" in landed and "oge" not in landed, landed
    night = n.Nightly(data, "kill-dbt")
    try:
        # the killed night's run is released; the sources it had landed are not planned
        # again, the rest is (alphabetically), and the night is retried
        night.wait_for_line(r"Released run [0-9a-f-]{36}")
        plan = night.wait_for_line(r"Plan: ")
        assert plan.split("Plan: ", 1)[1].startswith(
            "new or changed files: " + ", ".join(
                f"{s} (2024, 2025)" for s in sorted(set(SOURCES) - landed))
            + "; the models or the reference data changed"), plan
        assert "; retry: the night " in plan and "(failure) did not complete" in plan, plan
        # kill while dbt rebuilds 2024 in the first incremental fact (delete + insert the
        # year), when staging, intermediate and dimensions of the year are already rebuilt
        night.wait_for_line(r"\d+ of \d+ START sql incremental model core\.fct_")
        alive = night.kill()
    finally:
        night.close()
    assert any("/dbt" in cmd and " build " in f" {cmd} " for _, cmd in alive), alive
    assert n.verify_publication(_pub(data)) is None
    assert n.leftovers(_pub(data)) == []
    _landing_is_whole_files(data)
    runs = n.dagster_runs(data)
    first = [r for r in runs if r["pid"] == night.pid]
    assert [(r["job"], r["status"]) for r in first] == [("nightly", "STARTED")]
    assert [r["status"] for r in runs if r not in first] == ["FAILURE"]   # the first kill


def test_rerun_after_the_kills_converges_to_the_uninterrupted_night(data, reference):
    night = n.run_night(data, "rerun")
    assert "Released run" in night.output
    runs = _runs_settled(data)
    assert [(r["job"], r["status"]) for r in runs] == [
        ("nightly", "SUCCESS"), ("nightly", "FAILURE"), ("nightly", "FAILURE")]
    assert runs[0]["tags"]["rsoko/complete"].startswith("published ")
    assert n.debris(_warehouse(data)) == []
    assert n.warehouse_differences(data, reference.data) == []
    version = n.verify_publication(_pub(data))
    assert version is not None
    assert n.published_differences(data, reference.data) == []
    assert n.leftovers(_pub(data)) == []
    _landing_is_whole_files(data)


def test_the_night_after_recovery_is_quiet(data):
    runs = len(n.dagster_runs(data))
    night = n.run_night(data, "quiet")
    assert "Nothing new in the inbox" in night.output
    assert len(n.dagster_runs(data)) == runs


def test_kill_during_publication_keeps_the_previous_version(data, reference):
    pub = _pub(data)
    before = n.verify_publication(pub)
    n.add_duplicate(data, "literacy", "2025")      # a new file, same bytes: no new rows
    night = n.Nightly(data, "kill-publish")
    try:
        night.wait_for(lambda: bool(n.leftovers(pub)), "a version being written",
                       poll=0.005)
        alive = night.kill()
    finally:
        night.close()
    assert any("rsoko nightly" in cmd for _, cmd in alive)
    tmp = n.leftovers(pub)
    assert tmp and tmp[0].startswith(".tmp-"), "killed after the version was complete"
    # analysts still see the previous complete version, through every stable path
    assert n.verify_publication(pub) == before
    assert n.published_differences(data, reference.data) == []


def test_rerun_after_the_publication_kill_publishes_and_cleans_up(data, reference):
    pub = _pub(data)
    before = n.verify_publication(pub)
    night = n.run_night(data, "rerun-publish")
    assert "Released run" in night.output
    # the killed night never reached its last step: it is retried, its new file is not
    # planned again (already landed)
    plan = next(line for line in night.output.splitlines() if line.startswith("Plan: "))
    assert plan.startswith("Plan: retry: the night "), plan
    assert "removed unfinished publication" in night.output
    assert n.leftovers(pub) == []
    version = n.verify_publication(pub)
    assert version != before
    assert n.published_differences(data, reference.data) == []
    assert n.warehouse_differences(data, reference.data) == []
    assert n.debris(_warehouse(data)) == []
    _runs_settled(data)
