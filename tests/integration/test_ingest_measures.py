"""The register of measures (issue 19) is ingested like every source: the generated
registers load with their GX suite, `rsoko extract check` names the rows and the columns of
a broken register (by the file's own headers) and what to do, a corrected register replaces
the year's earlier one (slice = academic year), and nothing is lost."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tests.integration import _broken_files as bf

YEAR = 2025
HEADER = ("Код меры;Вид меры;Направление;Уровень;Код ОО;Код МСУ;Дата начала;Дата окончания;"
          "Целевой показатель;Основание")


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    gen = tmp_path_factory.mktemp("gen")
    manifest = bf.generate_region(gen, sources=["schools", "measures"], n_schools=30)
    return dict(gen=gen, manifest=manifest)


@pytest.fixture()
def deployment(region, tmp_path, monkeypatch):
    settings = bf.use_deployment(monkeypatch, tmp_path / "data")
    bf.link_year(region["gen"], settings.inbox_dir, YEAR, sources=["schools"])
    bf.ingest(settings, ["schools"], YEAR)
    return settings


def _register_file(region) -> tuple[str, list[str]]:
    path = next((region["gen"] / "measures" / str(YEAR)).glob("*.csv"))
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0] == HEADER
    return path.name, lines


def _check(path):
    from rsoko_pipelines.cli import app

    result = CliRunner().invoke(app, ["extract", "check", str(path)], env={"COLUMNS": "400"})
    return result, re.sub(r"\s+", " ", result.output)


def test_generated_registers_load_with_the_suite(region, deployment):
    settings = deployment
    bf.link_year(region["gen"], settings.inbox_dir, YEAR, sources=["measures"])
    result = bf.ingest(settings, ["measures"], YEAR)["measures"]
    assert not result.quarantined, [q.message for q in result.quarantined]
    planted = [m for m in region["manifest"]["management_cycle"]["measures"]
               if m["start_date"] >= f"{YEAR - 1}-09-01"]
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT measure_code) FROM raw.measures"
                           ).fetchone()
    assert rows[0] == rows[1] >= len(planted) > 0


def test_a_broken_register_names_rows_and_columns(region, deployment, tmp_path):
    name, lines = _register_file(region)
    school = lines[1].split(";")[4] or region["manifest"]["management_cycle"]["measures"][0]["school_code"]
    bad = [HEADER,
           f"X-1;методическое сопровождение;1;ОО;{school};;01.10.2024;31.05.2025;VPR_BASIC_PCT;План",
           f"X-1;методическое сопровождение;1;ОО;{school};;01.10.2024;;VPR_BASIC_PCT;План",
           f"X-2;курсы для всех;1;ОО;{school};;01.10.2024;;VPR_BASIC_PCT;План",
           f"X-3;наставничество;7;МСУ;{school};;01.10.2024;;NO_SUCH_CODE;План",
           f"X-4;наставничество;7;ОО;{school};;01.10.2024;01.09.2024;OGE_FAIL_PCT;План"]
    path = tmp_path / "measures" / str(YEAR) / "реестр_с_ошибками.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    result, out = _check(path)
    assert result.exit_code == 1, out
    for check, header, line in (
            ("measure_code.unique_in_file", "Код меры", "2, 3"),
            ("measure_kind_known_in_seed", "Вид меры", "4"),
            ("target_code_matches_level", "Уровень", "5"),
            ("target_indicator_in_catalogue", "Целевой показатель", "5"),
            ("end_date.not_before_start", "Дата окончания", "6")):
        assert re.search(rf"{re.escape(check)}: .*?«{header}».*?rows: {line}", out), (check, out)
    assert "what to do:" in out and "None" not in out
    # an impossible date is the parser's: the file, the line and the column
    path.write_text("\n".join([HEADER, bad[1].replace("01.10.2024", "31.02.2025")]) + "\n",
                    encoding="utf-8")
    result, out = _check(path)
    assert result.exit_code == 1 and "Дата начала" in out and "rows: 2" in out, out


def test_a_corrected_register_replaces_the_year(region, deployment):
    settings = deployment
    name, lines = _register_file(region)
    inbox = settings.inbox_dir / "measures" / str(YEAR)
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = bf.ingest(settings, ["measures"], YEAR)["measures"]
    assert not first.quarantined
    corrected = lines[:-1]                                  # the last measure withdrawn
    (inbox / f"исправленный_{name}").write_text("\n".join(corrected) + "\n", encoding="utf-8")
    second = bf.ingest(settings, ["measures"], YEAR)["measures"]
    assert not second.quarantined
    rows = bf.registry_rows(settings, "source = 'measures'")
    assert sorted(r["status"] for r in rows) == ["loaded", "superseded"]
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM raw.measures").fetchone()[0]
    assert n == len(corrected) - 1
