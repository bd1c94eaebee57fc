"""Real regions (issue 13): every source optional, one bad source never holds back the rest,
failures explained.

All on tier XS, starting from the session's reference night (`_nightly.reference_night`,
built once and cloned):
- each source removed in turn: the release, the models, the marts and the publication run as
  one real Dagster run of the night's steps; every mart that does not read the removed source
  is identical to the full night's, and so are the rows of the other procedures and the
  indicators that do not need it; data_status says `не загружен`;
- a broken ЕГЭ file next to a corrected literacy file: the night fails, yet publishes the
  literacy correction; ЕГЭ 2025 keeps its last good data; data_status, the manifest and
  `rsoko status` name the held-back slice and why;
- a dbt test made to fail: the operator gets the model, the rule, the count and sample rows
  with their file and line, in the check's metadata and in `rsoko status`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from rsoko_pipelines.settings import SOURCES
from tests.integration import _nightly as n

PROCEDURE_SOURCE = {"EGE": "ege", "OGE": "oge", "GVE9": "oge", "VPR": "vpr", "RPR": "rpr"}
pytestmark = pytest.mark.slow


def _published(data: Path) -> Path:
    from rsoko_pipelines.publish.versions import published_database

    return published_database(n.settings_for(data).published_dir)


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return sorted(con.execute(sql).fetchall(), key=repr)
    finally:
        con.close()


def _mart_sources() -> dict[str, set[str]]:
    """{mart: the raw sources it reads} from the dbt manifest (its whole lineage)."""
    from rsoko_pipelines.orchestration.resources import dbt_project
    from rsoko_pipelines.quality.dbt_failures import upstream_sources

    manifest = json.loads(Path(dbt_project().manifest_path).read_text(encoding="utf-8"))
    return {node["name"]: upstream_sources(uid, manifest)
            for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model" and node.get("schema") == "marts"}


def _remove_source(data: Path, source: str) -> None:
    """As if the region never delivered this source: its files leave the inbox, its rows the
    landing and the registry; its slices go into the build scope (the night rebuilds them)."""
    from rsoko_pipelines.ingest import release
    from rsoko_pipelines.ingest.tables import landing_tables_of

    settings = n.settings_for(data)
    shutil.rmtree(settings.inbox_dir / source, ignore_errors=True)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        slices = [r[0] for r in con.execute(
            "SELECT DISTINCT build_slice FROM raw._file_registry WHERE source = ?",
            [source]).fetchall()]
        if source == "schools":
            slices = [release.ALL_SLICES]
        for table in landing_tables_of(con, source):
            con.execute(f"DROP TABLE raw.{table}")   # never created in such a region
        con.execute("DELETE FROM raw._file_registry WHERE source = ?", [source])
        con.execute("DELETE FROM raw._slice_status WHERE source = ?", [source])
        release.add_to_scope(con, slices, f"test: {source} removed")
    finally:
        con.close()


def _run_after_landing(data: Path):
    """One real run of the night's steps after the landing (release → publish)."""
    import dagster as dg

    from rsoko_pipelines.night.launch import run_job
    from rsoko_pipelines.orchestration.jobs import AFTER_LANDING

    env = n.env_for(data)
    # the run reads its deployment from the environment (as a run worker does): this
    # process must not keep another deployment's paths (dbt's RSOKO_WAREHOUSE included)
    keys = set(env) | set(n.RSOKO_VARS) | {"RSOKO_WAREHOUSE"}
    saved = {k: os.environ.get(k) for k in keys}
    for k in keys - set(env):
        os.environ.pop(k, None)
    os.environ.update(env)
    try:
        with dg.DagsterInstance.get() as instance:
            run = run_job(instance, "nightly", AFTER_LANDING, {"rsoko/trigger": "test"})
            return run.status
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return n.reference_night(tmp_path_factory)


# the second half runs from test_real_regions_removed.py: another file, so another xdist
# worker (--dist loadfile) takes it
FIRST_HALF = SOURCES[:len(SOURCES) // 2]


@pytest.mark.parametrize("source", FIRST_HALF)
def test_each_source_removed_in_turn(reference, tmp_path, source):
    check_source_removed(reference, tmp_path, source)


def check_source_removed(reference, tmp_path, source):
    """Remove the source from a copy of the reference night and run the night's steps after
    the landing: it publishes, and what does not read the source is unchanged."""
    import dagster as dg

    data = n.clone_deployment(reference.data, tmp_path / "data")
    _remove_source(data, source)
    assert _run_after_landing(data) == dg.DagsterRunStatus.SUCCESS
    full, without = _published(reference.data), _published(data)

    # data_status: the source is not loaded in any year
    states = _rows(without, f"SELECT DISTINCT state, is_loaded FROM marts.data_status "
                            f"WHERE source = '{source}'")
    assert states == [("не загружен", False)]

    # every mart that does not read the source is identical
    depends = _mart_sources()
    independent = [m for m, srcs in depends.items() if source not in srcs]
    for mart in independent:
        if mart == "data_status":
            continue
        assert _rows(full, f"SELECT * FROM marts.{mart}") == \
            _rows(without, f"SELECT * FROM marts.{mart}"), mart
    if source != "schools":
        # results of the other procedures are unchanged
        others = [p for p, s in PROCEDURE_SOURCE.items() if s != source]
        listed = ", ".join(f"'{p}'" for p in others)
        for mart in ("assessment_results", "task_mastery"):
            sql = f"SELECT * FROM marts.{mart} WHERE procedure IN ({listed})"
            assert _rows(full, sql) == _rows(without, sql), mart
        own = [p for p, s in PROCEDURE_SOURCE.items() if s == source]
        if own:
            listed = ", ".join(f"'{p}'" for p in own)
            assert not _rows(without, "SELECT 1 FROM marts.assessment_results "
                                      f"WHERE procedure IN ({listed})")
    # indicators that do not need the source are unchanged; those that need it are NULL
    # with the reason, never a zero
    needs = _needs(source)
    lineage = _indicator_sources()
    free = [c for c in _catalogue() if source not in _all_sources(c) | lineage[c]]
    if free and source != "schools":
        listed = ", ".join(f"'{c}'" for c in free)
        sql = f"SELECT * FROM marts.indicators WHERE indicator_code IN ({listed})"
        assert _rows(full, sql) == _rows(without, sql)
    for code in needs:
        rows = _rows(without, f"SELECT value, missing_reason FROM marts.indicators "
                              f"WHERE indicator_code = '{code}' AND level = 'region'")
        assert rows and all(v is None and source in (r or "") for v, r in rows), (code, rows)


# the conformed dimensions every part reads for its schools and years (the years present in
# any source): which schools and years exist is the same with or without one source on the
# XS night (every source covers every year there); only the registry of schools is followed
# through them
CONFORMED = {"dim_school", "dim_academic_year", "int_registry_year"}


def _indicator_sources() -> dict[str, set[str]]:
    """{indicator code: the raw sources its part model reads} from the dbt manifest lineage:
    each code is computed in one ephemeral part `indicators__*`, the one whose SQL names the
    code. Wider than the catalogue's `sources` (what a code *needs*): e.g.
    RECOMMENDATIONS_ACTED_PCT reads marts.recommendations, which reads many marts."""
    from rsoko_pipelines.extract.schemas import table_spec
    from rsoko_pipelines.orchestration.resources import dbt_project

    manifest = json.loads(Path(dbt_project().manifest_path).read_text(encoding="utf-8"))
    nodes, sources = manifest["nodes"], manifest["sources"]

    def upstream(uid: str) -> set[str]:
        seen, todo, found = set(), [uid], set()
        while todo:
            u = todo.pop()
            if u in seen:
                continue
            seen.add(u)
            if u in sources:
                table = sources[u]["name"]
                if not table.startswith("_"):
                    try:
                        found.add(table_spec(table).source)
                    except KeyError:
                        found.add(table)
                continue
            deps = nodes.get(u, {}).get("depends_on", {}).get("nodes", [])
            if nodes.get(u, {}).get("name") in CONFORMED:
                deps = [d for d in deps if d.split(".")[-1] == "stg_schools"]
            todo.extend(deps)
        return found

    parts = {uid: node for uid, node in nodes.items()
             if node["resource_type"] == "model" and node["name"].startswith("indicators__")}
    assert parts
    lineage = {}
    for code in _catalogue():
        owners = [uid for uid, node in parts.items() if f"'{code}'" in node["raw_code"]]
        assert len(owners) == 1, (code, owners)   # computed in exactly one part
        lineage[code] = upstream(owners[0])
    return lineage


def _catalogue() -> dict[str, str]:
    from rsoko_pipelines import reference as ref

    cat = ref.load("indicator_catalogue")
    return dict(zip(cat.indicator_code, cat["sources"]))


def _needs(source: str) -> list[str]:
    """Indicators that cannot be computed without the source (a requirement that only it
    fulfils)."""
    return [code for code, sources in _catalogue().items()
            if any(token == source for token in sources.split())]


def _all_sources(code: str) -> set[str]:
    return {s for token in _catalogue()[code].split() for s in token.split("|")}


# --------------------------------------------------------------------------- isolation
def _corrected_literacy(src: Path, dst: Path, rows: int = 40) -> None:
    """A corrected literacy file: the scores of the first `rows` participants raised by 0.5
    (never across a level boundary: the levels are far apart)."""
    text = src.read_text(encoding="utf-8-sig" if src.read_bytes()[:3] == b"\xef\xbb\xbf"
                         else "utf-8")
    reader = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = reader[0], reader[1:]
    score = header.index("Балл")
    for row in body[:rows]:
        value = float(row[score].replace(",", "."))
        row[score] = f"{value + 0.5:.1f}".replace(".", ",") if "," in row[score] else \
            f"{value + 0.5:.1f}"
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([header, *body])
    dst.write_text(out.getvalue(), encoding="utf-8")


def test_a_broken_file_holds_back_only_its_source_and_year(reference, tmp_path):
    from tests.integration._broken_files import ege_score_out_of_range

    data = n.clone_deployment(reference.data, tmp_path / "data")
    settings = n.settings_for(data)
    broken = ege_score_out_of_range(settings.inbox_dir, 2025, tmp_path / "broken")
    shutil.copy(broken.path, settings.inbox_dir / "ege" / "2025" / "ЕГЭ 2025 новая.csv")
    literacy = sorted((settings.inbox_dir / "literacy" / "2025").iterdir())[0]
    corrected = tmp_path / "literacy_corrected.csv"
    _corrected_literacy(literacy, corrected)
    shutil.copy(corrected, settings.inbox_dir / "literacy" / "2025" / "исправленный.csv")

    night = n.run_night(data, "broken", expect=1)   # failed, yet published
    assert "Held back: ege 2025" in night.output
    full, now = _published(reference.data), _published(data)
    # the literacy correction is published
    sql = ("SELECT mean_score FROM marts.literacy_results WHERE level = 'region' "
           "AND academic_year = 2025 ORDER BY domain")
    assert _rows(full, sql) != _rows(now, sql)
    # ЕГЭ 2025 keeps its last good data; ЕГЭ 2024 is untouched
    sql = "SELECT * FROM marts.assessment_results WHERE procedure = 'EGE'"
    assert _rows(full, sql) == _rows(now, sql)
    # data_status, the manifest and `rsoko status` say what is held back and why
    held = _rows(now, "SELECT source, academic_year, state, held_back_reason "
                      "FROM marts.data_status WHERE is_held_back")
    assert len(held) == 1 and held[0][:2] == ("ege", 2025)
    assert "используются последние проверенные" in held[0][2]
    assert "ЕГЭ 2025 новая.csv" in held[0][3] or broken.path.name in held[0][3]
    from rsoko_pipelines.publish.versions import current_manifest

    manifest = current_manifest(settings.published_dir)
    in_manifest = [r for r in manifest["data_status"] if r["is_held_back"]]
    assert [(r["source"], r["academic_year"]) for r in in_manifest] == [("ege", 2025)]
    status = subprocess.run([n.RSOKO, "status", "--json"], env=n.env_for(data),
                            capture_output=True, text=True, check=True)
    report = json.loads(status.stdout)
    rows = [r for r in report["published"]["data_status"] if r["is_held_back"]]
    assert [(r["source"], r["academic_year"]) for r in rows] == [("ege", 2025)]
    failing = {(c["asset"], c["check"]) for c in report["dagster"]["failing_checks"]}
    assert ("raw/ege", "test_score") in failing
    assert all(c["description"] and c["description"] != "None"
               for c in report["dagster"]["failing_checks"])


# --------------------------------------------------------------------------- explained
def test_a_failing_dbt_test_is_explained_with_model_rule_count_and_rows(reference, tmp_path):
    """A duplicate literacy row slipped into the landing (as if a parser had let it through):
    the grain test of core.fct_literacy_result fails; the night holds back literacy 2025 and
    says which model, which rule, how many rows, which file and line."""
    import dagster as dg

    data = n.clone_deployment(reference.data, tmp_path / "data")
    settings = n.settings_for(data)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        file_id, _year = con.execute(
            "SELECT file_id, academic_year FROM raw._file_registry WHERE source = 'literacy' "
            "AND academic_year = 2025").fetchone()
        # a new version of the file: the same rows plus one repeated participant × domain
        new_id = "f" * 64
        con.execute("CREATE TEMP TABLE dup AS SELECT * FROM raw.literacy WHERE _file_id = ?",
                    [file_id])
        con.execute("UPDATE dup SET _file_id = ?", [new_id])
        con.execute("INSERT INTO dup SELECT * REPLACE (_source_line + 100000 AS _source_line) "
                    "FROM (SELECT * FROM dup LIMIT 1)")
        con.execute("INSERT INTO raw.literacy SELECT * FROM dup")
        con.execute("INSERT INTO raw._file_registry SELECT * REPLACE (? AS file_id, "
                    "'literacy/2025/с дублем.csv' AS inbox_path, 'с дублем.csv' AS file_name, "
                    "false AS released, NULL AS released_at) FROM raw._file_registry "
                    "WHERE file_id = ?", [new_id, file_id])
        con.execute("UPDATE raw._file_registry SET status = 'superseded', superseded_by = ? "
                    "WHERE file_id = ?", [new_id, file_id])
    finally:
        con.close()
    assert _run_after_landing(data) == dg.DagsterRunStatus.FAILURE
    held = _rows(_published(data), "SELECT source, academic_year, held_back_reason FROM "
                                   "marts.data_status WHERE is_held_back")
    assert [h[:2] for h in held] == [("literacy", 2025)]
    why = held[0][2]
    assert "fct_literacy_result" in why and "row(s) fail" in why
    # literacy 2025 kept its last good data
    sql = "SELECT * FROM marts.literacy_results"
    assert _rows(_published(reference.data), sql) == _rows(_published(data), sql)
    # the check: model, rule, count, samples with file and line, what to do
    status = subprocess.run([n.RSOKO, "status", "--json"], env=n.env_for(data),
                            capture_output=True, text=True, check=True)
    failing = [c for c in json.loads(status.stdout)["dagster"]["failing_checks"]
               if c["asset"] == "core/fct_literacy_result"]
    assert failing, "the grain test of fct_literacy_result must be reported"
    text, details = failing[0]["description"], failing[0]["details"] or ""
    assert "core.fct_literacy_result" in text
    assert "2 row(s) fail" in text or "1 row(s) fail" in text
    assert "What to do" in text
    assert "с дублем.csv" in details and "_source_line" in details
    # the failing rows are kept for the operator
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        audit = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = "
                            "'audit'").fetchall()
        assert audit
    finally:
        con.close()
    # the release of that night was reverted for literacy 2025 only
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        assert con.execute("SELECT released FROM raw._file_registry WHERE file_id = ?",
                           ["f" * 64]).fetchone() == (False,)
        assert con.execute("SELECT count(*) FROM raw._build_scope").fetchone() == (0,)
    finally:
        con.close()
