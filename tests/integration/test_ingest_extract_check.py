"""`rsoko extract check FILE`: what an operator runs on a new file. It parses and validates
exactly like the nightly load, but never moves the file or writes the warehouse."""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest
from typer.testing import CliRunner

from tests.integration import _broken_files as bf

YEAR = 2025


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    gen = tmp_path_factory.mktemp("gen")
    manifest = bf.generate_region(gen, sources=["schools", "ege", "vpr"], n_schools=30)
    rows = {f["path"]: f["rows"] for f in manifest["files"]}
    return dict(gen=gen, rows=rows)


@pytest.fixture()
def deployment(region, tmp_path, monkeypatch):
    """A deployment whose warehouse holds the 2025 registry of schools (the known-school
    checks need it) and nothing else; the ЕГЭ and ВПР files wait in the inbox."""
    settings = bf.use_deployment(monkeypatch, tmp_path / "data")
    bf.link_year(region["gen"], settings.inbox_dir, YEAR)
    bf.ingest(settings, ["schools"], YEAR)
    return settings


def _state(settings) -> dict:
    """Everything a check must not touch: the warehouse content, the inbox files (bytes and
    mtimes), the archive and the quarantine."""
    inbox = {p.relative_to(settings.inbox_dir).as_posix():
             (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
             for p in settings.inbox_dir.rglob("*") if p.is_file()}
    return dict(warehouse=bf.warehouse_checksums(settings), inbox=inbox,
                archive=sorted(p.name for p in settings.archive_dir.rglob("*") if p.is_file()),
                quarantine=sorted(p.name for p in settings.quarantine_dir.rglob("*")))


def _check(*args: str):
    from rsoko_pipelines.cli import app

    result = CliRunner().invoke(app, ["extract", "check", *args], env={"COLUMNS": "400"})
    return result, re.sub(r"\s+", " ", result.output)


def test_good_files_exit_0_with_their_row_count(region, deployment):
    settings = deployment
    before = _state(settings)
    # the landing holds the registry of schools only (and the registry's own tables)
    assert {t for t in before["warehouse"] if not t.startswith("_")} == {"schools"}
    assert {"_file_registry", "_file_sightings"} <= set(before["warehouse"])
    ege = bf.largest_gia_file(settings.inbox_dir, "ege", YEAR)
    vpr = bf.largest_vpr_file(settings.inbox_dir, YEAR)
    for path in (ege, vpr):
        rel = path.relative_to(settings.inbox_dir).as_posix()
        result, out = _check(str(path))
        assert result.exit_code == 0, result.output
        assert f"{rel}: {region['rows'][rel]:,} rows would load" in out, out
    assert _state(settings) == before     # no table written, nothing moved or archived


def test_broken_file_exits_1_naming_the_problem_and_stays_put(region, deployment, tmp_path):
    settings = deployment
    broken = bf.make("score_out_of_range", settings.inbox_dir, YEAR, tmp_path / "made")
    target = settings.inbox_dir / "ege" / str(YEAR) / broken.path.name
    shutil.copyfile(broken.path, target)
    before = _state(settings)
    result, out = _check(str(target))
    assert result.exit_code == 1, result.output
    assert f"ege/{YEAR}/{broken.path.name}" in out
    assert "ege.test_score.range" in out and "test_score" in out
    assert f"rows: {broken.rows[0]}" in out, out
    assert "what to do:" in out
    assert target.read_bytes() == broken.path.read_bytes()
    assert _state(settings) == before
    assert not list(settings.quarantine_dir.rglob("*.report.json"))


def test_contract_breach_outside_the_inbox_with_source_and_year(region, deployment, tmp_path):
    """A file anywhere on disk, source and year given as options; the title check fails."""
    settings = deployment
    broken = bf.make("unparseable_title", settings.inbox_dir, YEAR, tmp_path / "made")
    before = _state(settings)
    result, out = _check(str(broken.path), "--source", "ege", "--year", str(YEAR))
    assert result.exit_code == 1, result.output
    assert "title:" in out and "line 1 is not a title" in out and "rows: 1" in out
    assert broken.path.is_file()
    assert _state(settings) == before


def test_unknown_school_is_caught_by_the_check(region, deployment, tmp_path):
    settings = deployment
    broken = bf.make("unknown_school_vpr", settings.inbox_dir, YEAR, tmp_path / "vpr" / "2025")
    result, out = _check(str(broken.path))     # source and year from the path
    assert result.exit_code == 1, result.output
    assert "vpr.school_known_in_registry" in out and f"rows: {broken.rows[0]}" in out


def test_source_and_year_unknown_exit_2(deployment, tmp_path):
    path = tmp_path / "somewhere" / "file.csv"
    path.parent.mkdir()
    path.write_bytes(b"x;y\r\n1;2\r\n")
    result, out = _check(str(path))
    assert result.exit_code == 2
    assert "--source" in out and "--year" in out
