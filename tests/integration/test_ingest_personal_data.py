"""No surname, first name, patronymic or identity document number of a ГИА participant
survives the ingestion step: not in any table of the warehouse (the registry included), not
in the quarantine reports, not in Dagster's event log or captured logs of the run."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import pytest

from tests.integration import _broken_files as bf

YEAR = 2025
# ГИА cases whose quarantine report is built from the file's rows (incl. one with a surname
# shifted into a checked column) and one parse failure
BROKEN = ("name_in_code_column", "duplicate_participant", "score_out_of_range",
          "unknown_school_gia", "footer_in_middle", "missing_column")

_TOKEN = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# not document numbers: timestamps and decimals ('21:18:31.220216', '1795467960.332'), file
# sizes and counts of the reports ('"size_bytes": 412345', '(412345 bytes')
_NOT_NUMBERS = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?|\d+\.\d+|\d+ bytes"
    r'|"(size_bytes|element_count|row_count|unexpected_count)": \d+')


def _personal_values(paths) -> dict[str, set[str]]:
    """Names and document numbers of the participant lines, read independently of the
    pipeline (csv module, windows-1251)."""
    out = {"names": set(), "numbers": set(), "series_numbers": set()}
    for path in paths:
        lines = path.read_bytes().decode("cp1251").split("\r\n")[1:]
        for row in csv.DictReader(io.StringIO("\r\n".join(lines)), delimiter=";"):
            if row["№"] in bf.GIA_FOOTERS or not (row.get("Номер документа") or "").strip():
                continue
            for col in ("Фамилия", "Имя", "Отчество"):
                if row.get(col) and row[col].strip():
                    out["names"].add(row[col].strip())
            series, number = row["Серия документа"].strip(), row["Номер документа"].strip()
            out["numbers"].add(number)
            out["series_numbers"] |= {series + number, f"{series} {number}"}
    return out


def _find(text: str, personal: dict[str, set[str]]) -> set[str]:
    """Personal values in a text blob, matched as whole tokens (and series+number both
    glued and with a space); JSON \\uXXXX escapes are decoded first."""
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = _NOT_NUMBERS.sub(" ", text)
    tokens = _TOKEN.findall(text)
    hits = {t for t in tokens if t in personal["names"] or t in personal["numbers"]
            or t in personal["series_numbers"]}
    hits |= {f"{a} {b}" for a, b in zip(tokens, tokens[1:])
             if f"{a} {b}" in personal["series_numbers"]}
    return hits


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    from rsoko_pipelines.night.launch import run_job
    from rsoko_pipelines.orchestration.raw_assets import raw_key
    from rsoko_pipelines.orchestration.release_asset import REGISTRY_KEY
    from rsoko_pipelines.settings import SOURCES

    gen = tmp_path_factory.mktemp("gen")
    bf.generate_region(gen, n_schools=30)
    made = tmp_path_factory.mktemp("broken")
    with pytest.MonkeyPatch.context() as mp:
        settings = bf.use_deployment(mp, tmp_path_factory.mktemp("deploy") / "data")
        bf.link_year(gen, settings.inbox_dir, YEAR)
        # the generated sheets hold every participant (the broken copies add nobody; the
        # shifted line puts a school code under 'Фамилия', which is not a name)
        gia_files = [p for s in ("ege", "oge") for p in bf.gia_files(settings.inbox_dir, s, YEAR)]
        personal = _personal_values(gia_files)
        broken = [bf.make(case, settings.inbox_dir, YEAR, made / case) for case in BROKEN]
        for b in broken:
            shutil.copyfile(b.path, settings.inbox_dir / b.source / str(YEAR) / b.path.name)
        # the night's landing and release steps, as a real run of the `nightly` job (its
        # events, metadata and captured logs are what the scan of DAGSTER_HOME reads)
        instance = dg.DagsterInstance.get()
        run = run_job(instance, "nightly", dg.AssetSelection.assets(
            *[raw_key(s) for s in SOURCES], REGISTRY_KEY), tags={})
        evaluations = [r.event_log_entry.dagster_event.event_specific_data
                       for r in instance.get_records_for_run(
                           run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records]
        quarantined = sorted(p.name for p in settings.quarantine_dir.rglob("*.report.json"))
        yield dict(settings=settings, personal=personal, run=run, evaluations=evaluations,
                   broken=broken, quarantined=quarantined, sources=SOURCES, gia_files=gia_files)


def test_the_region_was_ingested_and_the_broken_files_quarantined(region):
    assert len(region["personal"]["names"]) > 500
    assert len(region["personal"]["numbers"]) > 1000
    assert len(region["quarantined"]) == len(BROKEN)
    assert region["run"].status == dg.DagsterRunStatus.FAILURE
    failed = sorted((e.asset_key.to_user_string(), e.check_name)
                    for e in region["evaluations"] if not e.passed)
    assert failed == [("raw/ege", "file_contract"), ("raw/ege", "gia_school_code"),
                      ("raw/ege", "msu_code"), ("raw/ege", "test_score"),
                      ("raw/ege", "unique_rows"), ("raw/file_registry", "nothing_held_back"),
                      ("raw/oge", "file_contract")]
    # a broken file delivered with good ones of the same year (a cold night) holds the year
    # back: the good files of the same delivery are not its correction
    held = next(e for e in region["evaluations"] if e.check_name == "nothing_held_back")
    assert held.description.startswith(f"held back: ege {YEAR}: ") and \
        f"; oge {YEAR}: " in held.description and "vpr" not in held.description
    passed = {e.asset_key.to_user_string() for e in region["evaluations"] if e.passed}
    assert {f"raw/{s}" for s in region["sources"]} <= passed


def test_the_scanner_finds_what_it_looks_for(region):
    """Control: the same scan does find the values in the original sheets and in JSON with
    escaped Cyrillic, so an empty result below means absence, not a blind scanner."""
    personal = region["personal"]
    sheet = region["gia_files"][0].read_bytes().decode("cp1251")
    assert len(_find(sheet, personal)) > 20
    name = sorted(personal["names"])[0]
    number = sorted(personal["series_numbers"])[0]
    assert _find(json.dumps({"x": [name, number]}), personal) >= {name, number}


def test_no_personal_data_in_any_warehouse_table(region):
    from rsoko_pipelines.ingest.warehouse import connect

    personal = region["personal"]
    wanted = personal["names"] | personal["numbers"] | personal["series_numbers"]
    con = connect(region["settings"].warehouse_path, read_only=True)
    try:
        columns = con.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE NOT internal AND (data_type = 'VARCHAR' OR data_type LIKE 'VARCHAR[]%' "
            "OR data_type = 'JSON')").fetchall()
        assert {(s, t) for s, t, _, _ in columns} >= {
            ("raw", "ege"), ("raw", "oge"), ("raw", "_file_registry"), ("raw", "vpr")}
        hits, checked = [], 0
        for schema, table, column, type_ in columns:
            expr = f'"{column}"' if not type_.endswith("[]") else f'unnest("{column}")'
            values = [r[0] for r in con.execute(
                f'SELECT DISTINCT {expr}::VARCHAR FROM "{schema}"."{table}"').fetchall()]
            checked += 1
            for v in values:
                if v is None:
                    continue
                found = {v.strip()} & wanted if v.strip() in wanted else _find(v, personal)
                if found:
                    hits.append((schema, table, column, sorted(found)[:3]))
    finally:
        con.close()
    assert checked > 50
    assert not hits, hits[:20]


def test_no_personal_data_in_quarantine_reports(region):
    settings = region["settings"]
    reports = [p for p in settings.quarantine_dir.rglob("*")
               if p.is_file() and (p.name.endswith(".json") or p.name.endswith(".html"))]
    assert len(reports) >= 2 * len(BROKEN)
    hits = {p.name: _find(p.read_text(encoding="utf-8"), region["personal"]) for p in reports}
    assert not {k: v for k, v in hits.items() if v}
    # the report of the shifted line still says what and where, only without the value
    shifted = next(b for b in region["broken"] if b.case == "name_in_code_column")
    report = json.loads((settings.quarantine_dir / "ege" / str(YEAR)
                         / f"{shifted.path.name}.report.json").read_text(encoding="utf-8"))
    problem = next(p for p in report["problems"] if p["check"] == shifted.check)
    assert problem["rows"] == shifted.rows and problem["unexpected_count"] == 1


def _sqlite_cells(path: Path):
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    if isinstance(cell, bytes):
                        yield cell.decode("utf-8", errors="ignore")
                    elif isinstance(cell, str):
                        yield cell
    finally:
        con.close()


def test_no_personal_data_in_dagster_storage(region):
    """Every file under DAGSTER_HOME (run and event-log SQLite databases, captured compute
    logs), read as bytes."""
    home = region["settings"].dagster_home
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)
    blobs = {}
    for p in files:
        name = str(p.relative_to(home))
        raw = p.read_bytes()
        if raw.startswith(b"SQLite format 3"):
            # cell by cell: the raw pages glue neighbouring values into false tokens
            blobs[name] = "\n".join(_sqlite_cells(p))
            # names cannot be made up by gluing: the raw bytes are scanned for them too
            text = raw.decode("utf-8", errors="ignore")
            names = {t for t in _TOKEN.findall(_JSON_ESCAPE.sub(
                lambda m: chr(int(m.group(1), 16)), text)) if t in region["personal"]["names"]}
            assert not names, (name, sorted(names)[:5])
        else:
            blobs[name] = raw.decode("utf-8", errors="ignore")
    # the run's events are there (so the scan looks at the right place)
    assert any("ege.test_score.range" in b for b in blobs.values())
    hits = {name: _find(text, region["personal"]) for name, text in blobs.items()}
    assert not {k: v for k, v in hits.items() if v}
