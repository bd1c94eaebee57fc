"""Concurrency (issue 8 part 3, issue 6): analysts read the published marts while nightly
loads run, and two nightly loads overlap on the same deployment.

A clone of the uninterrupted reference deployment (so a version is already published)
receives a new functional-literacy file in each academic year (a copy under a new name:
same bytes, so no new rows and the result must equal the reference; the smallest source,
so the nights stay short). Four analyst processes read the
published marts in a loop — two through `published_database()` (the resolved path of the
current version), one through the stable `published/rsoko_marts.duckdb` path the README
gives analysts, one through `rsoko sql` — while a first `rsoko nightly` runs and, once its
first run has started, a second `rsoko nightly` starts on the same data folder.

Every query reads `marts._publication.version` and the row count of every mart in one
connection; they must match that version's manifest (one consistent version, never a mix),
no query may fail, a reader never goes back to an older version, and at least one reader
sees the switch to the new version. Both nights must succeed, the warehouse must equal the
reference (raw landing, star and marts), and nothing may stay claimed or in flight."""

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
        # the first night's first run is executing (Dagster's log lines carry the run id)
        first.wait_for_line(r"nightly_load - [0-9a-f-]{36} - ")
        second = n.Nightly(data, "second")
        second_started_while_first_ran = first.proc.poll() is None
        rc = (first.wait(), second.wait())
        time.sleep(3)    # every reader queries the final version at least once
        summaries = readers.stop()
    finally:
        readers.close()
        for night in (first, second):
            if night is not None:
                night.close()
    return dict(data=data, pub=pub, before=before, first=first, second=second, rc=rc,
                readers=summaries, overlapped=second_started_while_first_ran)


def test_both_overlapping_nights_succeed(overlap):
    assert overlap["overlapped"]
    first, second = overlap["first"], overlap["second"]
    assert overlap["rc"] == (0, 0), (first.tail(30), second.tail(30))
    runs = n.dagster_runs(overlap["data"])
    new = [r for r in runs if r["tags"].get("rsoko/pid") in (str(first.pid), str(second.pid))]
    assert new and all(r["status"] == "SUCCESS" for r in new), new
    assert {r["partition"] for r in new if r["job"] == "nightly_load"} == {"2024", "2025"}
    assert any(r["job"] == "publish_marts" for r in new)
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
