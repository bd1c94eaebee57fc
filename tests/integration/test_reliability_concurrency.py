"""Concurrency (issue 8 part 3, issue 6): analysts read the published marts while nightly
loads run, and a second `rsoko nightly` starts while the first night runs on the same
deployment.

A clone of the uninterrupted reference deployment (so a version is already published)
receives a new functional-literacy file in each academic year (a copy under a new name:
same bytes, so no new rows and the result must equal the reference; the smallest source,
so the nights stay short). Four analyst processes read the
published marts in a loop — two through `published_database()` (the resolved path of the
current version), one through the stable `published/rsoko_marts.duckdb` path the README
gives analysts, one through `rsoko sql` — while a first `rsoko nightly` runs and, once its
run has started, a second `rsoko nightly` starts on the same data folder: it sees the night
in flight and leaves it to finish (one night, one run, one writer), without touching the
warehouse.

Every query reads `marts._publication.version` and the row count of every mart in one
connection; they must match that version's manifest (one consistent version, never a mix),
no query may fail, a reader never goes back to an older version, and at least one reader
sees the switch to the new version. Both commands must succeed, the warehouse must equal
the reference (raw landing, star and marts), and nothing may stay claimed or in flight."""

from __future__ import annotations

import time

import pytest

from tests.integration import _nightly as n

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> n.Reference:
    return n.reference_night(tmp_path_factory)


@pytest.fixture(scope="module")
def overlap(reference, tmp_path_factory):
    work = tmp_path_factory.mktemp("concurrency")
    data = n.clone_deployment(reference.data, work / "data")
    pub = n.settings_for(data).published_dir
    before = n.verify_publication(pub)
    for year in ("2024", "2025"):
        n.add_duplicate(data, "literacy", year)
    readers = n.Readers(data, work)
    first = second = None
    try:
        first = n.Nightly(data, "first")
        # the first night's run is executing (Dagster's log lines carry the run id)
        first.wait_for_line(r" - nightly - [0-9a-f-]{36} - ")
        second = n.Nightly(data, "second")
        second_started_while_first_ran = first.proc.poll() is None
        second_rc = second.wait()
        second_ended_while_first_ran = first.proc.poll() is None
        rc = (first.wait(), second_rc)
        time.sleep(3)    # every reader queries the final version at least once
        summaries = readers.stop()
    finally:
        readers.close()
        for night in (first, second):
            if night is not None:
                night.close()
    return dict(data=data, pub=pub, before=before, first=first, second=second, rc=rc,
                readers=summaries, overlapped=second_started_while_first_ran,
                deferred=second_ended_while_first_ran)


def test_the_second_night_leaves_the_running_one_to_finish(overlap):
    assert overlap["overlapped"] and overlap["deferred"]
    first, second = overlap["first"], overlap["second"]
    assert overlap["rc"] == (0, 0), (first.tail(30), second.tail(30))
    running = [r for r in n.dagster_runs(overlap["data"]) if r["pid"] == first.pid]
    assert second.seen(r"^Plan: a night is already running \(" + running[0]["run_id"][:8] + r"\)")
    assert second.seen("That night is left to finish")
    assert not second.seen(r" - nightly - [0-9a-f-]{36} - ")      # it ran no step
    runs = n.dagster_runs(overlap["data"])
    new = [r for r in runs if r["pid"] in (first.pid, second.pid)]
    assert [(r["job"], r["status"], r["pid"]) for r in new] == [
        ("nightly", "SUCCESS", first.pid)]
    # the new literacy files: the literacy landing step and everything after it
    assert set(n.run_steps(overlap["data"], new[0]["run_id"])) == {
        "raw__literacy", "raw__file_registry", "rsoko_dbt_models", "rsoko_dbt_marts",
        "published__marts"}
    assert not [r for r in runs if r["status"] in ("STARTED", "STARTING", "QUEUED")]
    assert n.free_pool_slots(overlap["data"]) == {"claimed": 0, "pending": 0}


def test_overlapping_nights_leave_the_warehouse_equal_to_the_reference(overlap, reference):
    data = overlap["data"]
    assert n.warehouse_differences(data, reference.data) == []
    assert n.debris(n.settings_for(data).warehouse_path) == []
    con = n._connect(n.settings_for(data).warehouse_path)
    try:
        twice = con.execute("SELECT file_id, count(*) FROM raw._file_registry "
                            "WHERE status = 'loaded' GROUP BY ALL HAVING count(*) > 1").fetchall()
    finally:
        con.close()
    assert twice == []


def test_the_new_publication_equals_the_reference(overlap, reference):
    version = n.verify_publication(overlap["pub"])
    assert version != overlap["before"]
    assert n.published_differences(overlap["data"], reference.data) == []
    assert n.leftovers(overlap["pub"]) == []


def test_readers_saw_no_error_and_one_consistent_version_per_query(overlap):
    summaries = overlap["readers"]
    report = [(s["mode"], s["queries"], s["versions"]) for s in summaries]
    print("\nreaders (mode, queries, versions seen):", *report, sep="\n  ")
    for s in summaries:
        assert s["errors"] == [], (s["mode"], s["errors"][:3])
        assert s["inconsistent"] == [], (s["mode"], s["inconsistent"][:3])
        assert s["backwards"] == [], (s["mode"], s["backwards"])
        assert s["queries"] >= (5 if s["mode"] == "cli" else 50), (s["mode"], s["queries"])
        assert s["versions"][0] == overlap["before"], s
    final = n.verify_publication(overlap["pub"])
    switched = [s for s in summaries if len(s["versions"]) > 1]
    assert switched, report                       # somebody saw the publication happen
    assert all(s["versions"][-1] == final for s in summaries if s["mode"] != "cli"), report
