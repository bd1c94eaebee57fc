"""`rsoko sql`, `rsoko publish list|run` and `rsoko status` on a private deployment
(`rsoko_env`): real DuckDB files and a real Dagster instance, no mocks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys

import duckdb
import pytest
from typer.testing import CliRunner

from rsoko_pipelines.cli import app
from rsoko_pipelines.publish import versions as v
from rsoko_pipelines.publish.publisher import publish_marts
from rsoko_pipelines.settings import REPO_ROOT
from tests.integration.test_publish_core import T0, build_warehouse

runner = CliRunner()
RSOKO = REPO_ROOT / ".venv" / "bin" / "rsoko"


def rsoko(*args):
    return runner.invoke(app, list(args))


def one_clean_error(result, *needles, one_line=True):
    """Exit 1, no traceback, `error: …` on stderr (one line, except for `rsoko sql`, which
    shows DuckDB's whole message)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert err.startswith("error: "), err
    assert "\n" not in err or not one_line, err
    for needle in needles:
        assert needle in err
    return err


@pytest.fixture()
def deployed(rsoko_env):
    """A deployment whose warehouse has marts, published twice (two kept versions)."""
    build_warehouse(rsoko_env.warehouse_path)
    first = publish_marts(rsoko_env.warehouse_path, rsoko_env.published_dir, now=T0,
                          log=lambda m: None)
    con = duckdb.connect(str(rsoko_env.warehouse_path))
    con.execute("DELETE FROM marts.indicators WHERE academic_year = 2023")
    con.close()
    second = publish_marts(rsoko_env.warehouse_path, rsoko_env.published_dir,
                           now=T0 + dt.timedelta(days=1), log=lambda m: None)
    return rsoko_env, first["version"], second["version"]


def test_sql_before_anything_is_published(rsoko_env):
    one_clean_error(rsoko("sql", "SELECT 1"), "nothing published yet: run `rsoko nightly` first")
    one_clean_error(rsoko("publish", "list"), "nothing published yet")


def test_sql_formats(deployed):
    query = "SELECT academic_year, count(*) AS n, max(value) AS top FROM marts.indicators " \
            "GROUP BY ALL ORDER BY 1"
    table = rsoko("sql", query)
    assert table.exit_code == 0, table.output
    assert "academic_year" in table.stdout and "2 row(s)" in table.stdout
    assert "2023" not in table.stdout  # the current version, not the first one

    as_csv = rsoko("sql", query, "--format", "csv")
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["academic_year", "n", "top"], ["2024", "2", "6.0"], ["2025", "2", "7.5"]]

    as_json = rsoko("sql", "SELECT indicator_code, academic_year, meets_target, NULL AS x, "
                    "DATE '2025-06-01' AS d FROM marts.indicators ORDER BY value LIMIT 1",
                    "-f", "json")
    assert json.loads(as_json.stdout) == [{"indicator_code": "EGE_FAIL_PCT", "academic_year": 2024,
                                           "meets_target": False, "x": None, "d": "2025-06-01"}]


def test_sql_on_a_kept_version_and_comments(deployed):
    settings, first, second = deployed
    old = rsoko("sql", "SELECT count(*) AS n FROM marts.indicators", "--version", first,
                "-f", "csv")
    assert old.stdout.splitlines() == ["n", "6"]
    new = rsoko("sql", "SELECT version FROM marts._publication", "-f", "csv")
    assert new.stdout.splitlines() == ["version", second]
    comments = rsoko("sql", "SELECT comment FROM duckdb_columns() WHERE table_name = 'indicators' "
                     "AND column_name = 'value'", "-f", "json")
    assert json.loads(comments.stdout) == [{"comment": "Значение / value"}]
    one_clean_error(rsoko("sql", "SELECT 1", "--version", "19990101T000000Z"),
                    "no published version 19990101T000000Z", second, first)


def test_sql_errors_are_whole_and_nothing_can_be_written(deployed):
    settings, *_ = deployed
    # DuckDB's whole message: the hint and the caret under the error, not only line one
    assert one_clean_error(rsoko("sql", "SELEC 1"), one_line=False) == (
        'error: Parser Error: syntax error at or near "SELEC"\n\nLINE 1: SELEC 1\n        ^^^^^')
    assert one_clean_error(rsoko("sql", "SELECT * FROM indicatorz"), one_line=False) == (
        "error: Catalog Error: Table with name indicatorz does not exist!\n"
        'Did you mean "indicators"?\n\nLINE 1: SELECT * FROM indicatorz\n'
        "                      ^^^^^^^^^^")
    one_clean_error(rsoko("sql", "SELECT 1; SELECT nope FROM indicators"),
                    'Referenced column "nope" not found', "LINE 1: SELECT nope FROM", "^",
                    one_line=False)
    one_clean_error(rsoko("sql", "DROP TABLE marts.indicators"), "read-only", one_line=False)
    one_clean_error(rsoko("sql", f"ATTACH '{settings.warehouse_path}' AS wh"), "disabled",
                    one_line=False)
    one_clean_error(rsoko("sql", f"COPY marts.indicators TO '{settings.data_dir}/x.csv'"),
                    "disabled", one_line=False)
    one_clean_error(rsoko("sql", "SET enable_external_access = true"), "locked",
                    one_line=False)
    assert not (settings.data_dir / "x.csv").exists()
    ok = rsoko("sql", "SELECT count(*) AS n FROM marts.indicators", "-f", "csv")
    assert ok.stdout.splitlines() == ["n", "4"]


def test_sql_and_status_while_a_load_holds_the_warehouse(deployed):
    """The real entry point, while another process holds the warehouse's write lock."""
    settings, _, second = deployed
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('locked', flush=True); time.sleep(60)", str(settings.warehouse_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        env = dict(os.environ)
        out = subprocess.run([str(RSOKO), "sql", "SELECT version FROM marts._publication",
                              "--format", "csv"], env=env, capture_output=True, text=True,
                             timeout=60)
        assert (out.returncode, out.stdout.splitlines()) == (0, ["version", second]), out.stderr
        status = subprocess.run([str(RSOKO), "status", "--json"], env=env, capture_output=True,
                                text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["published"]["version"] == second
        failed = subprocess.run([str(RSOKO), "publish", "run"], env=env, capture_output=True,
                                text=True, timeout=60)
        assert failed.returncode == 1 and failed.stderr.startswith("error: ")
        assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    finally:
        holder.kill()
        holder.wait()
    assert v.current_version(settings.published_dir) == second


def test_publish_list_and_run(deployed, monkeypatch):
    settings, first, second = deployed
    listed = rsoko("publish", "list", "--json")
    assert [x["version"] for x in json.loads(listed.stdout)] == [second, first]
    table = rsoko("publish", "list")
    assert second in table.stdout and "current" in table.stdout
    monkeypatch.setenv("RSOKO_PUBLISH_KEEP", "1")
    ran = rsoko("publish", "run")
    assert ran.exit_code == 0, ran.output
    assert "pruned 2 old version(s)" in ran.stdout
    assert len(v.version_names(settings.published_dir)) == 1


# ----------------------------------------------------------------------------- status

def test_status_on_an_empty_deployment(rsoko_env):
    report = rsoko("status", "--json")
    assert report.exit_code == 0, report.output
    data = json.loads(report.stdout)
    assert data["dagster"]["available"] is False
    assert "no Dagster instance yet" in data["dagster"]["note"]
    assert data["quarantine"] == [] and data["published"] is None
    text = rsoko("status")
    assert text.exit_code == 0
    for line in ("no Dagster instance yet", "No quarantined files",
                 "Nothing published yet: run `rsoko nightly` first"):
        assert line in text.stdout
    assert not rsoko_env.warehouse_path.exists()  # status never creates the warehouse


def _run_tiny_jobs(settings):
    """A real Dagster history shaped like rsoko's: two runs of `nightly` (the second one's
    column check `test_score` of raw/ege fails and fails the run), and `publish_marts`, on
    the instance at DAGSTER_HOME."""
    import dagster as dg

    (settings.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    night = {"n": 0}

    @dg.asset(key=["raw", "ege"], check_specs=[dg.AssetCheckSpec("test_score", asset=dg.AssetKey(["raw", "ege"]))])
    def ege():
        night["n"] += 1
        bad = night["n"] == 2
        yield dg.MaterializeResult(check_results=[dg.AssetCheckResult(
            check_name="test_score", passed=not bad, severity=dg.AssetCheckSeverity.ERROR,
            description="1 file(s) quarantined: ege/2025/x.csv (2025): «Балл»: 0–100"
            if bad else "1 new file(s) passed")])
        if bad:
            raise dg.Failure("1 file(s) of ege quarantined; held back: ege 2025.")

    @dg.asset(key=["published_marts"])
    def published_marts():
        return None

    defs = dg.Definitions(
        assets=[ege, published_marts],
        jobs=[dg.define_asset_job("nightly", selection=[ege.key]),
              dg.define_asset_job("publish_marts", selection=[published_marts.key])])
    with dg.DagsterInstance.get() as instance:
        for _ in range(2):
            defs.resolve_job_def("nightly").execute_in_process(instance=instance,
                                                               raise_on_error=False)
        defs.resolve_job_def("publish_marts").execute_in_process(instance=instance)


def _quarantine_one(settings):
    """A quarantined file with its report, written by the real quarantine code."""
    from rsoko_pipelines.ingest.quarantine import Incoming, quarantine_file

    bad = settings.inbox_dir / "oge" / "2025" / "oge_02.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("not a sheet", encoding="utf-8")
    con = duckdb.connect(str(settings.data_dir / "scratch.duckdb"))
    try:
        from rsoko_pipelines.ingest.registry import ensure_registry

        ensure_registry(con)
        quarantine_file(con, settings,
                        Incoming(bad, "oge/2025/oge_02.csv", bad.stat(), "oge", 2025, "f" * 64),
                        problems=[{"check": "header", "message": "no title line",
                                   "hint": "export the sheet again"}])
    finally:
        con.close()


def test_status_on_a_published_deployment(deployed):
    settings, first, second = deployed
    _run_tiny_jobs(settings)
    _quarantine_one(settings)
    data = json.loads(rsoko("status", "--json").stdout)
    dagster = data["dagster"]
    assert dagster["available"] and dagster["note"] is None
    # one run per night, no partitions: neither the status nor its runs and checks name one
    assert "partitions" not in dagster
    assert not any("partition" in r for r in dagster["runs"] + dagster["failing_checks"])
    assert [(r["job"], r["status"]) for r in dagster["runs"]] == [
        ("publish_marts", "SUCCESS"), ("nightly", "FAILURE"), ("nightly", "SUCCESS")]
    assert all(r["start"] and r["end"] for r in dagster["runs"])
    # the latest evaluation of each check: the second night's failed column check
    assert [(c["asset"], c["check"], c["severity"], c["description"])
            for c in dagster["failing_checks"]] == [
        ("raw/ege", "test_score", "ERROR",
         "1 file(s) quarantined: ege/2025/x.csv (2025): «Балл»: 0–100")]
    [q] = data["quarantine"]
    assert (q["source"], q["academic_year"], q["file"], q["present"]) == (
        "oge", 2025, "oge/2025/oge_02.csv", True)
    assert "no title line" in q["summary"] and q["report"].endswith(".report.html")
    published = data["published"]
    assert published["version"] == second and published["kept_versions"] == [second, first]
    assert published["tables"] == {"indicators": 4, "region_indicators": 2, "school_context": 3}
    assert published["source_files"] == 3

    text = rsoko("status")
    assert text.exit_code == 0, text.output
    printed = " ".join(text.stdout.split())            # as printed, without the wrapping
    for needle in ("nightly", "FAILURE", "test_score", "1 file(s) quarantined:", "ege/2025/x.csv",
                   "1 file(s) in quarantine", "no title line", second):
        assert needle in printed, needle
