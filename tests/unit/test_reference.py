"""Reference seeds: shape, concrete values and cross-seed consistency."""

from __future__ import annotations

import re

import pytest

from rsoko_pipelines import reference as ref
from rsoko_pipelines.settings import REPO_ROOT

YEARS = (2023, 2024, 2025, 2026)


def test_every_seed_loads_and_is_utf8_without_bom():
    for name in ref.seeds():
        raw = (ref.REFERENCE_DIR / f"{name}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), name
        assert len(ref.load(name)) > 0, name


def test_subjects():
    s = ref.subjects()
    assert len(s) == 17 + 5      # + the НИКО-only subjects (pe, obzr, music, art, tech)
    assert list(s["subject_code"])[0] == "rus" and list(s["subject_code"])[16] == "env"
    niko = ref.load("ref_niko_subjects")
    assert set(niko["subject_code"]) <= set(s["subject_code"])
    assert niko.set_index("niko_subject").loc["Физическая культура", "subject_code"] == "pe"
    by = s.set_index("subject_code")
    assert by.loc["rus", "ege_code"] == "01" and isinstance(by.loc["rus", "ege_code"], str)
    assert by.loc["math_base", "ege_code"] == "22"
    assert by.loc["inf", "ege_code"] == "25" and by.loc["inf", "oge_code"] == "05"
    assert by.loc["math", "oge_code"] == "02"
    assert by.loc["env", "vpr_subject"] == "Окружающий мир"


def test_gia_subjects_codes_and_names():
    g = ref.gia_subjects()
    ege = g[g.exam_kind == "EGE"]
    assert sorted(ege.source_subject_code) == [
        "01", "02", "03", "04", "06", "07", "08", "09", "10", "11", "12", "13", "18", "22", "25",
    ]
    names = dict(zip(ege.source_subject_code, ege.subject_name_ru))
    assert names["01"] == "Русский язык"
    assert names["02"] == "Математика профильная"
    assert names["22"] == "Математика базовая"
    assert names["25"] == "Информатика"
    assert set(ege[ege.source_subject_code == "22"].result_kind) == {"mark"}
    assert set(ege[ege.source_subject_code != "22"].result_kind) == {"test_score"}
    oge = g[g.exam_kind == "OGE"]
    assert sorted(oge.source_subject_code) == [f"{i:02d}" for i in range(1, 14)] + ["18"]
    gve = g[g.exam_kind == "GVE9"]
    assert set(gve.procedure) == {"OGE"} and set(gve.result_kind) == {"mark"}
    assert sorted(gve.source_subject_code) == sorted(f"{int(c) + 50:02d}" for c in oge.source_subject_code)
    oge_subj = dict(zip(oge.source_subject_code, oge.subject_code))
    for code, subj in zip(gve.source_subject_code, gve.subject_code):
        assert oge_subj[f"{int(code) - 50:02d}"] == subj


def test_known_exam_structures():
    rus = ref.gia_tasks("EGE", 2025, "01")
    assert len(rus) == 27 and rus.max_points.sum() == 50
    assert list(rus.answer_part).count("short") == 26
    assert rus.iloc[-1].answer_part == "extended"
    math = ref.gia_tasks("EGE", 2025, "02")
    assert math.max_points.sum() == 32
    assert (math.answer_part == "short").sum() == 12
    assert list(math[math.answer_part == "extended"].max_points) == [2, 3, 2, 2, 3, 4, 4]
    assert ref.gia_tasks("EGE", 2023, "02").max_points.sum() == 31
    assert ref.gia_tasks("EGE", 2025, "22").max_points.sum() == 21
    assert ref.gia_tasks("OGE", 2025, "02").max_points.sum() == 31
    # short tasks always precede extended ones (sheet order)
    spec = ref.load("ref_gia_task_spec")
    for _, grp in spec.groupby(["procedure", "academic_year", "source_subject_code"]):
        parts = list(grp.sort_values("task_no").answer_part)
        assert parts == sorted(parts, key=lambda p: p != "short")
        assert list(grp.sort_values("task_no").task_no) == list(range(1, len(grp) + 1))


@pytest.mark.parametrize("year", YEARS)
def test_ege_scales(year):
    mins = ref.load("ref_ege_min_scores")
    mins = mins[mins.academic_year == year]
    assert len(mins) == 15
    for code in mins.ege_subject_code:
        if code == "22":
            assert ref.ege_min_score(year, code) == (None, 3)
            continue
        scale = ref.ege_scale(year, code)
        assert scale[0] == 0 and scale[-1] == 100
        assert (scale[1:] >= scale[:-1]).all()
        assert len(scale) - 1 == ref.gia_tasks("EGE", year, code).max_points.sum()
        min_test, _ = ref.ege_min_score(year, code)
        first = int((scale >= min_test).argmax())
        assert scale[first] == min_test, (code, year)
    rus = ref.ege_scale(year, "01")
    assert rus[10] == 24 and rus[9] < 24
    assert ref.ege_scale(year, "02")[5] == 27 and ref.ege_scale(year, "02")[4] < 27
    assert ref.ege_min_score(year, "25") == (40, None)


def test_ege_min_scores_values():
    expected = {"01": 24, "02": 27, "03": 36, "04": 36, "25": 40, "06": 36, "07": 32, "08": 37,
                "12": 42, "18": 32, "09": 22, "10": 22, "11": 22, "13": 22}
    for code, value in expected.items():
        assert ref.ege_min_score(2025, code) == (value, None)


def test_mark_boundaries_contiguous_for_every_group():
    b = ref.load("ref_mark_boundaries")
    groups = b.groupby(["procedure", "academic_year", "subject_code", "grade"])
    assert len(groups) > 100
    for key, grp in groups:
        grp = grp.sort_values("mark")
        assert list(grp.mark) == [2, 3, 4, 5], key
        assert grp.min_primary_score.iloc[0] == 0, key
        assert (grp.min_primary_score.iloc[1:].to_numpy() == grp.max_primary_score.iloc[:-1].to_numpy() + 1).all(), key
        assert (grp.min_primary_score <= grp.max_primary_score).all(), key


def test_mark_boundaries_known_values():
    assert ref.mark_boundaries("VPR", 2025, "rus", 4) == [(2, 0, 13), (3, 14, 23), (4, 24, 32), (5, 33, 38)]
    assert ref.mark_boundaries("EGE", 2025, "math_base", 11) == [(2, 0, 6), (3, 7, 11), (4, 12, 16), (5, 17, 21)]
    assert ref.mark_boundaries("OGE", 2025, "math", 9) == [(2, 0, 7), (3, 8, 14), (4, 15, 21), (5, 22, 31)]
    assert list(ref.score_to_mark("VPR", 2025, "rus", 4, [0, 13, 14, 33, 38])) == [2, 2, 3, 5, 5]


def test_gia_mark_maxima_match_task_specs():
    g = ref.gia_subjects()
    for year in YEARS:
        for row in g[g.result_kind == "mark"].itertuples():
            grade = 11 if row.exam_kind == "EGE" else 9
            total = ref.gia_tasks(row.procedure, year, row.source_subject_code).max_points.sum()
            assert ref.max_primary(row.exam_kind, year, row.subject_code, grade) == total, row


VPR_FORMS = {
    4: {"rus", "math", "env"},
    5: {"rus", "math", "hist", "bio"},
    6: {"rus", "math", "hist", "bio", "geo", "soc"},
    7: {"rus", "math", "hist", "bio", "geo", "soc", "phys", "eng"},
    8: {"rus", "math", "hist", "bio", "geo", "soc", "phys", "chem"},
    10: {"hist", "bio", "geo", "phys", "chem"},
    11: {"hist", "bio", "geo", "phys", "chem"},
}


@pytest.mark.parametrize("year", YEARS)
def test_vpr_forms_and_sums(year):
    forms = ref.vpr_forms("VPR", year)
    got: dict[int, set[str]] = {}
    for _, subj, grade in forms:
        got.setdefault(grade, set()).add(subj)
    assert got == VPR_FORMS
    assert {(s, g) for _, s, g in ref.vpr_forms("RPR", year)} == {("rus", 5), ("math", 5), ("rus", 7), ("math", 7)}
    for proc in ("VPR", "RPR"):
        for _, subj, grade in ref.vpr_forms(proc, year):
            tasks = ref.vpr_tasks(proc, year, subj, grade)
            assert 6 <= len(tasks) <= 25
            assert tasks.max_points.sum() == ref.max_primary(proc, year, subj, grade), (proc, subj, grade)
            assert set(tasks.task_level) <= {"Б", "П", "В"}
            assert (tasks.task_level == "Б").sum() > len(tasks) / 2
            assert tasks.task.is_unique
            assert all(re.fullmatch(r"\d+(\.\d+)?|\d+К\d+", t) for t in tasks.task)


def test_vpr_known_forms():
    t = ref.vpr_tasks("VPR", 2025, "rus", 4)
    assert t.max_points.sum() == 38
    assert list(t.task[:2]) == ["1К1", "1К2"]
    assert "3.1" in set(t.task)
    assert list(ref.vpr_tasks("VPR", 2025, "rus", 6).task[:7]) == ["1К1", "1К2", "1К3", "2К1", "2К2", "2К3", "2К4"]


def test_literacy_levels_contiguous():
    lv = ref.load("ref_literacy_levels")
    assert set(lv.domain) == {"читательская", "математическая", "естественнонаучная", "финансовая",
                              "глобальные компетенции", "креативное мышление"}
    for domain, grp in lv.groupby("domain"):
        assert grp.level.iloc[0] == "ниже 1"
        assert (grp.min_score.iloc[1:].to_numpy() == grp.max_score.iloc[:-1].to_numpy()).all(), domain
    assert ref.literacy_level("математическая", 420.07) == "2"
    assert ref.literacy_level("математическая", 420.06) == "1"
    assert ref.literacy_level("читательская", 100.0) == "ниже 1"


def test_small_code_lists():
    kinds = ref.load("ref_school_kinds")
    assert len(kinds) == 9
    assert set(kinds[kinds.is_advanced].school_kind) == {"лицей", "гимназия", "СОШ с УИОП"}
    assert set(ref.load("ref_procedures").procedure) == {"EGE", "OGE", "GVE9", "VPR", "RPR", "NIKO"}
    oly = ref.load("ref_olympiad_subjects").set_index("subject_name_ru")["subject_code"]
    assert len(oly) == 24 and oly["Математика"] == "math" and oly["Информатика"] == "inf"
    assert oly.isna()["Право"]


def test_indicator_catalogue_covers_marts_md():
    marts = (REPO_ROOT.parent / "shared" / "domain" / "marts.md")
    cat = ref.load("indicator_catalogue").set_index("indicator_code")
    expected = {
        "EGE_FAIL_PCT": 1, "EGE_80PLUS_PCT": 1, "EGE_100_COUNT": 1, "OGE_FAIL_PCT": 1, "OGE_GOOD_PCT": 1,
        "VPR_BASIC_PCT": 1, "LIT_BELOW2_PCT": 1, "LOW_RESULTS_SCHOOLS_PCT": 2, "LOW_RESULTS_EXIT_PCT": 2,
        "RESILIENT_SCHOOLS_PCT": 2, "OLY_SCHOOL_STAGE_COVERAGE_PCT": 3, "OLY_REGIONAL_PRIZE_PER_1000": 3,
        "EGE_PROFILE_MATH_PCT": 4, "VPR_FLAGGED_SCHOOLS_PCT": 5, "VPR_FLAGGED_REPEAT_PCT": 5,
        "GIA_REMOVED_PER_1000": 5, "VPR_DEFICIT_TASKS_PCT": 8,
    }
    if marts.exists():  # the shared domain folder is outside the repo; use it when present
        listed = {code: int(d) for code, d in re.findall(
            r"^\| `([A-Z0-9_]+)` \| (\d) \|", marts.read_text(encoding="utf-8"), re.M)}
        assert set(expected) <= set(listed)
        # every catalogue code is one of marts.md, in its direction
        assert {c: listed.get(c) for c in cat.index} == cat.direction.to_dict()
    for code, direction in expected.items():
        assert cat.loc[code, "direction"] == direction
    assert set(cat.unit) <= {"%", "count", "per 1000", "points"}
    assert set(cat.desired_direction) <= {"up", "down"}
    assert cat.loc["HEAD_NOKUOD_MEAN", "unit"] == "points"
    assert cat.loc["EGE_100_COUNT", "unit"] == "count"
    assert cat.loc["GIA_REMOVED_PER_1000", "unit"] == "per 1000"


def test_unknown_seed_and_slice_raise():
    with pytest.raises(KeyError):
        ref.load("nope")
    with pytest.raises(KeyError):
        ref.mark_boundaries("VPR", 2025, "rus", 9)


def test_every_source_is_named_in_ref_sources():
    """marts.data_status lists the sources of this seed: a source missing from it would be
    absent from the status table operators and analysts read (every source is optional, so
    "not loaded" must still show)."""
    from rsoko_pipelines.settings import SOURCES

    seed = ref.load("ref_sources")
    assert list(seed.source) == list(SOURCES)
    assert seed.source_name_ru.str.len().min() > 3 and seed.source_name_en.str.len().min() > 3
    for directions in seed.directions:
        assert {int(d) for d in str(directions).split()} <= set(range(1, 10))
