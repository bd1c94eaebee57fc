"""ВсОШ and functional-literacy extracts of the demo generator, read with Python's csv."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.literacy import generate_literacy
from rsoko_pipelines.demo.olympiad import COLUMNS as OLY_COLUMNS, generate_olympiad
from rsoko_pipelines.demo.region import build_region

SEED = 20250607
STAGES = ["школьный", "муниципальный", "региональный", "заключительный"]


def read_csv(path) -> tuple[list[str], list[dict]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "UTF-8 without BOM"
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=";")
        rows = list(reader)
        return list(reader.fieldnames), rows


def num(text: str) -> float:
    return float(text.replace(",", "."))


@pytest.fixture(scope="module")
def region():
    return build_region("S", SEED, n_schools=120)


@pytest.fixture(scope="module")
def olympiad(region, tmp_path_factory):
    out = tmp_path_factory.mktemp("oly")
    recs = generate_olympiad(region, out)
    frames = {}
    for rec in recs:
        header, rows = read_csv(out / rec.path)
        assert header == OLY_COLUMNS
        assert rec.rows == len(rows)
        frames.setdefault(rec.academic_year, []).append(
            pd.DataFrame(rows).assign(_file=str(rec.path)))
    return recs, {y: pd.concat(f, ignore_index=True) for y, f in frames.items()}


def test_olympiad_files_and_spellings(olympiad, region):
    recs, years = olympiad
    assert set(years) == set(region.years)
    for year, df in years.items():
        assert len({r.path for r in recs if r.academic_year == year}) >= 2
        assert set(df["Этап"]) == set(STAGES)
        assert set(df["Статус"]) == {"участник", "призёр", "призер", "победитель"}
        has_comma = df["Балл"].str.contains(",") | df["Максимальный балл"].str.contains(",")
        has_point = df["Балл"].str.contains(r"\.") | df["Максимальный балл"].str.contains(r"\.")
        assert has_comma.any() and has_point.any(), year
        # a file uses one separator only
        for _f, part in df.groupby("_file"):
            assert not ((part["Балл"].str.contains(",")).any()
                        and (part["Балл"].str.contains(r"\.")).any())
        score, mx = df["Балл"].map(num), df["Максимальный балл"].map(num)
        assert ((score >= 0) & (score <= mx)).all()
        codes = set(region.schools_in(year)["school_code"])
        assert set(df["Код ОО"]) <= codes
        assert df["Код ОО"].str.fullmatch(r"\d{6}").all()
        subjects = set(ref.load("ref_olympiad_subjects")["subject_name_ru"])
        assert set(df["Предмет"]) <= subjects


def test_olympiad_stage_chain(olympiad):
    _recs, years = olympiad
    for year, df in years.items():
        g, gp = df["Класс обучения"].astype(int), df["Класс участия"].astype(int)
        assert g.between(4, 11).all() and (gp >= g).all() and (gp > g).any()
        # one student: one school, one class of study in the year
        per = df.groupby("Идентификатор участника").agg(s=("Код ОО", "nunique"),
                                                        g=("Класс обучения", "nunique"))
        assert (per["s"] == 1).all() and (per["g"] == 1).all()
        # at most one row per stage × subject × student
        assert not df.duplicated(["Этап", "Предмет", "Идентификатор участника"]).any()
        # a student advances only from the previous stage, with the same class of participation
        for prev, nxt in zip(STAGES, STAGES[1:]):
            a = df[df["Этап"] == prev].set_index(["Идентификатор участника", "Предмет"])
            b = df[df["Этап"] == nxt].set_index(["Идентификатор участника", "Предмет"])
            assert b.index.isin(a.index).all(), (year, nxt)
            assert (a.loc[b.index, "Класс участия"].to_numpy() == b["Класс участия"].to_numpy()).all()
        assert df.loc[df["Этап"] == "региональный", "Класс участия"].astype(int).ge(9).all()
        share = df["Этап"].value_counts(normalize=True)
        assert share["школьный"] > 0.7 and 0.1 < share["муниципальный"] < 0.25
        assert 0.005 < share["региональный"] < 0.05
        assert df["Этап"].eq("заключительный").sum() < 60


def test_olympiad_volume_and_better_schools_win_more(region, olympiad):
    _recs, years = olympiad
    year = region.years[-1]
    df = years[year]
    reg = region.schools_in(year)
    # scale.md: ≈ 150k participations for 600 schools → ≈ 30k for 120
    assert 15_000 < len(df) < 50_000
    prize = df["Статус"].isin(["призёр", "призер", "победитель"])
    per_school = prize.groupby(df["Код ОО"]).sum().reindex(reg["school_code"], fill_value=0)
    per_1000 = per_school.to_numpy() / reg["n_students_4_11"].clip(lower=1).to_numpy() * 1000
    top = reg["school_effect"].to_numpy() >= np.quantile(reg["school_effect"], 0.75)
    bottom = reg["school_effect"].to_numpy() <= np.quantile(reg["school_effect"], 0.25)
    assert per_1000[top].mean() > 1.3 * per_1000[bottom].mean()
    school_stage = df[df["Этап"] == "школьный"]
    st = school_stage["Статус"].value_counts(normalize=True)
    assert st["победитель"] < 0.15 and 0.1 < st["призёр"] + st["призер"] < 0.4


def test_literacy(region, tmp_path):
    recs = generate_literacy(region, tmp_path)
    assert [r.academic_year for r in recs] == region.years
    levels = ref.load("ref_literacy_levels")
    for rec in recs:
        header, rows = read_csv(tmp_path / rec.path)
        assert header == ["Код ОО", "Код участника", "Класс", "Направление", "Балл", "Уровень"]
        assert rec.rows == len(rows)
        df = pd.DataFrame(rows)
        assert set(df["Направление"]) == set(levels["domain"])
        assert set(df["Класс"]) <= {"7", "8", "9"}
        assert set(df["Код ОО"]) <= set(region.schools_in(rec.academic_year)["school_code"])
        assert not df.duplicated(["Код участника", "Направление"]).any()
        score = df["Балл"].map(num)
        # every level agrees with the seed cut scores (the reference's own scalar lookup)
        sample = df.sample(min(len(df), 400), random_state=0)
        for _i, r in sample.iterrows():
            assert ref.literacy_level(r["Направление"], num(r["Балл"])) == r["Уровень"]
        below2 = df["Уровень"].isin(["ниже 1", "1"])
        assert 0.15 < below2.mean() < 0.35
        assert ((score > 0) & (score < 1000)).all()
        reg = region.schools_in(rec.academic_year).set_index("school_code")
        low = df["Код ОО"].map(reg["is_low_results"]).astype(bool)
        if low.sum() >= 20:
            assert below2[low].mean() > below2[~low].mean() + 0.15
    # about 10k results for 600 schools: 120 schools give ≈ 2k
    assert 800 < recs[-1].rows < 4_000


def test_literacy_and_olympiad_are_deterministic(region, tmp_path):
    a = generate_literacy(region, tmp_path / "a", years=[region.years[-1]])
    b = generate_literacy(region, tmp_path / "b", years=[region.years[-1]])
    assert (tmp_path / "a" / a[0].path).read_bytes() == (tmp_path / "b" / b[0].path).read_bytes()
    c = generate_olympiad(region, tmp_path / "c", years=region.years[-1])
    d = generate_olympiad(region, tmp_path / "d", years=region.years[-1])
    assert [r.path for r in c] == [r.path for r in d]
    assert Counter(r.rows for r in c) == Counter(r.rows for r in d)
    assert (tmp_path / "c" / c[0].path).read_bytes() == (tmp_path / "d" / d[0].path).read_bytes()
