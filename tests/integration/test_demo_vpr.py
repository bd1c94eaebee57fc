"""ВПР/РПР forms of the demo generator, read back by independent readers.

A reduced region (60 schools) checks the file contract in detail; tier S (one year, the
real size) checks that the planted objectivity truth is detectable by the marts.md
``vpr_objectivity`` markers (re-implemented here in pandas, from the files alone).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.region import ADVANCED_KINDS, build_region
from rsoko_pipelines.demo.vpr import generate_vpr

SEED = 20250607
YEAR = 2025
LEAD = ["Муниципалитет", "Логин ОО", "Название ОО", "Код участника", "Класс", "Вариант"]
TAIL = ["Первичный балл", "Отметка", "Отметка по журналу"]
TITLE = re.compile(r"^(ВПР|РПР) (\d{4}) (.+) (\d{1,2}) класс$")
TASK = re.compile(r"^(\S+) \((\d+)б\)$")


def parse(path: Path) -> dict:
    """One form read with python-calamine, split into its parts (as an ingest would)."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    m = TITLE.match(str(rows[0][0]))
    assert m, rows[0][0]
    header = [str(v) for v in rows[3] if v != ""]
    data = rows[4:]
    n = len(data)
    while n and all(v in ("", None) for v in data[n - 1]):
        n -= 1
    trailing = len(data) - n
    df = pd.DataFrame([r[:len(header)] for r in data[:n]], columns=header)
    return {"proc": m.group(1), "year": int(m.group(2)), "subject": m.group(3),
            "grade": int(m.group(4)), "max_row": rows[1][0], "levels": rows[2],
            "header": header, "df": df, "trailing": trailing}


def subject_code(name: str) -> str:
    s = ref.subjects()
    return str(s.loc[s["vpr_subject"] == name, "subject_code"].iloc[0])


def points(cell) -> float:
    return 0.0 if cell in ("X", "Х", "-") else float(cell)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("vpr_small")
    region = build_region("S", SEED, n_schools=60)
    vpr = generate_vpr(region, out, "VPR", years=[YEAR], workers=1)
    rpr = generate_vpr(region, out, "RPR", years=YEAR, workers=1)
    parsed = {rec.path: parse(out / rec.path) for rec in vpr + rpr}
    return region, out, vpr, rpr, parsed


def test_layouts_quirks_and_record_rows(small):
    region, out, vpr, rpr, parsed = small
    assert {r.slice["layout"] for r in vpr} == {"region", "municipality", "school"}
    for rec in vpr + rpr:
        p = parsed[rec.path]
        assert rec.path.parts[:2] == (rec.source, str(YEAR))
        assert rec.rows == len(p["df"]) > 0
        assert p["subject"] == rec.slice["subject"] and p["grade"] == rec.slice["grade"]
        assert subject_code(p["subject"]) == rec.slice["subject_code"]
        assert p["proc"] == ("ВПР" if rec.source == "vpr" else "РПР")
        assert ("trailing_empty_rows" in rec.quirks) == (p["trailing"] > 0)
    quirks = Counter(q for r in vpr for q in r.quirks)
    for q in ("latin_X", "cyrillic_X", "not_assessed_dash", "no_journal_mark",
              "trailing_empty_rows", "extra_sheet"):
        assert quirks[q] > 0, q
    # the seeds' forms are all there, РПР only for its grades/subjects
    want = {(s, g) for (_y, s, g) in ref.vpr_forms("VPR", YEAR)}
    assert {(r.slice["subject_code"], r.slice["grade"]) for r in vpr} == want
    want_rpr = {(s, g) for (_y, s, g) in ref.vpr_forms("RPR", YEAR)}
    assert {(r.slice["subject_code"], r.slice["grade"]) for r in rpr} == want_rpr


def test_header_levels_max_and_scores_match_the_seeds(small):
    _region, _out, vpr, rpr, parsed = small
    cells = Counter()
    for rec in vpr + rpr:
        p = parsed[rec.path]
        proc = "VPR" if rec.source == "vpr" else "RPR"
        code = rec.slice["subject_code"]
        spec = ref.vpr_tasks(proc, YEAR, code, p["grade"])
        h = p["header"]
        assert h[:6] == LEAD and h[-3:] == TAIL
        task_cols = h[6:-3]
        parsed_tasks = [TASK.match(c).groups() for c in task_cols]
        assert [t for t, _ in parsed_tasks] == list(spec["task"])
        maxes = [int(m) for _, m in parsed_tasks]
        assert maxes == list(spec["max_points"])
        assert p["max_row"] == f"Максимальный первичный балл: {sum(maxes)}"
        assert p["levels"][6:6 + len(maxes)] == list(spec["task_level"])
        assert all(v == "" for v in p["levels"][:6] + p["levels"][6 + len(maxes):])
        df = p["df"]
        pts = df[task_cols].map(points)
        assert (pts.to_numpy() <= np.array(maxes)).all() and (pts.to_numpy() >= 0).all()
        primary = df["Первичный балл"].astype(float)
        assert (pts.sum(axis=1) == primary).all()
        marks = ref.score_to_mark(proc, YEAR, code, p["grade"], primary.astype(int).to_numpy())
        assert (df["Отметка"].astype(float).to_numpy() == marks).all()
        journal = df["Отметка по журналу"]
        assert set(journal.map(str)) <= {"2.0", "3.0", "4.0", "5.0", "", "НЕТ ОТМЕТКИ"}
        assert df["Логин ОО"].str.fullmatch(r"sch\d{6}").all()
        assert df["Класс"].str.fullmatch(rf"{p['grade']}[А-Я]").all()
        for c in task_cols:
            cells.update(v for v in df[c] if isinstance(v, str))
    assert cells["X"] > 0 and cells["Х"] > 0 and cells["-"] > 0
    assert any((parsed[r.path]["df"]["Отметка по журналу"] == "НЕТ ОТМЕТКИ").any() for r in vpr)


def test_participant_codes(small):
    region, _out, vpr, _rpr, parsed = small
    frames = []
    for rec in vpr:
        p = parsed[rec.path]
        frames.append(p["df"][["Логин ОО", "Код участника", "Класс"]].assign(
            subject=rec.slice["subject_code"], grade=p["grade"]))
    df = pd.concat(frames, ignore_index=True)
    # unique within school × subject-grade
    assert not df.duplicated(["Логин ОО", "subject", "grade", "Код участника"]).any()
    # one child, one code: within a school a code belongs to one grade and one class
    per_code = df.groupby(["Логин ОО", "Код участника"]).agg(
        grades=("grade", "nunique"), classes=("Класс", "nunique"), subjects=("subject", "nunique"))
    assert (per_code["grades"] == 1).all() and (per_code["classes"] == 1).all()
    # the same children write русский and математика in grade 4 (≥ 80 % overlap)
    g4 = df[df["grade"] == 4]
    rus = set(map(tuple, g4[g4["subject"] == "rus"][["Логин ОО", "Код участника"]].to_numpy()))
    math = set(map(tuple, g4[g4["subject"] == "math"][["Логин ОО", "Код участника"]].to_numpy()))
    assert len(rus & math) >= 0.8 * min(len(rus), len(math))
    # logins resolve in the registry of the year
    logins = set(region.schools_in(YEAR)["fis_login"].dropna())
    assert set(df["Логин ОО"]) <= logins


def test_small_file_with_openpyxl(small):
    _region, out, vpr, _rpr, parsed = small
    rec = min((r for r in vpr if r.slice["layout"] == "school"), key=lambda r: r.rows)
    ws = openpyxl.load_workbook(out / rec.path, read_only=True).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    p = parsed[rec.path]
    assert rows[0][0] == f"ВПР {YEAR} {p['subject']} {p['grade']} класс"
    assert [v for v in rows[3] if v is not None] == p["header"]
    data = [r for r in rows[4:] if any(v not in (None, "") for v in r)]
    assert len(data) == rec.rows
    assert all(isinstance(r[p["header"].index("Первичный балл")], int) for r in data)
    assert [str(r[3]) for r in data] == list(p["df"]["Код участника"])


def test_marks_and_journal_are_plausible(small):
    _region, _out, vpr, _rpr, parsed = small
    df = pd.concat([parsed[r.path]["df"][["Отметка", "Отметка по журналу"]] for r in vpr])
    share = df["Отметка"].value_counts(normalize=True)
    assert 0.02 < share[2.0] < 0.2 and 0.15 < share[5.0] < 0.4
    j = pd.to_numeric(df["Отметка по журналу"], errors="coerce")
    both = j.notna()
    confirmed = (df.loc[both, "Отметка"] == j[both]).mean()
    assert 0.55 < confirmed < 0.8
    assert 0.0 < (df.loc[both, "Отметка"] > j[both]).mean() < 0.25


def test_deterministic(small, tmp_path):
    region, out, vpr, _rpr, _parsed = small
    again = generate_vpr(region, tmp_path, "VPR", years=[YEAR], workers=2)
    assert [r.path for r in again] == [r.path for r in vpr]
    for rec in again[:: max(1, len(again) // 15)]:
        assert (tmp_path / rec.path).read_bytes() == (out / rec.path).read_bytes()


# ---------------------------------------------------------------------------------------
# tier S: the planted objectivity truth, detected from the files
# ---------------------------------------------------------------------------------------
def objectivity_markers(works: pd.DataFrame, advanced: set[str]) -> pd.DataFrame:
    """marts.md ``vpr_objectivity`` per school × subject × grade (a reference in pandas)."""
    key = ["subject", "grade", "school_code"]
    w = works.copy()
    w["has_j"] = w["journal"].notna()
    w["raised"] = w["has_j"] & (w["mark"] > w["journal"])
    for k in (0, 1, 2):
        w[f"n_b{k}"] = w["primary"] == w["b"] - k
    g = w.groupby(key)
    res = g.agg(participants=("primary", "size"), mean=("primary", "mean"),
                n_j=("has_j", "sum"), n_raised=("raised", "sum"),
                nb=("n_b0", "sum"), nb1=("n_b1", "sum"), nb2=("n_b2", "sum")).reset_index()
    res["pct_raised"] = np.where(res["n_j"] > 0, 100 * res["n_raised"] / res["n_j"].clip(lower=1),
                                 np.nan)
    res["ratio"] = (res["nb"] + 1) / ((res["nb1"] + res["nb2"]) / 2 + 1)
    sg = res.groupby(["subject", "grade"])
    res["p90"] = sg["pct_raised"].transform(lambda s: s.quantile(0.9))
    res["z"] = (res["mean"] - sg["mean"].transform("mean")) / sg["mean"].transform("std")
    res["m_raised"] = res["pct_raised"] > res["p90"]
    res["m_boundary"] = res["ratio"] >= 3
    res["m_high"] = (res["z"] >= 2) & ~res["school_code"].isin(advanced)
    res["eligible"] = res["participants"] >= 10
    res["flagged"] = res["eligible"] & (res[["m_raised", "m_boundary", "m_high"]].sum(axis=1) >= 2)
    return res


@pytest.mark.slow
def test_tier_s_objectivity_truth_is_detectable(tmp_path):
    region = build_region("S", SEED)
    recs = generate_vpr(region, tmp_path, "VPR", years=[YEAR])
    assert {r.slice["layout"] for r in recs} == {"region", "municipality", "school"}
    rows = sum(r.rows for r in recs)
    assert 500_000 < rows < 800_000                       # scale.md: ≈ 650k works a year
    reg = region.schools_in(YEAR)
    login_to_code = dict(zip(reg["fis_login"], reg["school_code"]))
    frames = []
    for rec in recs:
        p = parse(tmp_path / rec.path)
        b = [lo for m, lo, _ in ref.mark_boundaries("VPR", YEAR, rec.slice["subject_code"],
                                                     p["grade"]) if m == 3][0]
        df = p["df"]
        frames.append(pd.DataFrame({
            "subject": rec.slice["subject_code"], "grade": p["grade"],
            "school_code": df["Логин ОО"].map(login_to_code),
            "primary": df["Первичный балл"].astype(float),
            "mark": df["Отметка"].astype(float),
            "journal": pd.to_numeric(df["Отметка по журналу"], errors="coerce"),
            "b": b,
        }))
    works = pd.concat(frames, ignore_index=True)
    assert works["school_code"].notna().all()
    advanced = set(reg.loc[reg["school_kind"].isin(ADVANCED_KINDS), "school_code"])
    res = objectivity_markers(works, advanced)
    # non-objective: inflating, and the schools whose ВПР their ОГЭ does not confirm (issue
    # 21: raised marks and a high mean); the leaked-answers schools may or may not reach two
    # of these three markers, so they are left out
    truth = dict(zip(reg["school_code"], reg["is_inflating_vpr"]
                     | reg["vpr_not_confirmed_subject"].notna()))
    res["planted"] = res["school_code"].map(truth).astype(bool)
    res = res[~res["school_code"].isin(reg.loc[reg["vpr_leaked_form"].notna(), "school_code"])]
    elig = res[res["eligible"]]
    # planted schools are flagged in most of their planted subject-grades (every one of an
    # inflating school; the one subject a not-confirmed school inflates), honest ones rarely
    inflating = dict(zip(reg["school_code"], reg["is_inflating_vpr"]))
    own_subject = dict(zip(reg["school_code"], reg["vpr_not_confirmed_subject"]))
    planted_sg = elig["school_code"].map(inflating).astype(bool) | (
        elig["subject"] == elig["school_code"].map(own_subject))
    assert elig.loc[planted_sg, "flagged"].mean() >= 0.6
    assert elig.loc[~elig["planted"], "flagged"].mean() <= 0.002
    schools = res.groupby("school_code").agg(flagged=("flagged", "any"), planted=("planted", "first"))
    tp = int((schools["flagged"] & schools["planted"]).sum())
    recall = tp / int(schools["planted"].sum())
    precision = tp / max(1, int(schools["flagged"].sum()))
    print(f"objectivity check tier S {YEAR}: recall={recall:.3f} precision={precision:.3f} "
          f"per-sg planted flagged={elig.loc[elig['planted'], 'flagged'].mean():.3f}")
    assert recall >= 0.9 and precision >= 0.8
    # task mastery: some basic tasks are deficits region-wide, most are not
    # (checked on the works' marks only here; task-level mastery is in the small tests)
    share2 = (works["mark"] == 2).mean()
    assert 0.03 < share2 < 0.15
