"""Personal data after whole nights (issue 8 part 4): no surname, first name, patronymic or
identity document number of a generated ГИА participant — nor a navigator child id or a
survey respondent code (issue 18) — anywhere a night writes — the
warehouse, every kept published database, the Parquet exports and manifests, the Dagster
event logs and compute logs, the validation and quarantine reports, the nightly reports
and the console output — and no mart exposes a rate or mean for a group below the cell
size (`rsoko:min_cell_size`, 5) in the published database or its Parquet files.

The deployment is a clone of the uninterrupted reference night (tier XS, published) plus a
night with broken ГИА files in the inbox (a surname shifted into the school-code column, an
out-of-range score, a duplicated participant line, a footer in the middle of a sheet): they
are quarantined with GX validation reports built from the files' rows, and the failed
night's events name them. The matching rules (whole values and whole tokens, series and
number glued or spaced, JSON escapes decoded) are those of test_ingest_personal_data.py."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from tests._project import mart_names

from tests.integration import _broken_files as bf
from tests.integration import _nightly as n
from tests.integration.test_ingest_personal_data import (
    _JSON_ESCAPE, _TOKEN, _find, _personal_values, _sqlite_cells, _staff_personal_values)
from rsoko_pipelines.reference import min_cell_size
from tests.integration.test_marts_planted import NOT_PARTICIPANT_RATES

pytestmark = pytest.mark.slow

YEAR = 2025
BROKEN = ("name_in_code_column", "score_out_of_range", "duplicate_participant",
          "footer_in_middle")
MIN_CELL = min_cell_size()      # dbt_project/dbt_project.yml: rsoko:min_cell_size


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> n.Reference:
    return n.reference_night(tmp_path_factory)


def _public_tokens(inbox: Path) -> set[str]:
    """Tokens of the public school registry (school codes, names of schools and
    municipalities): a document number may coincide with a 6-digit school code and a first
    name may be part of a school's name ('имени Александра …'); such values are not
    evidence of a leak, so they are left out of what the scan looks for."""
    tokens: set[str] = set()
    for path in inbox.glob("schools/*/*.csv"):
        for row in csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"):
            for cell in row:
                tokens |= set(_TOKEN.findall(cell))
    return tokens


@pytest.fixture(scope="module")
def night(reference, tmp_path_factory):
    work = tmp_path_factory.mktemp("pii")
    data = n.clone_deployment(reference.data, work / "data")
    settings = n.settings_for(data)
    gia = sorted(settings.inbox_dir.glob("ege/*/*.csv")) + sorted(
        settings.inbox_dir.glob("oge/*/*.csv"))
    personal = _personal_values(gia)
    # directions 6 and 7: staff names, СНИЛС (both forms), birth dates
    for key, values in _staff_personal_values(settings.inbox_dir).items():
        personal.setdefault(key, set()).update(values)
    # issue 18: the navigator's child ids and the survey respondent codes, like numbers
    personal["numbers"] |= bf.pseudonymous_ids(settings.inbox_dir)
    public = _public_tokens(settings.inbox_dir)
    excluded = {k: v & public for k, v in personal.items()}
    personal = {k: v - public for k, v in personal.items()}
    broken = [bf.make(case, settings.inbox_dir, YEAR, work / "broken" / case) for case in BROKEN]
    for b in broken:
        shutil.copyfile(b.path, settings.inbox_dir / b.source / str(YEAR) / b.path.name)
    result = n.run_night(data, "broken", expect=1)     # quarantined files fail the night
    # staff keys are pseudonyms the warehouse keeps (raw, core) but nothing published,
    # reported or logged may show: they are added to what the scans outside it look for
    con = n._connect(settings.warehouse_path)
    try:
        keys = {r[0] for r in con.execute(
            "SELECT staff_key FROM raw.staff UNION SELECT staff_key FROM raw.dpo "
            "UNION SELECT staff_key FROM raw.deficits").fetchall() if r[0]}
    finally:
        con.close()
    outside = {**personal, "numbers": personal["numbers"] | keys}
    return dict(data=data, settings=settings, personal=personal, excluded=excluded,
                broken=broken, output=result.output, gia=gia, outside=outside, keys=keys)


def _hits_in_values(values, personal) -> set[str]:
    wanted = (personal["names"] | personal["numbers"] | personal["series_numbers"]
              | personal.get("snils", set()))
    hits: set[str] = set()
    for v in values:
        if v is None:
            continue
        v = str(v)
        hits |= ({v.strip()} & wanted) | _find(v, personal)
    return hits


def _scan_duckdb(con, personal, relation_sql: str = "") -> tuple[int, list]:
    """Every text column (VARCHAR, VARCHAR[], JSON) of every table and view."""
    columns = con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal AND (data_type = 'VARCHAR' OR data_type LIKE 'VARCHAR[]%' "
        "OR data_type = 'JSON')").fetchall()
    hits, checked = [], 0
    for schema, table, column, type_ in columns:
        expr = f'"{column}"' if not type_.endswith("[]") else f'unnest("{column}")'
        values = [r[0] for r in con.execute(
            f'SELECT DISTINCT {expr}::VARCHAR FROM "{schema}"."{table}"').fetchall()]
        checked += 1
        found = _hits_in_values(values, personal)
        if found:
            hits.append((schema, table, column, sorted(found)[:3]))
    return checked, hits


def test_the_night_quarantined_the_broken_files_and_the_scan_sees(night):
    settings, personal = night["settings"], night["personal"]
    assert len(personal["names"]) > 400 and len(personal["numbers"]) > 5000
    assert len(personal["snils"]) > 1000 and len(night["keys"]) > 1000
    # what the registry shares with the participants is a handful, not a blind spot
    assert sum(map(len, night["excluded"].values())) < 0.01 * sum(map(len, personal.values()))
    reports = sorted(p.name for p in settings.quarantine_dir.rglob("*.report.json"))
    assert len(reports) == len(BROKEN), reports
    # control: the same scan finds the values in an original sheet and in escaped JSON
    sheet = night["gia"][0].read_bytes().decode("cp1251")
    assert len(_find(sheet, personal)) > 20
    name, number = sorted(personal["names"])[0], sorted(personal["series_numbers"])[0]
    assert _find(json.dumps({"x": [name, number]}), personal) >= {name, number}
    assert _hits_in_values([f"  {name} "], personal) == {name}


def test_no_personal_data_in_the_warehouse(night):
    con = n._connect(night["settings"].warehouse_path)
    try:
        checked, hits = _scan_duckdb(con, night["personal"])
    finally:
        con.close()
    assert checked > 80
    assert not hits, hits[:20]


def _kept_versions(settings) -> list[Path]:
    from rsoko_pipelines.publish.versions import version_names, versions_dir

    return [versions_dir(settings.published_dir) / v
            for v in version_names(settings.published_dir)]


def test_no_personal_data_in_the_published_databases_and_manifests(night):
    settings = night["settings"]
    versions = _kept_versions(settings)
    assert versions
    for version in versions:
        con = n._connect(version / "rsoko_marts.duckdb")
        try:
            checked, hits = _scan_duckdb(con, night["outside"])
        finally:
            con.close()
        assert checked > 30, version.name
        assert not hits, (version.name, hits[:20])
        manifest = (version / "manifest.json").read_text(encoding="utf-8")
        assert not _find(manifest, night["outside"]), version.name


def test_no_personal_data_in_the_parquet_exports(night):
    import duckdb

    files = [p for v in _kept_versions(night["settings"]) for p in v.rglob("*.parquet")]
    assert len(files) > 9
    con = duckdb.connect()
    try:
        hits, checked = [], 0
        for path in files:
            source = "read_parquet('" + str(path).replace("'", "''") + "')"
            for column, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
                if type_ not in ("VARCHAR", "VARCHAR[]", "JSON"):
                    continue
                expr = f'unnest("{column}")' if type_.endswith("[]") else f'"{column}"'
                values = [r[0] for r in con.execute(
                    f"SELECT DISTINCT {expr}::VARCHAR FROM {source}").fetchall()]
                checked += 1
                found = _hits_in_values(values, night["outside"])
                if found:
                    hits.append((path.name, column, sorted(found)[:3]))
    finally:
        con.close()
    assert checked > 30
    assert not hits, hits[:20]


def test_no_personal_data_in_dagster_event_logs_and_compute_logs(night):
    home, personal = night["settings"].dagster_home, night["outside"]
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)
    assert any(p.parent.name == "compute_logs" and p.stat().st_size for p in files)
    hits, blobs = {}, []
    for p in files:
        raw = p.read_bytes()
        if raw.startswith(b"SQLite format 3"):
            text = "\n".join(_sqlite_cells(p))
            # names cannot be made up by gluing: the raw pages are scanned for them too
            glued = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)),
                                     raw.decode("utf-8", errors="ignore"))
            names = {t for t in _TOKEN.findall(glued) if t in personal["names"]}
            if names:
                hits[f"{p.relative_to(home)} (pages)"] = sorted(names)[:5]
        else:
            text = raw.decode("utf-8", errors="ignore")
        blobs.append(text)
        found = _find(text, personal)
        if found:
            hits[str(p.relative_to(home))] = sorted(found)[:5]
    # the events of the failed night are there, so the scan looks at the right place
    assert any("ege.test_score.range" in b for b in blobs)
    assert not hits, hits


# dbt's own figures in its logs (resource report "process_mem_max_rss": "405616", times
# with microseconds): machine numbers that can equal a 6-digit document number by chance.
_DBT_OWN_FIGURES = re.compile(r'\\?"process_\w+\\?": \\?"?[\d.]+\\?"?'
                              r'|\d{2}:\d{2}:\d{2}\.\d+')


def test_no_personal_data_in_the_dbt_logs_of_the_runs(night):
    """Every dbt invocation has its own target folder under the data folder
    (`<data>/dbt_runs/<step>-<run id[:8]>/`, the newest few kept): its dbt.log and
    run_results.json are the dbt side of the compute logs of this deployment's runs."""
    runs = {r["run_id"][:8] for r in n.dagster_runs(night["data"])}
    folders = [p for p in (night["data"] / "dbt_runs").glob("rsoko_dbt_*-*")
               if p.is_dir() and p.name.rsplit("-", 1)[-1] in runs]
    assert folders, "no dbt target folder of this deployment's runs"
    hits = {}
    for folder in folders:
        for path in folder.rglob("*"):
            # the log and the results (messages of failing models and tests); the rest is
            # the project's code (manifest, compiled SQL)
            if path.is_file() and (path.suffix == ".log" or path.name == "run_results.json"):
                text = _DBT_OWN_FIGURES.sub("", path.read_text(encoding="utf-8",
                                                               errors="ignore"))
                found = _find(text, night["outside"])
                if found:
                    hits[str(path.relative_to(folder.parent))] = sorted(found)[:5]
    assert not hits, hits


def test_no_personal_data_in_reports_quarantine_reports_and_console(night):
    settings, personal = night["settings"], night["outside"]
    reports = [p for root in (settings.reports_dir, settings.quarantine_dir)
               for p in root.rglob("*") if p.is_file() and p.suffix in (".json", ".html")]
    assert len([p for p in reports if p.name.endswith(".report.json")]) == len(BROKEN)
    assert any(p.parent.name == "nightly" for p in reports)
    hits = {p.name: _find(p.read_text(encoding="utf-8"), personal) for p in reports}
    hits["console output"] = _find(night["output"], personal)
    hits["published/manifest.json"] = _find(
        (settings.published_dir / "manifest.json").read_text(encoding="utf-8"), personal)
    assert not {k: v for k, v in hits.items() if v}


def _small_cells(con, relation) -> tuple[int, list]:
    """The rule of test_marts_planted.py: below MIN_CELL participants, no rate or mean of
    the row's participants and `is_suppressed`; at or above it, not suppressed."""
    from tests.integration.test_marts_planted import CELL_COUNT, NO_PERSON_GROUPS

    marts = sorted(relation)
    assert set(marts) == mart_names(), marts
    checked, problems = 0, []
    for mart in marts:
        source = relation[mart]
        cols = dict((r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {source}")
                    .fetchall())
        assert not cols.keys() & {"participant_id", "participant_key", "participant_code",
                                  "staff_key", "child_key", "respondent_key"}
        if mart in NO_PERSON_GROUPS:
            continue
        participants = CELL_COUNT.get(mart, "participants")
        if participants not in cols:
            assert mart in ("school_context", "data_status", "recommendations",
                            "measure_effects"), mart
            continue
        rates = [c for c, t in cols.items()
                 if t == "DOUBLE" and c not in NOT_PARTICIPANT_RATES.get(mart, set())]
        exposed = " OR ".join([f'"{c}" IS NOT NULL' for c in rates] or ["false"])
        small = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {exposed}), "
            f"count(*) FILTER (WHERE NOT is_suppressed) FROM {source} "
            f"WHERE {participants} < {MIN_CELL}").fetchone()
        big = con.execute(f"SELECT count(*) FROM {source} WHERE {participants} >= {MIN_CELL} "
                          "AND is_suppressed").fetchone()[0]
        if small[1:] != (0, 0) or big:
            problems.append((mart, small, big))
        checked += small[0]
    return checked, problems


def test_no_published_rate_for_a_group_below_the_cell_size(night):
    import duckdb

    settings = night["settings"]
    from rsoko_pipelines.publish import published_database

    con = n._connect(published_database(settings.published_dir))
    try:
        marts = {t: f'marts."{t}"' for t in n.relations(con, "marts") if t != "_publication"}
        checked, problems = _small_cells(con, marts)
    finally:
        con.close()
    assert checked > 50 and not problems, problems
    # the Parquet export carries the same rows
    parquet = settings.published_dir / "parquet"
    con = duckdb.connect()
    try:
        marts = {p.name: f"read_parquet('{p}/*.parquet')"   # one file per year (docs/analysts.md)
                 for p in sorted(parquet.iterdir()) if p.name not in ("_publication", "reference")}
        checked_parquet, problems = _small_cells(con, marts)
    finally:
        con.close()
    assert checked_parquet == checked and not problems, problems


def test_no_child_or_respondent_key_in_the_published_data(night):
    """Our own pseudonyms (child_key, respondent_key: HMACs of the navigator's and the survey
    platform's ids) stay in the warehouse's raw and core layers: no published table, column
    or Parquet file carries one."""
    import duckdb

    settings = night["settings"]
    con = n._connect(settings.warehouse_path)
    try:
        keys = {r[0] for r in con.execute(
            "SELECT DISTINCT child_key FROM core.fct_enrolment UNION "
            "SELECT DISTINCT respondent_key FROM core.fct_survey_answer").fetchall() if r[0]}
    finally:
        con.close()
    assert len(keys) > 1000
    wanted = {"names": set(), "numbers": keys, "series_numbers": set()}
    for version in _kept_versions(settings):
        con = n._connect(version / "rsoko_marts.duckdb")
        try:
            checked, hits = _scan_duckdb(con, wanted)
        finally:
            con.close()
        assert checked > 30 and not hits, (version.name, hits[:5])
    con = duckdb.connect()
    try:
        for path in (settings.published_dir / "parquet").rglob("*.parquet"):
            source = "read_parquet('" + str(path).replace("'", "''") + "')"
            for column, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
                if type_ == "VARCHAR":
                    values = {r[0] for r in con.execute(
                        f'SELECT DISTINCT "{column}" FROM {source}').fetchall()}
                    assert not values & keys, (path.name, column)
    finally:
        con.close()
