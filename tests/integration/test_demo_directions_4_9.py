"""The demo generators of directions 4 and 9 and НИКО (issue 18): deterministic, files as the
contract says with their quirks, and planted truths that agree with the files (read back
independently of the pipeline, with csv / python-calamine)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest

from rsoko_pipelines.demo.generate import generate

SEED = 20250607
SOURCES = "schools,niko,population,career,survey,graduates,additional_ed"


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("d49")
    generate("S", SEED, out, sources=SOURCES, workers=1, n_schools=60, quiet=True)
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def test_same_seed_same_bytes_any_workers_and_order(region, tmp_path):
    out, _ = region
    other = tmp_path / "b"
    generate("S", SEED, other, sources=",".join(reversed(SOURCES.split(","))), workers=2,
             n_schools=60, quiet=True)
    assert _digests(out) == _digests(other)


def test_every_source_for_every_year(region):
    _, manifest = region
    years = set(manifest["years"])
    for source in SOURCES.split(","):
        assert {f["academic_year"] for f in manifest["files"] if f["source"] == source} == years


def test_planted_coverage_is_what_the_navigator_file_says(region):
    """Each child once, by residence, 5–18 by year of birth, enrolments only: the count made
    here from the CSV equals the manifest's planted numerator; the population file gives its
    denominator."""
    out, manifest = region
    planted = {(d["academic_year"], d["msu_code"]): d for d in manifest["additional_ed_coverage"]}
    for year in manifest["years"]:
        children = defaultdict(set)
        statuses, per_child = set(), defaultdict(list)
        for path in (out / "additional_ed" / str(year)).glob("*.csv"):
            for r in _csv(path):
                statuses.add(r["Статус"])
                per_child[r["Идентификатор ребёнка"]].append(r)
                age = year - 1 - int(r["Год рождения"])
                if r["Статус"] != "заявка" and 5 <= age <= 18:
                    children[r["Код МСУ"]].add(r["Идентификатор ребёнка"])
        population = defaultdict(int)
        for path in (out / "population" / str(year)).glob("*.csv"):
            for r in _csv(path):
                if 5 <= int(r["Возраст"]) <= 18:
                    population[r["Код МСУ"]] += int(r["Численность"])
        for msu, kids in children.items():
            d = planted[(year, msu)]
            assert len(kids) == d["children_5_18"] and population[msu] == d["population_5_18"]
            assert d["coverage_pct"] == pytest.approx(100 * len(kids) / population[msu])
        # the quirks: several programmes, several направленности, applications only,
        # children outside 5–18 and without a registry school
        assert statuses == {"зачислен", "отчислен", "заявка"}
        multi = [rows for rows in per_child.values() if len(rows) >= 3]
        assert any(len({r["Направленность"] for r in rows}) >= 2 for rows in multi)
        only_applied = [k for k, rows in per_child.items()
                        if all(r["Статус"] == "заявка" for r in rows)]
        assert len(only_applied) > 50
        ages = {year - 1 - int(rows[0]["Год рождения"]) for rows in per_child.values()}
        assert {3, 4, 19} <= ages
        assert any(r["Код ОО"] == "" and 7 <= year - 1 - int(r["Год рождения"]) <= 17
                   for rows in per_child.values() for r in rows)


def test_graduates_sums_column_orders_and_planted_neet(region):
    from python_calamine import CalamineWorkbook

    out, manifest = region
    planted = {(d["academic_year"], d["msu_code"]) for d in manifest["neet_municipalities"]}
    assert planted and len({m for _, m in planted}) >= 1
    orders, neet = set(), defaultdict(lambda: [0, 0])
    municipality_files = 0
    for f in manifest["files"]:
        if f["source"] != "graduates":
            continue
        rows = CalamineWorkbook.from_path(str(out / f["path"])).get_sheet_by_index(0).to_python()
        header, data = rows[0], [r for r in rows[1:] if any(c not in ("", None) for c in r)]
        orders.add(tuple(header))
        municipality_files += f["slice"].get("layout") == "municipality"
        total = header.index("Всего выпускников")
        cohort = header.index("Класс выпуска")
        for r in data:
            dest = sum(int(v) for i, v in enumerate(r)
                       if i not in (header.index("Код ОО"), total, cohort) and v not in ("", None))
            assert dest == int(r[total])
        if f["slice"].get("layout") == "municipality":
            c = header.index("Не учатся и не работают")
            key = (f["academic_year"], f["slice"]["msu_code"])
            neet[key][0] += sum(int(r[c]) for r in data)
            neet[key][1] += sum(int(r[total]) for r in data)
    assert municipality_files and len(orders) > 2       # each municipality its own order
    high = {k for k, (n, t) in neet.items() if t and 100 * n / t >= 10}
    assert high == {k for k in planted if k in neet}


def test_survey_quirks_and_planted_climate(region):
    out, manifest = region
    year = manifest["years"][-1]
    answers = [r for p in (out / "survey" / str(year)).glob("*.csv") for r in _csv(p)]
    assert any(r["Ответ"] == "" for r in answers)                        # skipped questions
    assert all(r["Класс"] == "" for r in answers if r["Анкета"] == "педагоги")
    three, = [d["school_code"] for d in manifest["survey_three_respondent_schools"]
              if d["academic_year"] == year]
    assert len({r["Код респондента"] for r in answers if r["Код ОО"] == three}) == 3
    poor = {d["school_code"] for d in manifest["poor_climate_schools"]
            if d["academic_year"] == year}
    assert poor


def test_niko_forms(region):
    from python_calamine import CalamineWorkbook

    out, manifest = region
    titles, headers = set(), set()
    for f in manifest["files"]:
        if f["source"] != "niko":
            continue
        rows = CalamineWorkbook.from_path(str(out / f["path"])).get_sheet_by_index(0).to_python()
        titles.add(rows[0][0])
        headers.add("Отметка" in rows[3])
        assert "Отметка по журналу" not in rows[3]
    assert all(t.startswith("НИКО ") for t in titles)
    assert any("Физическая культура" in t or "ОБЗР" in t for t in titles)   # outside ВПР
    assert headers == {True, False}               # some forms carry primary scores only
