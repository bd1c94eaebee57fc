"""Directions 6 and 7 at ingest: the generated staff register, ДПО documents, deficit
diagnostics and НОКУОД results load with their GX suites; `rsoko extract check` names the
per-file rule a bad file breaks (two heads in a school, a педагог-методист before 2023, a
course under 16 hours, a НОКУОД total that is not the mean of its criteria, a diagnostic
element above its maximum); a corrected file replaces its slice (the same municipality's
register, the same provider's documents, the same diagnostic, the same year of НОКУОД)."""

from __future__ import annotations

import re
import shutil

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.integration import _broken_files as bf

YEAR = 2025
SOURCES = ["schools", "staff", "dpo", "deficits", "nokuod"]


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    gen = tmp_path_factory.mktemp("gen")
    bf.generate_region(gen, sources=SOURCES, n_schools=20)
    return gen


@pytest.fixture()
def deployment(region, tmp_path, monkeypatch):
    settings = bf.use_deployment(monkeypatch, tmp_path / "data")
    bf.link_year(region, settings.inbox_dir, YEAR)
    return settings


def _check(path):
    from rsoko_pipelines.cli import app

    result = CliRunner().invoke(app, ["extract", "check", str(path)], env={"COLUMNS": "400"})
    return result.exit_code, re.sub(r"\s+", " ", result.output)


def _csv(path):
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    enc = "utf-8" if bom else "cp1251"
    return (raw[3:] if bom else raw).decode(enc).split("\r\n"), bom, enc


def _write_csv(path, lines, bom, enc):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\r\n".join(lines).encode(enc))
    return path


def _copy(settings, source, pattern, name, tmp_path):
    """A private copy of the first matching inbox file, outside the inbox."""
    src = sorted(settings.inbox_dir.glob(f"{source}/{YEAR}/{pattern}"))[0]
    dst = tmp_path / source / str(YEAR) / name
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return src, dst


def test_generated_files_load_with_their_suites(deployment):
    out = bf.ingest(deployment, SOURCES, YEAR)
    for source in SOURCES:
        assert out[source].count("loaded") >= 1 and not out[source].quarantined, (
            source, [f.message for f in out[source].quarantined][:2])
    assert out["deficits"].rows_loaded > 50 and out["dpo"].rows_loaded > 200


def test_extract_check_names_the_broken_rule(deployment, tmp_path):
    bf.ingest(deployment, ["schools"], YEAR)        # the registry the known-school checks use
    header = None
    # two heads in one school; a педагог-методист awarded before 01.09.2023
    src, dst = _copy(deployment, "staff", "*.csv", "два_директора.csv", tmp_path)
    lines, bom, enc = _csv(dst)
    header = lines[0].split(";")
    pos, cat, date = (header.index(c) for c in ("Должность", "Квалификационная категория",
                                                "Дата присвоения категории"))
    head = next(i for i, line in enumerate(lines) if line.split(";")[pos] == "директор")
    cells = lines[head].split(";")
    other = next(i for i, line in enumerate(lines[1:], 1)
                 if line and line.split(";")[pos] == "учитель"
                 and line.split(";")[header.index("Код ОО")] == cells[header.index("Код ОО")])
    row = lines[other].split(";")
    row[pos] = "директор"
    row[header.index("Дата назначения на должность")] = "01.09.2020"
    lines[other] = ";".join(row)
    code, text = _check(_write_csv(dst, lines, bom, enc))
    assert code == 1 and "staff.single_head_per_school" in text
    assert f"rows: {min(head, other) + 1}, {max(head, other) + 1}" in text

    lines, bom, enc = _csv(src)
    row = lines[1].split(";")
    row[cat], row[date] = "педагог-методист", "15.05.2022"
    lines[1] = ";".join(row)
    code, text = _check(_write_csv(tmp_path / "staff" / str(YEAR) / "методист.csv", lines,
                                   bom, enc))
    assert code == 1 and "staff.category_date.since_2023" in text and "rows: 2" in text

    # a НОКУОД total that is not the mean of the five criteria (±0,1)
    src, dst = _copy(deployment, "nokuod", "*.csv", "итог.csv", tmp_path)
    lines, bom, enc = _csv(dst)
    row = lines[1].split(";")
    total = float(row[8].replace(",", "."))
    row[8] = f"{total + 0.3:.1f}".replace(".", ",")
    lines[1] = ";".join(row)
    code, text = _check(_write_csv(dst, lines, bom, enc))
    assert code == 1 and "nokuod.total_score.is_mean" in text and "rows: 2" in text

    # a course of 8 hours
    src, dst = _copy(deployment, "dpo", "*.xlsx", "8_часов.xlsx", tmp_path)
    wb = load_workbook(dst)
    ws = wb.active
    hours = [c.value for c in ws[1]].index("Срок обучения, часов") + 1
    ws.cell(row=3, column=hours, value=8)
    wb.save(dst)
    code, text = _check(dst)
    assert code == 1 and "dpo.hours.min_16" in text and "rows: 3" in text

    # points above an element's maximum (row 5 is the first person)
    src, dst = _copy(deployment, "deficits", "*.xlsx", "макс.xlsx", tmp_path)
    wb = load_workbook(dst)
    ws = wb.active
    ws.cell(row=5, column=5, value=99)
    wb.save(dst)
    code, text = _check(dst)
    assert code == 1 and "task_points_above_max" in text and "rows: 5" in text

    code, text = _check(src)
    assert code == 0 and "rows would load" in text


def test_a_corrected_file_replaces_its_slice(deployment, tmp_path):
    from rsoko_pipelines.ingest.warehouse import connect

    first = bf.ingest(deployment, SOURCES, YEAR)
    loaded = {s: first[s].rows_loaded for s in SOURCES}
    inbox = deployment.inbox_dir
    # the register: a municipality's file (or the regional one) with one rate changed
    src = sorted(inbox.glob(f"staff/{YEAR}/*.csv"))[0]
    lines, bom, enc = _csv(src)
    rate = lines[0].split(";").index("Ставка")
    row = lines[1].split(";")
    row[rate] = "2,25"
    lines[1] = ";".join(row)
    _write_csv(inbox / "staff" / str(YEAR) / "исправлено.csv", lines, bom, enc)
    # a provider's ДПО file with a programme renamed
    src = sorted(inbox.glob(f"dpo/{YEAR}/*.xlsx"))[0]
    dst = inbox / "dpo" / str(YEAR) / "исправлено.xlsx"
    wb = load_workbook(src)
    ws = wb.active
    name = [c.value for c in ws[1]].index(
        "Наименование дополнительной профессиональной программы") + 1
    ws.cell(row=2, column=name, value="Оказание первой помощи")
    wb.save(dst)
    # a diagnostic with one element cell changed; the НОКУОД file with one criterion
    src = sorted(inbox.glob(f"deficits/{YEAR}/*.xlsx"))[0]
    dst = inbox / "deficits" / str(YEAR) / "исправлено.xlsx"
    wb = load_workbook(src)
    ws = wb.active
    ws.cell(row=5, column=5, value=0)
    wb.save(dst)
    src = sorted(inbox.glob(f"nokuod/{YEAR}/*.csv"))[0]
    lines, bom, enc = _csv(src)
    row = lines[1].split(";")
    row[3] = row[3] + "1" if "," in row[3] else row[3] + ",01"
    lines[1] = ";".join(row)
    _write_csv(inbox / "nokuod" / str(YEAR) / "исправлено.csv", lines, bom, enc)

    second = bf.ingest(deployment, SOURCES[1:], YEAR)
    for source in SOURCES[1:]:
        assert second[source].count("replaced") == 1, (source, [
            (f.inbox_path, f.status, f.message) for f in second[source].files
            if f.status not in ("unchanged",)])
    con = connect(deployment.warehouse_path, read_only=True)
    try:
        for source in SOURCES[1:]:
            rows = con.execute(f"SELECT count(*) FROM raw.{source} WHERE academic_year = ?",
                               [YEAR]).fetchall()[0][0]
            assert rows == loaded[source], source        # replaced, not added
        assert con.execute("SELECT count(*) FROM raw.staff WHERE rate = 2.25").fetchall()[0][0] == 1
        superseded = con.execute("SELECT source FROM raw._file_registry WHERE status = "
                                 "'superseded' ORDER BY 1").fetchall()
        assert superseded == [("deficits",), ("dpo",), ("nokuod",), ("staff",)]
    finally:
        con.close()
