"""The demo region model: determinism, sizes, identifier formats, planted truths."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from rsoko_pipelines.demo.region import build_region

SEED = 20250607
ADVANCED = {"лицей", "гимназия", "СОШ с УИОП"}


@pytest.fixture(scope="module")
def region_s():
    return build_region("S", SEED)


def _social_index(df: pd.DataFrame) -> pd.Series:
    """marts.md school_context: mean of z(higher ed), −z(low-income), −z(single), −z(non-native)."""
    def z(c):
        x = df[c].astype(float)
        return (x - x.mean()) / x.std(ddof=0)
    return (z("pct_parents_higher_ed") - z("pct_lowincome") - z("pct_singleparent")
            - z("pct_nonnative")) / 4


def test_deterministic_and_seed_sensitive(region_s):
    again = build_region("S", SEED)
    pd.testing.assert_frame_equal(region_s.schools, again.schools)
    pd.testing.assert_frame_equal(region_s.municipalities, again.municipalities)
    other = build_region("S", SEED + 1)
    assert not region_s.schools["school_effect"].equals(other.schools["school_effect"])
    assert set(region_s.schools["school_code"]) != set(other.schools["school_code"])


def test_rng_streams_are_independent_and_repeatable(region_s):
    a = region_s.rng("vpr", 2025).random(5)
    assert np.array_equal(a, region_s.rng("vpr", 2025).random(5))
    assert not np.array_equal(a, region_s.rng("vpr", 2024).random(5))
    assert not np.array_equal(a, build_region("S", SEED + 1).rng("vpr", 2025).random(5))


@pytest.mark.parametrize("tier,n,years", [("S", 600, [2023, 2024, 2025]), ("M", 1500, [2025]),
                                          ("F", 40000, [2025])])
def test_tier_sizes(tier, n, years):
    r = build_region(tier, SEED)
    assert r.years == years and r.region_code == "07"
    counts = r.schools.groupby("academic_year").size()
    assert counts.to_dict() == {y: n for y in years}       # incl. reorganised/liquidated rows
    assert r.schools.groupby("academic_year")["school_code"].nunique().eq(n).all()
    target = {"S": 300_000, "M": 1_300_000, "F": 18_000_000}[tier]
    total = r.schools_in(years[-1])["n_students"].sum()
    assert 0.9 * target < total < 1.1 * target
    n_msu = r.municipalities["msu_code"].nunique()
    assert {"S": (15, 25), "M": (35, 55), "F": (1000, 1099)}[tier][0] <= n_msu \
        <= {"S": (15, 25), "M": (35, 55), "F": (1000, 1099)}[tier][1]


def test_small_override_keeps_tier_years():
    r = build_region("S", SEED, n_schools=60)
    assert r.schools.groupby("academic_year").size().to_dict() == {2023: 60, 2024: 60, 2025: 60}


def test_identifier_formats(region_s):
    s = region_s.schools
    assert s["school_code"].map(type).eq(str).all()
    assert s["school_code"].str.fullmatch(r"07\d{4}").all()
    assert s["msu_code"].str.fullmatch(r"\d{2,3}").all()
    assert (s["msu_code"].str.len() == 3).any() and s["msu_code"].str.startswith("0").any()
    login = s["fis_login"].dropna()
    assert login.str.fullmatch(r"sch\d{6}").all()
    assert 0 < s["fis_login"].isna().sum() < 0.05 * len(s)
    with_login = s[s["fis_login"].notna()]
    assert (with_login["fis_login"].str[3:] != with_login["school_code"]).all()
    # РИС ГИА code: 4 digits, unique within the МСУ, empty iff no grade 9/11
    has_gia = s["max_grade"] >= 9
    assert s.loc[has_gia, "gia_code"].str.fullmatch(r"\d{4}").all()
    assert s.loc[~has_gia, "gia_code"].isna().all()
    one_year = s[s["academic_year"] == 2025].dropna(subset=["gia_code"])
    assert not one_year.duplicated(["msu_code", "gia_code"]).any()
    # stable across years
    codes = s.groupby("school_code")[["gia_code", "fis_login", "msu_code"]].nunique(dropna=False)
    assert (codes <= 1).all().all()


def test_f_codes_keep_leading_zeros():
    s = build_region("F", SEED).schools
    assert s["school_code"].str.fullmatch(r"\d{6}").all()
    assert s["school_code"].str.startswith("0").any()
    assert s["school_code"].is_unique


def test_f_municipality_file_labels_are_unique():
    """Per-municipality ВПР/РПР files are named after the municipality: the country tier
    repeats names with '№ N', and labels cut to 40 characters once overwrote each other."""
    from rsoko_pipelines.demo.vpr import _msu_label

    names = build_region("F", SEED).municipalities["msu_name"]
    assert names.is_unique
    labels = names.map(_msu_label)
    assert labels.is_unique, labels[labels.duplicated()].head().tolist()
    assert (labels.str.len() <= 45).all()


def test_kinds_settlement_and_sizes(region_s):
    s = region_s.schools_in(2025)
    kinds = s["school_kind"].value_counts(normalize=True)
    assert kinds.idxmax() == "СОШ" and 0.4 < kinds["СОШ"] < 0.75
    assert {"НОШ", "ООШ", "лицей", "гимназия", "СОШ с УИОП", "вечерняя школа"} <= set(kinds.index)
    assert set(s["settlement"]) == {"город", "село"}
    med = s.groupby("settlement")["n_students"].median()
    assert med["город"] > 3 * med["село"]
    assert (s.loc[s["school_kind"] == "НОШ", "max_grade"] == 4).all()
    assert (s.loc[s["school_kind"] == "ООШ", "max_grade"] == 9).all()
    for col in ("pct_ovz", "pct_nonnative", "pct_lowincome", "pct_singleparent",
                "pct_parents_higher_ed", "pct_vacancies"):
        assert s[col].between(0, 100).all()
    assert s["n_students_4_11"].le(s["n_students"]).all()
    # context follows settlement; effect follows context
    assert s.groupby("settlement")["pct_parents_higher_ed"].mean().idxmax() == "город"
    normal = s[~s["is_low_results"] & ~s["is_resilient"]]
    assert np.corrcoef(_social_index(normal), normal["school_effect"])[0, 1] > 0.1


def test_planted_sets(region_s):
    s = region_s.schools
    s = s.assign(is_inflating_vpr=s["is_inflating_vpr"] & ~s["is_inflating_lookalike"])
    flags = s[["is_low_results", "is_resilient", "is_inflating_vpr"]]
    assert (flags.sum(axis=1) <= 1).all(), "planted sets must be disjoint"
    per_year = flags.groupby(s["academic_year"]).sum()
    assert per_year["is_low_results"].between(18, 24).all()       # ~3.5 % of 600
    assert per_year["is_resilient"].between(15, 21).all()         # ~3 %
    assert per_year["is_inflating_vpr"].between(20, 28).all()     # ~4 %
    assert (s.loc[flags.any(axis=1), "status"] == "действующая").all()
    # disjoint across years too: a school is only ever in one set
    kind_of = s[flags.any(axis=1)].assign(k=flags.idxmax(axis=1)).groupby("school_code")["k"].nunique()
    assert (kind_of == 1).all()
    # most persist from one year to the next (so "two years running" is detectable)
    for col in flags.columns:
        a = set(s.loc[(s["academic_year"] == 2024) & s[col], "school_code"])
        b = set(s.loc[(s["academic_year"] == 2025) & s[col], "school_code"])
        assert len(a & b) >= 0.7 * len(b)


def test_low_results_and_resilient_properties(region_s):
    for year in region_s.years:
        s = region_s.schools[region_s.schools["academic_year"] == year]
        low = s[s["is_low_results"]]
        assert (low["max_grade"] == 11).all() and (low["min_grade"] <= 9).all()
        assert (low["students_per_grade"] >= 12).all()
        assert (low["school_effect"] < -2.0).all()
        res = s[s["is_resilient"]]
        assert not set(res["school_kind"]) & ADVANCED
        si = _social_index(s)
        assert (si[res.index] <= si.quantile(0.25)).all(), "resilient: least favourable quartile"
        effects = s.loc[~s["is_low_results"], "school_effect"]
        assert (res["school_effect"] > effects.quantile(0.85)).all()
        assert (res["school_effect"] < 1.2).all()


def test_reorganisations(region_s):
    s = region_s.schools
    reorg = s[s["status"] == "реорганизована"]
    assert 3 <= reorg.loc[reorg["academic_year"] == 2024].shape[0] <= 6
    assert (s.loc[s["academic_year"] == 2023, "status"] == "действующая").all()
    assert (s["status"] == "ликвидирована").sum() >= 2
    by_code = s.set_index(["academic_year", "school_code"])
    for row in reorg.itertuples():
        succ = by_code.loc[(row.academic_year, row.successor_code)]
        assert succ["msu_code"] == row.msu_code
        assert succ["status"] == "действующая"
        assert row.successor_code != row.school_code
    assert s.loc[s["status"] != "реорганизована", "successor_code"].isna().all()
    # once reorganised, always reorganised; before that, active
    first = reorg.groupby("school_code")["academic_year"].min()
    for code, year in first.items():
        hist = s[s["school_code"] == code].set_index("academic_year")["status"]
        assert (hist[hist.index < year] == "действующая").all()
        assert (hist[hist.index >= year] == "реорганизована").all()


def test_planted_methodology_truths(region_s):
    """Issue 21 (demo/planted.py): each year ~1.5 % of the schools with leaked answers, with a
    ВПР not confirmed by their ОГЭ, with a generous olympiad school stage, ~1.2 % inflating
    look-alikes of resilient schools; a school has at most one planted role over the years."""
    s = region_s.schools
    roles = pd.DataFrame({
        "low": s["is_low_results"], "res": s["is_resilient"],
        "infl": s["is_inflating_vpr"] & ~s["is_inflating_lookalike"],
        "leaked": s["vpr_leaked_form"].notna(), "nc": s["vpr_not_confirmed_subject"].notna(),
        "lookalike": s["is_inflating_lookalike"], "generous": s["is_olympiad_generous"]})
    per_year = roles.groupby(s["academic_year"]).sum()
    for col in ("leaked", "nc", "generous"):
        assert (per_year[col] == 9).all(), col                      # 1.5 % of 600
    assert (per_year["lookalike"] == 7).all()
    assert (s.loc[s["is_inflating_lookalike"], "is_inflating_vpr"]).all()
    assert (roles.sum(axis=1) <= 1).all()
    kinds = roles[roles.any(axis=1)].idxmax(axis=1).groupby(s["school_code"]).nunique()
    assert (kinds == 1).all(), "one role per school over the years"
    leaked = s[s["vpr_leaked_form"].notna()]
    subject_grade = leaked["vpr_leaked_form"].str.split(":", expand=True)
    assert set(subject_grade[0]) <= {"math", "rus"}
    grade = subject_grade[1].astype(int)
    assert (grade.between(leaked["min_grade"], leaked["max_grade"])).all()
    nc = s[s["vpr_not_confirmed_subject"].notna()]
    assert nc["gia_code"].notna().all() and (nc["max_grade"] >= 9).all()
    assert nc["school_effect"].between(-0.75, -0.4).all()          # ОГЭ average or low
    look = s[s["is_inflating_lookalike"]]
    for year, rows in look.groupby("academic_year"):
        si = _social_index(s[(s["academic_year"] == year) & (s["status"] == "действующая")])
        assert (si[rows.index] <= si.quantile(0.25)).all(), "look-alikes: least favourable quartile"
    assert (look["max_grade"] == 11).all()
    assert (s.loc[s["is_olympiad_generous"], "school_effect"] <= -0.25).all()

