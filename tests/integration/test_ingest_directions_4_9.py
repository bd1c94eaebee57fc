"""Ingest of the sources of directions 4 and 9 and НИКО (issue 18) from generated files: they
load like the others (column maps, GX suites, file registry), the two contract checks
quarantine with a report naming file, check, rows and headers (the destination sums of
`graduates`, an answer outside its question's options in `survey`), a corrected file
replaces its slice, `rsoko extract check` says the same, and no navigator child id or survey
respondent code reaches the landing."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import link_tree
from tests.integration import _broken_files as bf

YEAR = 2025
SOURCES = ["schools", "niko", "population", "career", "survey", "graduates", "additional_ed"]
NEW = SOURCES[1:]


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    gen = tmp_path_factory.mktemp("gen")
    manifest = bf.generate_region(gen, sources=SOURCES, n_schools=30)
    base = tmp_path_factory.mktemp("baseline") / "data"
    with pytest.MonkeyPatch.context() as mp:
        settings = bf.use_deployment(mp, base)
        bf.link_year(gen, settings.inbox_dir, YEAR)
        first = bf.ingest(settings, SOURCES, YEAR)
    return dict(gen=gen, base=base, inbox=settings.inbox_dir, first=first, manifest=manifest,
                made=tmp_path_factory.mktemp("made"))


@pytest.fixture()
def deployment(region, tmp_path, monkeypatch):
    settings = bf.use_deployment(monkeypatch, tmp_path / "data")
    shutil.copyfile(Path(region["base"]) / "warehouse" / "rsoko.duckdb", settings.warehouse_path)
    link_tree(region["inbox"], settings.inbox_dir)
    return settings


def _query(settings, sql, params=None):
    from rsoko_pipelines.ingest.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_generated_file_loads_with_the_manifest_row_counts(region):
    first, manifest = region["first"], region["manifest"]
    for source in NEW:
        result = first[source]
        assert result.files and result.count("loaded") == len(result.files), (
            source, [(f.inbox_path, f.message) for f in result.quarantined][:2])
        expected = sum(f["rows"] for f in manifest["files"]
                       if f["source"] == source and f["academic_year"] == YEAR)
        assert result.rows_loaded == expected, source


def test_personal_identifiers_are_rehashed_at_landing(region, tmp_path, monkeypatch):
    settings = bf.use_deployment(monkeypatch, tmp_path / "data")
    shutil.copyfile(Path(region["base"]) / "warehouse" / "rsoko.duckdb", settings.warehouse_path)
    cols = {t: {r[0] for r in _query(settings, "SELECT column_name FROM duckdb_columns() "
                                               "WHERE schema_name = 'raw' AND table_name = ?", [t])}
            for t in ("additional_ed", "survey")}
    assert "child_key" in cols["additional_ed"] and "child_id" not in cols["additional_ed"]
    assert "respondent_key" in cols["survey"] and "respondent_code" not in cols["survey"]
    # the keys are our HMAC (64 hex digits), never the delivered ids
    nav = csv.DictReader(next((region["inbox"] / "additional_ed" / str(YEAR)).glob("*.csv"))
                         .open(encoding="utf-8"), delimiter=";")
    ids = {r["Идентификатор ребёнка"] for r in nav}
    keys = {r[0] for r in _query(settings, "SELECT DISTINCT child_key FROM raw.additional_ed")}
    assert len(keys) == len(ids) and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)
    assert not keys & ids
    # the same child id gives the same key in every row (a child in several programmes)
    assert _query(settings, "SELECT count(*) > count(DISTINCT child_key) "
                            "FROM raw.additional_ed")[0][0]
    codes = set()
    for path in (region["inbox"] / "survey" / str(YEAR)).glob("*.csv"):
        codes |= {r["Код респондента"] for r in csv.DictReader(path.open(encoding="utf-8"),
                                                                 delimiter=";")}
    rkeys = {r[0] for r in _query(settings, "SELECT DISTINCT respondent_key FROM raw.survey")}
    assert len(rkeys) == len(codes) and not rkeys & codes


# ----------------------------------------------------------------- the two contract checks
@pytest.mark.parametrize("case,header", [("graduates_wrong_sum", "Всего выпускников"),
                                         ("survey_answer_outside_options", "Ответ"),
                                         ("navigator_unknown_status", "Статус")])
def test_contract_check_quarantines_with_a_report(case, header, region, deployment, tmp_path):
    settings = deployment
    broken = bf.make(case, region["inbox"], YEAR, tmp_path)
    path, line, check = broken.path, broken.rows[0], broken.check
    case = broken.source
    before = bf.warehouse_checksums(settings)
    target = settings.inbox_dir / case / str(YEAR) / path.name
    shutil.copyfile(path, target)
    result = bf.ingest(settings, [case], YEAR)[case]
    rel = f"{case}/{YEAR}/{path.name}"
    assert [(f.inbox_path, f.status) for f in result.files if f.status != "unchanged"] == [
        (rel, "quarantined")]
    report = json.loads((settings.quarantine_dir / case / str(YEAR)
                         / f"{path.name}.report.json").read_text(encoding="utf-8"))
    problem, = [p for p in report["problems"] if p["check"] == check]
    assert problem["rows"] == [line] and problem["unexpected_count"] == 1
    assert header in problem["headers"], problem["headers"]
    assert problem["hint"] and problem["message"].startswith("1 row(s) break the rule")
    # survey and navigator files carry pseudonymous ids: no sample value in the report
    assert problem["sample_values"] == [] or case == "graduates"
    ids = bf.pseudonymous_ids(region["inbox"], YEAR)
    tokens = set(re.findall(r"\w+", json.dumps(report, ensure_ascii=False)))
    assert len(ids) > 1000 and not tokens & ids
    after = bf.warehouse_checksums(settings)
    assert {t: c for t, c in after.items() if not t.startswith("_")} == \
        {t: c for t, c in before.items() if not t.startswith("_")}
    # `rsoko extract check` tells the operator the same, without moving anything
    from rsoko_pipelines.cli import app

    out = CliRunner().invoke(app, ["extract", "check", str(path), "--source", case,
                                   "--year", str(YEAR)], env={"COLUMNS": "400"})
    text = re.sub(r"\s+", " ", out.output)
    assert out.exit_code == 1, text
    assert check in text and f"rows: {line}" in text and header in text


def test_niko_file_in_a_wrong_folder_says_where_it_belongs(region, deployment, tmp_path):
    src = sorted((region["inbox"] / "niko" / str(YEAR)).glob("*.xlsx"))[0]
    rows = bf.read_sheet(src)
    rows[0][0] = str(rows[0][0]).replace("НИКО", "ВПР")
    path = bf.write_sheet(tmp_path / "vpr_in_niko.xlsx", rows)
    from rsoko_pipelines.ingest.checking import problems_for_file

    problems, _ = problems_for_file(path, "niko", YEAR)
    assert problems[0]["check"] == "title"
    assert "it is a ВПР file in the niko folder" in problems[0]["message"]
    assert "vpr folder" in problems[0]["hint"]


def test_navigator_export_without_the_child_id_is_rejected(region, deployment, tmp_path):
    src = next((region["inbox"] / "additional_ed" / str(YEAR)).glob("*.csv"))
    lines = src.read_text(encoding="utf-8").split("\n")[:50]
    lines = [";".join(line.split(";")[1:]) for line in lines if line]
    path = tmp_path / "navigator_no_id.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from rsoko_pipelines.ingest.checking import problems_for_file

    problems, _ = problems_for_file(path, "additional_ed", YEAR)
    assert problems[0]["check"] == "missing_columns"
    assert "Идентификатор ребёнка" in problems[0]["message"]


# ----------------------------------------------------------------- corrections
def test_corrected_survey_file_replaces_its_slice(region, deployment):
    settings = deployment
    src = sorted((settings.inbox_dir / "survey" / str(YEAR)).glob("*.csv"))[0]
    text = src.read_text(encoding="utf-8")
    lines = text.split("\n")
    i = next(k for k in range(1, len(lines)) if lines[k].rstrip().endswith(";да"))
    lines[i] = lines[i][: -len("да")] + "нет"
    corrected = settings.inbox_dir / "survey" / str(YEAR) / f"исправленный_{src.name}"
    corrected.write_text("\n".join(lines), encoding="utf-8")
    old_id = hashlib.sha256(text.encode("utf-8")).hexdigest()
    n_before = _query(settings, "SELECT count(*) FROM raw.survey")[0][0]

    result = bf.ingest(settings, ["survey"], YEAR)["survey"]

    assert [f.status for f in result.files if f.status != "unchanged"] == ["replaced"]
    assert _query(settings, "SELECT count(*) FROM raw.survey")[0][0] == n_before
    assert _query(settings, "SELECT count(*) FROM raw.survey WHERE _file_id = ?", [old_id]) \
        == [(0,)]
    old, = bf.registry_rows(settings, "file_id = ?", [old_id])
    assert old["status"] == "superseded"
