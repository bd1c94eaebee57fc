"""Questionnaires of students, parents and staff of the demo region (extracts.md ``survey``).

Long format, CSV UTF-8 ``;``: one row per respondent × question of the seed catalogue
``ref_survey_questions``. The platform exports one file per questionnaire and municipality.

Who answers: in every active school, a school-specific share of its students of grades 5–11
(25–50 %), of the parents of all its grades (8–25 %) and of its teachers (50–90 %); about 3 %
of the questions are skipped (``Ответ`` empty: the quirk «skipped survey questions»). Each
year one small ordinary school has exactly three respondents (the quirk «a school with 3
respondents»: every rate of its rows must be suppressed).

How they answer: P(a positive option) = σ(1.2 + question offset + school climate + respondent
effect); the school climate is N(0, 0.3), and −2.3 for the **planted poor-climate schools**
(about 3 % of the schools with at least 20 respondents, persisting from year to year), so
their climate index (mean share of positive answers to the climate and safety questions) is
about 25–35 against about 75 elsewhere. Within the positive (or negative) options the choice
is uniform. Respondent codes are the platform's own pseudonyms (``R`` + 8 digits), unique in
the region and year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.records import FileRecord

SOURCE = "survey"
COLUMNS = ["Код ОО", "Анкета", "Код респондента", "Класс", "Код вопроса", "Ответ"]
QUESTIONNAIRES = ("обучающиеся", "родители", "педагоги")
FILE_LABEL = {"обучающиеся": "обучающиеся", "родители": "родители", "педагоги": "педагоги"}
POOR_SHARE = 0.03
POOR_CLIMATE = -2.3
MIN_RESPONDENTS_POOR = 20
SKIP_P = 0.03
CLASS_LETTERS = np.asarray(list("АБВГ"))


def _questions(questionnaire: str) -> pd.DataFrame:
    q = ref.load("ref_survey_questions")
    q = q[q["questionnaire"] == questionnaire].reset_index(drop=True)
    q = q.assign(opts=q["options"].str.split(r"\s*\|\s*", regex=True),
                 pos=q["positive_options"].str.split(r"\s*\|\s*", regex=True))
    return q


def _respondents(region, year: int) -> pd.DataFrame:
    """One row per school: respondents per questionnaire, climate, the planted flag."""
    key = ("survey_respondents", year)
    if key in region._cache:
        return region._cache[key]
    schools = region.schools_in(year).sort_values("school_code").reset_index(drop=True)
    rng = region.rng(SOURCE, year, "respondents")
    lo, hi = schools["min_grade"].to_numpy(), schools["max_grade"].to_numpy()
    spg = schools["students_per_grade"].to_numpy(dtype=np.int64)
    sen = schools["students_per_senior_grade"].to_numpy(dtype=np.int64)
    g5_9 = np.clip(np.minimum(hi, 9) - np.maximum(lo, 5) + 1, 0, None)
    g10 = np.clip(hi - np.maximum(lo, 10) + 1, 0, None)
    all_grades = np.clip(np.minimum(hi, 9) - lo + 1, 0, None)
    students = np.rint((spg * g5_9 + sen * g10) * rng.uniform(0.25, 0.5, len(schools)))
    parents = np.rint((spg * all_grades + sen * g10) * rng.uniform(0.08, 0.25, len(schools)))
    staff = np.rint(schools["n_teachers"].to_numpy() * rng.uniform(0.5, 0.9, len(schools)))
    n = np.stack([students, parents, staff], axis=1).astype(np.int64)
    # the planted poor-climate schools: persistent per school (a stream not tied to the year)
    codes = sorted(region.schools["school_code"].unique())
    u = region.rng(SOURCE, "poor_climate").random(len(codes))
    u_of = dict(zip(codes, u))
    big = n.sum(axis=1) >= MIN_RESPONDENTS_POOR
    poor = np.array([u_of[c] < POOR_SHARE for c in schools["school_code"]]) & big
    if not poor.any() and big.any():
        poor[np.flatnonzero(big)[0]] = True
    climate = rng.normal(0.0, 0.3, len(schools))
    climate[poor] = POOR_CLIMATE
    # one small ordinary school with exactly three respondents (students only)
    small = np.flatnonzero(~poor & (n[:, 0] >= 3) & (n.sum(axis=1) <= 40))
    if len(small) == 0:
        small = np.flatnonzero(~poor & (n[:, 0] >= 3))
    three = int(small[rng.integers(0, len(small))]) if len(small) else -1
    if three >= 0:
        n[three] = (3, 0, 0)
    df = pd.DataFrame({"school_code": schools["school_code"], "msu_code": schools["msu_code"],
                       "min_grade": lo, "max_grade": hi, "n_students": n[:, 0],
                       "n_parents": n[:, 1], "n_staff": n[:, 2], "climate": climate,
                       "is_poor_climate": poor, "is_three_respondents": np.arange(len(schools)) == three})
    region._cache[key] = df
    return df


def planted_poor_climate(region) -> list[dict]:
    out = []
    for year in region.years:
        df = _respondents(region, year)
        out += [{"academic_year": int(year), "school_code": str(c)}
                for c in df.loc[df["is_poor_climate"], "school_code"]]
    return out


def three_respondent_schools(region) -> list[dict]:
    out = []
    for year in region.years:
        df = _respondents(region, year)
        out += [{"academic_year": int(year), "school_code": str(c)}
                for c in df.loc[df["is_three_respondents"], "school_code"]]
    return out


def _answers(region, year: int, questionnaire: str, resp: pd.DataFrame, start_code: int,
             rng: np.random.Generator) -> pd.DataFrame:
    qi = QUESTIONNAIRES.index(questionnaire)
    counts = resp[["n_students", "n_parents", "n_staff"][qi]].to_numpy(dtype=np.int64)
    school = np.repeat(np.arange(len(resp)), counts)
    r = len(school)
    q = _questions(questionnaire)
    k = len(q)
    codes = np.char.add("R", (start_code + rng.permutation(r)).astype(str))
    if questionnaire == "педагоги":
        classes = np.full(r, "", dtype=object)
    else:
        lo = np.maximum(resp["min_grade"].to_numpy(), 5 if qi == 0 else 1)[school]
        hi = resp["max_grade"].to_numpy()[school]
        grade = lo + np.floor(rng.random(r) * np.maximum(hi - lo + 1, 1)).astype(np.int64)
        classes = np.char.add(grade.astype(str), CLASS_LETTERS[rng.integers(0, 2, r)]).astype(object)
    offset = rng.normal(0.0, 0.35, k)
    person = rng.normal(0.0, 0.6, r)
    logit = 1.2 + offset[None, :] + resp["climate"].to_numpy()[school][:, None] + person[:, None]
    positive = rng.random((r, k)) < 1.0 / (1.0 + np.exp(-logit))
    pick = rng.random((r, k))
    answers = np.empty((r, k), dtype=object)
    for j in range(k):
        opts, pos = q.at[j, "opts"], q.at[j, "pos"]
        neg = [o for o in opts if o not in pos]
        pos_arr, neg_arr = np.asarray(pos, dtype=object), np.asarray(neg, dtype=object)
        answers[:, j] = np.where(positive[:, j],
                                 pos_arr[(pick[:, j] * len(pos_arr)).astype(int)],
                                 neg_arr[(pick[:, j] * len(neg_arr)).astype(int)])
    skipped = rng.random((r, k)) < SKIP_P
    answers[skipped] = ""
    return pd.DataFrame({
        "Код ОО": np.repeat(resp["school_code"].to_numpy()[school], k),
        "Анкета": questionnaire,
        "Код респондента": np.repeat(codes, k),
        "Класс": np.repeat(classes, k),
        "Код вопроса": np.tile(q["question_code"].to_numpy(), r),
        "Ответ": answers.ravel(),
    })


def generate_survey(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write one CSV per year × questionnaire × municipality under ``<out_dir>/survey/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    for year in years:
        resp = _respondents(region, year)
        rng = region.rng(SOURCE, year, "answers")
        start = 10_000_000
        for questionnaire in QUESTIONNAIRES:
            for msu, part in resp.groupby("msu_code", sort=True):
                part = part.reset_index(drop=True)
                df = _answers(region, year, questionnaire, part, start, rng)
                start += len(df) + 1
                if df.empty:
                    continue
                rel = Path(SOURCE) / str(year) / f"Анкета_{FILE_LABEL[questionnaire]}_{msu}.csv"
                path = out_dir / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                df.to_csv(path, sep=";", index=False, encoding="utf-8", lineterminator="\n")
                quirks = ["skipped_questions"] if (df["Ответ"] == "").any() else []
                if part["is_three_respondents"].any() and questionnaire == "обучающиеся":
                    quirks.append("school_with_3_respondents")
                records.append(FileRecord(
                    source=SOURCE, academic_year=year, path=rel, rows=len(df),
                    slice={"questionnaire": questionnaire, "msu_code": str(msu)},
                    quirks=tuple(quirks)))
    return records
