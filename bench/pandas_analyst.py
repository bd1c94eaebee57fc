"""The analyst's alternative (issue 16): one pandas script, no platform.

    .venv/bin/python bench/pandas_analyst.py INBOX --out OUT            # compute, write OUT/*.parquet
    .venv/bin/python bench/pandas_analyst.py --out OUT --check DB       # compare OUT with a published DB
    .venv/bin/python bench/pandas_analyst.py INBOX --out OUT --check DB # both

What an analyst would write instead of the platform: read the raw extracts straight from the
inbox (`<inbox>/<source>/<year>/<files>`) with pandas (CSV) and python-calamine (XLSX), read
the reference tables an analyst would also use (the CSVs of dbt_project/seeds/reference:
subject codes, ЕГЭ minimum scores, mark boundaries, ГИА task specifications, thresholds,
school kinds), and compute three marts of ../shared/domain/marts.md. Nothing of
rsoko_pipelines is imported (that would not be the alternative).

Sources read: `schools` (the registry: the only link between the РИС ГИА codes
МСУ + ОО, the ФИС ОКО logins and the 6-digit school codes), `ege`, `oge` (cp1251 sheets, a
title line, footer lines, `Статус`), `vpr`, `rpr`, `niko` (ФИС ОКО forms: four title rows,
task columns `<task> (<max>б)`, X/Х = 0 points, `-` = not assessed).

Written to OUT (Parquet, one file per mart):
- `assessment_results` — every level (region, municipality, school) × procedure (EGE, OGE,
  GVE9, VPR, RPR, NIKO by its sample rule) × subject × grade: participants, n_removed,
  mean_primary_score, mean_test_score, mean_mark, pct_failed, pct_good, pct_high, n_top,
  is_suppressed (cells under 5 participants);
- `task_mastery` — every level × procedure × subject × grade × task: max_points,
  participants, mean_points, pct_mastered, is_deficit (ВПР/РПР/НИКО task columns; ГИА tasks
  from the short- and extended-answer strings with the task specification seed);
- `vpr_objectivity` — per year × school × subject × grade (ВПР): participants,
  n_with_journal_mark, pct_lowered/confirmed/raised, pct_gap_2plus, boundary_score,
  boundary_peak_ratio, mean_primary_score, z_vs_region and the region figures, bpv_minus_basic,
  oge_results, oge_z_same_subject, the five markers, n_markers, is_flagged;
- `vpr_objectivity_schools` — per year × school: participants, works_total, works_assessed,
  works_flagged, is_flagged, consecutive_flagged_years.

Rules the script reproduces: results of record of ГИА (per year × exam kind × subject ×
participant, the sitting with the latest exam date; the participant is the document series +
number, normalised — the platform hashes the same text, so the grouping is the same; a
removed or annulled result of record is not a participant but counts in n_removed); a file
delivered twice with the same bytes counts once; ГВЭ-9 (ОГЭ codes 51–68); the ЕГЭ minimum
scores and базовая математика's marks; НИКО publication (region, municipalities with ≥ 10
works, never schools); rows whose school is not in the year's registry are dropped (the
platform rejects them).

What it does not reproduce, and how --check deals with it (the comparison is restricted to
what the script can compute; nothing is forced to agree):
- ВПР/РПР works delivered twice in *different* files (a region file and a school file of the
  same subject × grade): the platform keeps the work of the most recently *loaded* file; the
  script cannot know the load order and keeps the first one it reads (the same work, unless
  one of the files was corrected). A corrected ГИА sheet that replaces an earlier version of
  the same slice is not recognised either: both would be read.
- Quarantine: the platform refuses a file that breaks the contract; the script reads what it
  can parse. On a clean demo region both read the same files.
- A year without its own registry: the platform serves it from another year's registry
  (int_registry_year); the script only attaches results of years that have a registry.
- Columns that are names and labels (municipality_name, school_name, procedure_name,
  task_description …) are not computed; --check compares the figures only.
So --check compares, for every key (year × level × territory × procedure × subject × grade
[× task]) present on either side, the figure columns above; a row only one side has is a
difference, except mart rows outside the script's scope (sources it does not read).
Tolerance: 1e-6 relative (or 1e-9 absolute) for measures, exact for counts (integer columns
on both sides), labels and flags; NULL equals only NULL.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "dbt_project" / "seeds" / "reference"
MIN_CELL = 5          # dbt var rsoko:min_cell_size (dbt_project.yml)
# the marts' exact averages (macro exact_avg) round their inputs to 1e-10: a difference that is
# truly 0 may read 1e-11 there and 1e-14 here (tier S: 3 of 13.1M cells before this tolerance)
ABS_TOL = 1e-9
GIA_FOOTERS = {"Средние", "Минимальная граница", "Всего участников"}
LEVEL_KEYS = ["academic_year", "level", "municipality_code", "school_code"]


def seed(name: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS / f"{name}.csv", dtype=str, keep_default_na=False)


def files_of(inbox: Path, source: str):
    """(year, path, sha256) of every file of a source, a file with the same bytes once."""
    seen = set()
    root = inbox / source
    if not root.is_dir():
        return
    for year_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        for path in sorted(p for p in year_dir.iterdir() if p.is_file()
                           and not p.name.startswith(".")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            yield int(year_dir.name), path, digest


def clean(s: pd.Series) -> pd.Series:
    return s.astype(str).str.replace("\xa0", " ").str.strip().replace({"": None, "nan": None,
                                                                        "None": None})


# --------------------------------------------------------------------------- registry
def read_registry(inbox: Path) -> pd.DataFrame:
    frames = []
    for year, path, _ in files_of(inbox, "schools"):
        df = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
        df["academic_year"] = year
        frames.append(df)
    reg = pd.concat(frames, ignore_index=True)
    out = pd.DataFrame({
        "academic_year": reg["academic_year"],
        "school_code": clean(reg["Код ОО"]),
        "msu_code": clean(reg["Код МСУ"]),
        "gia_code": clean(reg["Код ОО РИС ГИА"]),
        "fis_login": clean(reg["Логин ФИС ОКО"]).str.lower(),
        "school_kind": clean(reg["Вид ОО"]),
    })
    kinds = seed("ref_school_kinds")
    advanced = set(kinds.loc[kinds["is_advanced"] == "true", "school_kind"])
    out["is_advanced"] = out["school_kind"].isin(advanced)
    return out


# --------------------------------------------------------------------------- ГИА
TITLE_GIA = re.compile(r"^\s*(\d{2})\s*-\s*(.+?)\s+(\d{4})\.(\d{2})\.(\d{2})\s*$")


def read_gia(inbox: Path, source: str) -> pd.DataFrame:
    frames = []
    for year, path, digest in files_of(inbox, source):
        raw = path.read_bytes()
        try:
            text = raw.decode("cp1251")
        except UnicodeDecodeError:
            text = raw.decode("utf-8-sig")
        text = text.lstrip("\ufeff")
        title, _, body = text.partition("\n")
        m = TITLE_GIA.match(title.strip())
        if not m:
            print(f"skipped (title): {path}", file=sys.stderr)
            continue
        df = pd.read_csv(io.StringIO(body), sep=";", dtype=str, keep_default_na=False)
        df.columns = [c.strip() for c in df.columns]
        df["_line"] = np.arange(len(df)) + 3
        df = df[~df.iloc[:, 0].str.strip().isin(GIA_FOOTERS)]
        df = df[df.apply(lambda r: any(str(v).strip() for v in r.iloc[:-1]), axis=1)] \
            if len(df) else df
        out = pd.DataFrame({
            "academic_year": year,
            "source_subject_code": m[1],
            "exam_date": f"{m[3]}-{m[4]}-{m[5]}",
            "msu_code_file": clean(df["Код МСУ"]),
            "gia_code": clean(df["Код ОО"]),
            "participant": (df["Серия документа"].fillna("") + df["Номер документа"].fillna(""))
            .str.replace(r"[\s\-–—]", "", regex=True).str.upper().str.replace("Ё", "Е")
            .replace({"": None}),
            "short": df["Задания с кратким ответом"].str.replace(" ", "").str.strip()
            .replace({"": None}),
            "extended": df["Задания с развёрнутым ответом"].str.replace(" ", "").str.strip()
            .replace({"": None}),
            "primary_score": pd.to_numeric(df["Первичный балл"].str.strip(), errors="coerce"),
            "test_score": pd.to_numeric(df["Балл"].str.strip(), errors="coerce")
            if "Балл" in df and source == "ege" else np.nan,
            "mark": pd.to_numeric(df["Оценка"].str.strip(), errors="coerce")
            if "Оценка" in df else np.nan,
            "status": df["Статус"].str.strip().str.lower().str.replace("ё", "е")
            if "Статус" in df else "",
            "_file": digest, "_line": df["_line"],
        })
        frames.append(out)
    if not frames:
        return pd.DataFrame()
    gia = pd.concat(frames, ignore_index=True)
    gia["source_procedure"] = source.upper()
    subj = seed("ref_gia_subjects")
    subj = subj[subj["procedure"] == source.upper()]
    gia = gia.merge(subj[["source_subject_code", "subject_code", "exam_kind", "result_kind"]],
                    on="source_subject_code", how="left")
    gia = gia.rename(columns={"exam_kind": "procedure"})
    gia["grade"] = 11 if source == "ege" else 9
    gia["result_status"] = np.select(
        [gia["status"].fillna("") == "", gia["status"].str.startswith("удал", na=False),
         gia["status"].str.startswith("аннул", na=False)],
        ["ok", "removed", "annulled"], "unknown")
    return gia


def attach_gia(gia: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    cw = reg.dropna(subset=["gia_code"])[["academic_year", "msu_code", "gia_code", "school_code"]]
    gia = gia.merge(cw.rename(columns={"msu_code": "msu_code_file"}),
                    on=["academic_year", "msu_code_file", "gia_code"], how="left")
    gia = gia[gia["subject_code"].notna() & gia["participant"].notna()
              & gia["school_code"].notna() & (gia["result_status"] != "unknown")].copy()
    gia = gia.merge(reg[["academic_year", "school_code", "msu_code"]],
                    on=["academic_year", "school_code"], how="left")
    # the result of record: the latest sitting of the participant's subject
    gia = gia.sort_values(["exam_date", "_file", "_line"], ascending=False)
    gia["sitting_rank"] = gia.groupby(["academic_year", "procedure", "subject_code",
                                       "participant"]).cumcount() + 1
    gia["is_of_record"] = (gia["sitting_rank"] == 1) & (gia["result_status"] == "ok")
    mins = seed("ref_ege_min_scores")
    mins["academic_year"] = mins["academic_year"].astype(int)
    mins["min_test_score"] = pd.to_numeric(mins["min_test_score"], errors="coerce")
    mins["min_mark"] = pd.to_numeric(mins["min_mark"], errors="coerce")
    gia = gia.merge(mins.rename(columns={"ege_subject_code": "source_subject_code"})
                    [["academic_year", "source_subject_code", "min_test_score", "min_mark"]]
                    .assign(source_procedure="EGE"),
                    on=["academic_year", "source_procedure", "source_subject_code"], how="left")
    ege = gia["source_procedure"] == "EGE"
    by_test = ege & (gia["result_kind"] == "test_score")
    failed = pd.Series(pd.NA, index=gia.index, dtype="boolean")
    failed[by_test] = (gia.loc[by_test, "test_score"] < gia.loc[by_test, "min_test_score"]) \
        .where(gia.loc[by_test, "test_score"].notna() & gia.loc[by_test, "min_test_score"].notna())
    mk = ege & ~by_test
    failed[mk] = (gia.loc[mk, "mark"] < gia.loc[mk, "min_mark"].fillna(3)) \
        .where(gia.loc[mk, "mark"].notna())
    oge = ~ege
    failed[oge] = (gia.loc[oge, "mark"] <= 2).where(gia.loc[oge, "mark"].notna())
    failed[gia["result_status"] != "ok"] = pd.NA
    gia["is_failed"] = failed
    gia = gia.reset_index(drop=True)
    gia["result_id"] = np.arange(len(gia))
    return gia


def gia_tasks(gia: pd.DataFrame) -> pd.DataFrame:
    """Task cells of the ok results: short answers one character per task (+ = the spec's
    maximum, - = 0, a digit = points), then extended `p(m)` tasks, numbered on."""
    spec = seed("ref_gia_task_spec")
    spec = spec.astype({"academic_year": int, "task_no": int, "max_points": int})
    ok = gia[gia["result_status"] == "ok"]
    parts = []
    s = ok.dropna(subset=["short"])
    if len(s):
        chars = s["short"].map(list)
        cells = pd.DataFrame({"result_id": s["result_id"].repeat(chars.str.len()).to_numpy(),
                              "raw": np.concatenate(chars.to_numpy())})
        cells["task_no"] = cells.groupby("result_id").cumcount() + 1
        parts.append(cells)
    e = ok.dropna(subset=["extended"])
    if len(e):
        pts = e["extended"].str.findall(r"(\d+)\((\d+)\)")
        lens = pts.str.len()
        flat = [p for lst in pts for p in lst]
        cells = pd.DataFrame({"result_id": e["result_id"].repeat(lens).to_numpy(),
                              "raw": [p for p, _ in flat], "ext": True})
        n_short = e["short"].fillna("").str.len().repeat(lens).to_numpy()
        cells["task_no"] = cells.groupby("result_id").cumcount() + 1 + n_short
        parts.append(cells)
    cells = pd.concat(parts, ignore_index=True)
    cells["ext"] = cells["ext"].fillna(False).astype(bool) if "ext" in cells else False
    cells = cells.merge(ok[["result_id", "academic_year", "source_procedure",
                            "source_subject_code", "procedure", "subject_code", "grade",
                            "school_code", "msu_code", "is_of_record"]], on="result_id")
    cells = cells.merge(spec.rename(columns={"procedure": "source_procedure"})
                        [["source_procedure", "academic_year", "source_subject_code", "task_no",
                          "max_points"]],
                        on=["source_procedure", "academic_year", "source_subject_code",
                            "task_no"])
    raw = cells["raw"]
    pts = pd.to_numeric(raw.where(raw.str.fullmatch(r"\d")), errors="coerce")
    pts = pts.where(raw != "+", cells["max_points"]).where(raw != "-", 0)
    pts = pts.where(~cells["ext"], pd.to_numeric(raw, errors="coerce"))
    cells["points"] = pts.astype(float)
    cells["task"] = cells["task_no"].astype(str)
    cells["task_order"] = cells["task_no"]
    cells["task_level"] = None
    return cells


# --------------------------------------------------------------------------- ФИС ОКО forms
TASK_HEADER = re.compile(r"^(?P<task>\S+)\s*\((?P<max>\d+)\s*б\)$")
NO_MARK = {"нет отметки"}


def _text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return re.sub(r"\s+", " ", str(v).replace("\xa0", " ")).strip()


def read_forms(inbox: Path, source: str, reg: pd.DataFrame):
    procedure = {"vpr": "ВПР", "rpr": "РПР", "niko": "НИКО"}[source]
    code = {"vpr": "VPR", "rpr": "RPR", "niko": "NIKO"}[source]
    title_re = re.compile(rf"^{procedure}\s+(\d{{4}})\s+(.+?)\s+(\d{{1,2}})\s*(?:класс|кл\.?)$",
                          re.I)
    if source == "niko":
        names = seed("ref_niko_subjects").rename(columns={"niko_subject": "name"})
    else:
        names = seed("ref_subjects").rename(columns={"vpr_subject": "name"})
        names = names[names["name"] != ""]
    subjects = {n.lower(): c for n, c in zip(names["name"], names["subject_code"])}
    works, cells = [], []
    for year, path, digest in files_of(inbox, source):
        sheet = pd.read_excel(path, sheet_name=0, header=None, engine="calamine", dtype=object)
        title = next((_text(v) for v in sheet.iloc[0] if _text(v)), "")
        m = title_re.match(title)
        if not m:
            print(f"skipped (title): {path}", file=sys.stderr)
            continue
        subject_code = subjects.get(re.sub(r"\s+", " ", m[2]).strip().lower())
        grade = int(m[3])
        levels = [_text(v) for v in sheet.iloc[2]]
        header = [_text(v) for v in sheet.iloc[3]]
        data = sheet.iloc[4:]
        data = data.replace(r"^\s*$", np.nan, regex=True).dropna(how="all")
        task_cols = [(i, TASK_HEADER.match(h)) for i, h in enumerate(header)
                     if h[:1].isdigit() and TASK_HEADER.match(h)]
        col = {h: i for i, h in enumerate(header)}
        w = pd.DataFrame({
            "academic_year": year, "procedure": code, "subject_code": subject_code,
            "grade": grade,
            "fis_login": data.iloc[:, col["Логин ОО"]].map(_text).str.lower().to_numpy(),
            "participant_code": data.iloc[:, col["Код участника"]].map(_text).to_numpy(),
            "primary_score": pd.to_numeric(data.iloc[:, col["Первичный балл"]].map(_text),
                                           errors="coerce").to_numpy(),
            "mark": pd.to_numeric(data.iloc[:, col["Отметка"]].map(_text), errors="coerce")
            .to_numpy() if "Отметка" in col else np.nan,
        })
        if "Отметка по журналу" in col:
            j = data.iloc[:, col["Отметка по журналу"]].map(_text)
            w["journal_mark"] = pd.to_numeric(j.where(j.str.isdigit()), errors="coerce").to_numpy()
        else:
            w["journal_mark"] = np.nan
        w["_file"], w["_line"] = digest, np.arange(len(w))
        w["work_no"] = len(works)   # file number; with _line the work's identity
        works.append(w)
        for order, (i, tm) in enumerate(task_cols, start=1):
            raw = data.iloc[:, i].map(_text).str.upper().str.replace("Х", "X")
            pts = pd.to_numeric(raw.str.replace(",", "."), errors="coerce")
            pts = pts.where(raw != "X", 0.0)
            cells.append(pd.DataFrame({
                "work_no": len(works) - 1, "_line": np.arange(len(raw)),
                "task_order": order, "task": tm["task"], "max_points": int(tm["max"]),
                "task_level": levels[i] or None, "points": pts.to_numpy()}))
    if not works:
        return pd.DataFrame(), pd.DataFrame()
    w = pd.concat(works, ignore_index=True)
    w = w.merge(reg[["academic_year", "fis_login", "school_code", "msu_code"]],
                on=["academic_year", "fis_login"], how="left")
    w = w[w["subject_code"].notna() & (w["participant_code"] != "") & w["school_code"].notna()]
    # a work delivered in two files (region and school layouts): the first one read counts
    w["is_of_record"] = ~w.duplicated(["academic_year", "procedure", "subject_code", "grade",
                                       "school_code", "participant_code"])
    w["result_status"] = "ok"
    w["is_failed"] = (w["mark"] <= 2).where(w["mark"].notna())
    c = pd.concat(cells, ignore_index=True)
    c = c.merge(w[["work_no", "_line", "academic_year", "procedure", "subject_code", "grade",
                   "school_code", "msu_code", "is_of_record"]], on=["work_no", "_line"])
    return w, c


# --------------------------------------------------------------------------- marts
def levels(df: pd.DataFrame, keys: list[str], agg) -> pd.DataFrame:
    """agg(grouped frame) at region, municipality and school level from the same rows."""
    out = []
    for level, extra in (("region", []), ("municipality", ["msu_code"]),
                         ("school", ["msu_code", "school_code"])):
        g = agg(df, keys + extra).reset_index()
        g["level"] = level
        out.append(g)
    r = pd.concat(out, ignore_index=True)
    r = r.rename(columns={"msu_code": "municipality_code"})
    for c in ("municipality_code", "school_code"):
        if c not in r:
            r[c] = None
    return r


def assessment_results(res: pd.DataFrame) -> pd.DataFrame:
    res = res.copy()
    rec = res["is_of_record"]
    ts, mk = res["test_score"], res["mark"]
    res["rec"] = rec.astype(int)
    res["removed"] = res["result_status"].isin(["removed", "annulled"]).astype(int)
    res["ps_rec"] = res["primary_score"].where(rec)
    res["ts_rec"] = ts.where(rec & (res["procedure"] == "EGE"))
    res["mk_rec"] = mk.where(rec & ts.isna())
    res["with_result"] = (rec & (ts.notna() | mk.notna())).astype(int)
    res["failed"] = (rec & res["is_failed"].fillna(False).astype(bool)).astype(int)
    res["good"] = (rec & np.where(ts.notna(), ts >= 70, mk >= 4)).astype(int)
    res["high"] = (rec & np.where(ts.notna(), ts >= 80, mk == 5)).astype(int)
    res["top"] = (rec & (ts == 100)).astype(int)

    def agg(df, keys):
        return df.groupby(keys, dropna=False, observed=True).agg(
            participants=("rec", "sum"), n_removed=("removed", "sum"),
            mean_primary_score=("ps_rec", "mean"), mean_test_score=("ts_rec", "mean"),
            mean_mark=("mk_rec", "mean"), n_with_result=("with_result", "sum"),
            n_failed=("failed", "sum"), n_good=("good", "sum"), n_high=("high", "sum"),
            n_top=("top", "sum"))

    keys = ["academic_year", "procedure", "subject_code", "grade"]
    r = levels(res, keys, agg)
    den = r["n_with_result"].replace(0, np.nan)
    for name, n in (("pct_failed", "n_failed"), ("pct_good", "n_good"), ("pct_high", "n_high")):
        r[name] = 100.0 * r[n] / den
    r["n_top"] = r["n_top"].where(r["procedure"] == "EGE")
    r["is_suppressed"] = r["participants"] < MIN_CELL
    for c in ("mean_primary_score", "mean_test_score", "mean_mark", "pct_failed", "pct_good",
              "pct_high"):
        r[c] = r[c].where(~r["is_suppressed"])
    r = sample_rule(r, r["participants"])
    return r[LEVEL_KEYS + ["procedure", "subject_code", "grade", "participants", "n_removed",
                           "mean_primary_score", "mean_test_score", "mean_mark", "pct_failed",
                           "pct_good", "pct_high", "n_top", "is_suppressed"]]


def sample_rule(r: pd.DataFrame, works: pd.Series) -> pd.DataFrame:
    """НИКО (a sample): region rows, municipality rows with ≥ 10 works, never school rows."""
    rules = seed("ref_sample_rules")
    keep = pd.Series(True, index=r.index)
    for _, rule in rules.iterrows():
        p = r["procedure"] == rule["procedure"]
        keep &= ~p | (r["level"] == "region") | (
            (r["level"] == "municipality") & (works >= int(rule["min_participants_municipality"])))\
            | ((r["level"] == "school") & (rule["school_level_published"] == "true"))
    return r[keep].reset_index(drop=True)


def task_mastery(cells: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    thr = seed("ref_methodology_thresholds").set_index("threshold_code")["value"].astype(float)
    c = cells[cells["is_of_record"] & cells["points"].notna()]
    keys = ["academic_year", "procedure", "subject_code", "grade", "task_order", "task"]

    def agg(df, k):
        return df.groupby(k, dropna=False, observed=True).agg(
            task_level=("task_level", "max"), max_points=("max_points", "max"),
            participants=("points", "size"), sum_points=("points", "sum"))

    r = levels(c, keys, agg)
    r["mean_points"] = r["sum_points"] / r["participants"]
    r["pct_mastered"] = 100.0 * r["mean_points"] / r["max_points"].replace(0, np.nan)
    r["is_suppressed"] = r["participants"] < MIN_CELL
    deficit = np.where(r["task_level"] == "Б", thr["task_deficit_pct_basic"],
                       np.where(r["task_level"].isin(["П", "В"]),
                                thr["task_deficit_pct_advanced"], np.nan))
    r["is_deficit"] = pd.Series(r["pct_mastered"] < deficit, dtype="boolean") \
        .where(~np.isnan(deficit) & ~r["is_suppressed"].to_numpy())
    r["mean_points"] = r["mean_points"].where(~r["is_suppressed"])
    r["pct_mastered"] = r["pct_mastered"].where(~r["is_suppressed"])
    # the НИКО threshold counts the works of record of the municipality, not a task's cells
    works = results[results["is_of_record"]].groupby(
        ["academic_year", "procedure", "subject_code", "grade", "msu_code"]).size() \
        .rename("works").reset_index().rename(columns={"msu_code": "municipality_code"})
    r = r.merge(works, on=["academic_year", "procedure", "subject_code", "grade",
                           "municipality_code"], how="left")
    r = sample_rule(r, r["works"].where(r["level"] == "municipality"))
    for c in r.columns:
        if isinstance(r[c].dtype, pd.CategoricalDtype):
            r[c] = r[c].astype(object)
    return r[LEVEL_KEYS + ["procedure", "subject_code", "grade", "task_order", "task",
                           "task_level", "max_points", "participants", "mean_points",
                           "pct_mastered", "is_deficit", "is_suppressed"]]


def sd_samp(x: pd.Series) -> float:
    return x.std(ddof=1)


def vpr_objectivity(works: pd.DataFrame, gia: pd.DataFrame, tm: pd.DataFrame,
                    reg: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    thr = seed("ref_methodology_thresholds").set_index("threshold_code")["value"].astype(float)
    w = works[(works["procedure"] == "VPR") & works["is_of_record"]].copy()
    b = seed("ref_mark_boundaries")
    b = b[(b["procedure"] == "VPR") & (b["mark"] == "3")]
    b = b.astype({"academic_year": int, "grade": int, "min_primary_score": int})
    w = w.merge(b[["academic_year", "subject_code", "grade", "min_primary_score"]]
                .rename(columns={"min_primary_score": "b"}),
                on=["academic_year", "subject_code", "grade"], how="left")
    jm, mk, ps = w["journal_mark"], w["mark"], w["primary_score"]
    w["has_j"] = jm.notna().astype(int)
    w["lowered"] = (jm.notna() & (mk < jm)).astype(int)
    w["confirmed"] = (jm.notna() & (mk == jm)).astype(int)
    w["raised"] = (jm.notna() & (mk > jm)).astype(int)
    w["gap2"] = ((mk - jm).abs() >= 2).astype(int)
    w["at_b"] = (ps == w["b"]).astype(int)
    w["at_b1"] = (ps == w["b"] - 1).astype(int)
    w["at_b2"] = (ps == w["b"] - 2).astype(int)
    keys = ["academic_year", "subject_code", "grade", "school_code"]
    s = w.groupby(keys).agg(
        municipality_code=("msu_code", "first"), participants=("grade", "size"),
        n_with_journal_mark=("has_j", "sum"), n_lowered=("lowered", "sum"),
        n_confirmed=("confirmed", "sum"), n_raised=("raised", "sum"),
        n_gap=("gap2", "sum"), boundary_score=("b", "max"), nb=("at_b", "sum"),
        nb1=("at_b1", "sum"), nb2=("at_b2", "sum"),
        mean_primary_score=("primary_score", "mean")).reset_index()
    den = s["n_with_journal_mark"].replace(0, np.nan)
    s["pct_lowered"] = 100.0 * s["n_lowered"] / den
    s["pct_confirmed"] = 100.0 * s["n_confirmed"] / den
    s["pct_raised"] = 100.0 * s["n_raised"] / den
    s["pct_gap_2plus"] = 100.0 * s["n_gap"] / den
    s["boundary_peak_ratio"] = ((s["nb"] + 1) / ((s["nb1"] + s["nb2"]) / 2.0 + 1)) \
        .where(s["boundary_score"].notna())
    # the school's mastery of П/В tasks minus Б tasks (task_mastery, school level)
    t = tm[(tm["level"] == "school") & (tm["procedure"] == "VPR")]
    tl = t.groupby(keys).apply(lambda g: pd.Series({
        "basic": g.loc[g["task_level"] == "Б", "pct_mastered"].mean(),
        "bpv": g.loc[g["task_level"].isin(["П", "В"]), "pct_mastered"].mean()}),
        include_groups=False).reset_index()
    s = s.merge(tl, on=keys, how="left")
    s["bpv_minus_basic"] = s["bpv"] - s["basic"]
    # the school's mean ОГЭ mark in the subject, z over schools with ≥ 10 results
    o = gia[(gia["procedure"] == "OGE") & gia["is_of_record"] & gia["mark"].notna()]
    o = o.groupby(["academic_year", "subject_code", "school_code"]).agg(
        oge_results=("mark", "size"), oge_mean=("mark", "mean")).reset_index()
    enough = o["oge_results"] >= thr["oge_z_min_results"]
    o["m"] = o.groupby(["academic_year", "subject_code"])["oge_mean"].transform(
        lambda x: x[o.loc[x.index, "oge_results"] >= thr["oge_z_min_results"]].mean())
    o["sd"] = o.groupby(["academic_year", "subject_code"])["oge_mean"].transform(
        lambda x: sd_samp(x[o.loc[x.index, "oge_results"] >= thr["oge_z_min_results"]]))
    o["oge_z_same_subject"] = ((o["oge_mean"] - o["m"]) / o["sd"].replace(0, np.nan)) \
        .where(enough)
    s = s.merge(o[["academic_year", "subject_code", "school_code", "oge_results",
                   "oge_z_same_subject"]], on=["academic_year", "subject_code", "school_code"],
                how="left")
    region = s.groupby(["academic_year", "subject_code", "grade"])
    s["region_p90_pct_raised"] = region["pct_raised"].transform(
        lambda x: x.dropna().quantile(thr["vpr_raised_region_quantile"]) if x.notna().any()
        else np.nan)
    s["region_mean_of_school_means"] = region["mean_primary_score"].transform("mean")
    s["region_sd_of_school_means"] = region["mean_primary_score"].transform(sd_samp)
    s["z_vs_region"] = (s["mean_primary_score"] - s["region_mean_of_school_means"]) \
        / s["region_sd_of_school_means"].replace(0, np.nan)
    s = s.merge(reg[["academic_year", "school_code", "is_advanced"]],
                on=["academic_year", "school_code"], how="left")
    s["is_suppressed"] = s["participants"] < MIN_CELL
    assessed = (s["participants"] >= thr["vpr_markers_min_participants"]) & ~s["is_suppressed"]

    def marker(cond):
        return pd.Series(cond.fillna(False).astype(bool), dtype="boolean").where(assessed)

    s["marker_raised"] = marker(s["pct_raised"] > s["region_p90_pct_raised"])
    s["marker_boundary"] = marker(s["boundary_peak_ratio"] >= thr["vpr_boundary_peak_ratio_min"])
    s["marker_high_vs_region"] = marker((s["z_vs_region"] >= thr["vpr_high_vs_region_z_min"])
                                        & ~s["is_advanced"].fillna(False).astype(bool))
    s["marker_task_inversion"] = marker(s["bpv_minus_basic"] >= thr["vpr_task_inversion_gap_min"])
    s["marker_not_confirmed"] = marker((s["z_vs_region"] >= thr["vpr_not_confirmed_vpr_z_min"])
                                       & (s["oge_z_same_subject"]
                                          <= thr["vpr_not_confirmed_oge_z_max"]))
    ms = ["marker_raised", "marker_boundary", "marker_high_vs_region", "marker_task_inversion",
          "marker_not_confirmed"]
    s["n_markers"] = s[ms].astype("Int64").sum(axis=1, min_count=1).where(assessed)
    s["is_flagged"] = (assessed & (s["n_markers"] >= thr["vpr_flag_min_markers"])).fillna(False)
    for c in ("pct_lowered", "pct_confirmed", "pct_raised", "pct_gap_2plus",
              "boundary_peak_ratio", "mean_primary_score", "z_vs_region", "bpv_minus_basic",
              "oge_z_same_subject"):
        s[c] = s[c].where(~s["is_suppressed"])
    obj = s[["academic_year", "municipality_code", "school_code", "subject_code", "grade",
             "participants", "n_with_journal_mark", "pct_lowered", "pct_confirmed",
             "pct_raised", "pct_gap_2plus", "boundary_score", "boundary_peak_ratio",
             "mean_primary_score", "z_vs_region", "region_p90_pct_raised",
             "region_mean_of_school_means", "region_sd_of_school_means", *ms[:3],
             "bpv_minus_basic", "marker_task_inversion", "oge_results", "oge_z_same_subject",
             "marker_not_confirmed", "n_markers", "is_flagged", "is_suppressed"]]

    sc = obj.groupby(["academic_year", "school_code"]).agg(
        municipality_code=("municipality_code", "first"), participants=("participants", "sum"),
        works_total=("grade", "size"), works_assessed=("n_markers", "count"),
        works_flagged=("is_flagged", "sum")).reset_index()
    sc["is_flagged"] = sc["works_flagged"] > 0
    sc = sc.sort_values(["school_code", "academic_year"])
    run = []
    prev = {}
    for school, year, flagged in zip(sc["school_code"], sc["academic_year"], sc["is_flagged"]):
        p = prev.get(school)
        n = (p[1] + 1 if p and p[0] == year - 1 and p[1] > 0 else 1) if flagged else 0
        # the mart counts consecutive *rows* of the school (its island of academic years)
        prev[school] = (year, n)
        run.append(n)
    sc["consecutive_flagged_years"] = run
    sc["is_suppressed"] = sc["participants"] < MIN_CELL
    return obj.reset_index(drop=True), sc.reset_index(drop=True)


def compute(inbox: Path, out: Path) -> dict:
    started = time.perf_counter()
    reg = read_registry(inbox)
    gia_parts = [read_gia(inbox, s) for s in ("ege", "oge")]
    gia = pd.concat([g for g in gia_parts if len(g)], ignore_index=True)
    gia = attach_gia(gia, reg)
    forms = [read_forms(inbox, s, reg) for s in ("vpr", "rpr", "niko")]
    works = pd.concat([f[0] for f in forms if len(f[0])], ignore_index=True)
    wcells = pd.concat([f[1] for f in forms if len(f[1])], ignore_index=True)
    read_s = time.perf_counter() - started
    cols = ["academic_year", "procedure", "subject_code", "grade", "school_code", "msu_code",
            "result_status", "is_of_record", "is_failed", "primary_score", "test_score", "mark"]
    works["test_score"] = np.nan
    results = pd.concat([gia[cols], works[cols]], ignore_index=True)
    ar = assessment_results(results)
    tcols = ["academic_year", "procedure", "subject_code", "grade", "school_code", "msu_code",
             "is_of_record", "task_order", "task", "task_level", "max_points", "points"]
    cells = pd.concat([gia_tasks(gia)[tcols], wcells[tcols]], ignore_index=True)
    del wcells
    for c in ("procedure", "subject_code", "school_code", "msu_code", "task"):
        cells[c] = cells[c].astype("category")      # millions of repeated labels
    tm = task_mastery(cells, results)
    obj, obj_schools = vpr_objectivity(works, gia, tm, reg)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (("assessment_results", ar), ("task_mastery", tm),
                     ("vpr_objectivity", obj), ("vpr_objectivity_schools", obj_schools)):
        df.to_parquet(out / f"{name}.parquet", index=False)
    figures = {"read_s": round(read_s, 2), "seconds": round(time.perf_counter() - started, 2),
               "results": len(results), "task_cells": len(cells),
               "rows": {"assessment_results": len(ar), "task_mastery": len(tm),
                        "vpr_objectivity": len(obj),
                        "vpr_objectivity_schools": len(obj_schools)}}
    print(f"computed in {figures['seconds']} s (reading {figures['read_s']} s): "
          f"{len(results):,} results, {len(cells):,} task cells → {out}")
    return figures


# --------------------------------------------------------------------------- --check
KEYS = {
    "assessment_results": LEVEL_KEYS + ["procedure", "subject_code", "grade"],
    "task_mastery": LEVEL_KEYS + ["procedure", "subject_code", "grade", "task_order", "task"],
    "vpr_objectivity": ["academic_year", "school_code", "subject_code", "grade"],
    "vpr_objectivity_schools": ["academic_year", "school_code"],
}


def _key(row, keys) -> str:
    return "(" + ", ".join(f"{k}={row[k]}" for k in keys if row[k] != "∅") + ")"


def _show(value) -> str:
    return "NULL" if pd.isna(value) else repr(value.item() if hasattr(value, "item") else value)


def check(out: Path, db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    compared = equal = 0
    rows_only_script = rows_only_mart = 0
    examples: list[str] = []
    per_table = {}
    for table, keys in KEYS.items():
        mine = pd.read_parquet(out / f"{table}.parquet")
        figures = [c for c in mine.columns if c not in keys]
        cols = ", ".join(keys + [c for c in figures if c not in keys])
        theirs = con.execute(f"select {cols} from marts.{table}").df()
        for k in keys:
            if k in ("academic_year", "grade", "task_order"):
                mine[k] = mine[k].astype("Int64")
                theirs[k] = theirs[k].astype("Int64")
            else:
                mine[k] = mine[k].astype(object).where(mine[k].notna(), None)
                theirs[k] = theirs[k].astype(object).where(theirs[k].notna(), None)
        key_fill = {k: "∅" for k in keys if mine[k].dtype == object}
        m = mine.fillna(key_fill).merge(theirs.fillna(key_fill), on=keys, how="outer",
                                        suffixes=("_s", "_m"), indicator=True)
        only_s = int((m["_merge"] == "left_only").sum())
        only_m = int((m["_merge"] == "right_only").sum())
        rows_only_script += only_s
        rows_only_mart += only_m
        for kind, n in (("left_only", only_s), ("right_only", only_m)):
            for _, r in m[m["_merge"] == kind].head(3).iterrows():
                if len(examples) < 10:
                    examples.append(f"{table} {_key(r, keys)}: row only in "
                                    + ("the script" if kind == "left_only" else "the mart"))
        both = m[m["_merge"] == "both"]
        t_cmp = t_eq = 0
        for c in figures:
            a, b = both[f"{c}_s"], both[f"{c}_m"]
            an, bn = a.isna().to_numpy(), b.isna().to_numpy()
            if a.dtype == bool or b.dtype == bool or str(a.dtype) == "boolean" \
                    or str(b.dtype) == "boolean":
                av = a.astype("boolean").fillna(False).to_numpy()
                bv = b.astype("boolean").fillna(False).to_numpy()
                same = (an & bn) | (~an & ~bn & (av == bv))
            elif not (pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)):
                # labels such as task_level
                same = (an & bn) | (~an & ~bn & (a.astype(str).to_numpy()
                                                 == b.astype(str).to_numpy()))
            else:
                av = pd.to_numeric(a, errors="coerce").astype(float).to_numpy()
                bv = pd.to_numeric(b, errors="coerce").astype(float).to_numpy()
                counts = pd.api.types.is_integer_dtype(a) and pd.api.types.is_integer_dtype(b)
                with np.errstate(invalid="ignore"):
                    close = (av == bv) if counts else \
                        np.abs(av - bv) <= 1e-6 * np.maximum(np.abs(av), np.abs(bv)) + ABS_TOL
                same = (an & bn) | (~an & ~bn & close)
            t_cmp += len(same)
            t_eq += int(same.sum())
            for i in np.flatnonzero(~same):
                if len(examples) >= 10:
                    break
                r = both.iloc[i]
                examples.append(f"{table}.{c} {_key(r, keys)}: script "
                                f"{_show(a.iloc[i])}, mart {_show(b.iloc[i])}")
        per_table[table] = (t_cmp, t_eq, only_s, only_m)
        compared += t_cmp
        equal += t_eq
    different = compared - equal
    for table, (c, e, s, mm) in per_table.items():
        print(f"{table:26s} cells compared {c:>9,}  equal {e:>9,}  different {c - e:>6,}  "
              f"rows only in script {s:,}, only in mart {mm:,}")
    print(f"cells compared: {compared}")
    print(f"equal: {equal}")
    print(f"different: {different}")
    print(f"rows only in the script: {rows_only_script}; rows only in the mart: {rows_only_mart}")
    for e in examples:
        print("  " + e)
    return 1 if different or rows_only_script or rows_only_mart else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inbox", nargs="?", type=Path, help="the inbox folder (<source>/<year>/…)")
    p.add_argument("--out", type=Path, required=True, help="output folder (Parquet per mart)")
    p.add_argument("--check", type=Path, metavar="DB",
                   help="compare OUT with the marts of a published rsoko_marts.duckdb")
    args = p.parse_args(argv)
    if args.inbox is None and args.check is None:
        p.error("give INBOX to compute, --check DB to compare, or both")
    if args.inbox is not None:
        compute(args.inbox, args.out)
    if args.check is not None:
        return check(args.out, args.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
