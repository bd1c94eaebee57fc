"""НИКО (national sample studies of education quality) of the demo region (extracts.md
``niko``): the ВПР «Индивидуальные результаты» layout with ``НИКО`` in the title, one file
per school × form, no ``Отметка по журналу`` column.

Every year the federal centre picks two forms (subject × grade); at least one is a subject
outside the ВПР list (``Физическая культура``, ``ОБЗР``, ``Музыка``, ``Информатика``: the
quirk «НИКО in a subject outside the ВПР list»), and some forms carry primary scores only
(no ``Отметка`` column). A sample of the schools teaching the grade takes part (about
``SCHOOL_SHARE``), one class each (≤ ``MAX_CLASS`` children), so some municipalities stay
below the publication threshold of 10 participants (reference.ref_sample_rules) and must
not get a municipality row in the marts. Task points follow the school's ``school_effect``
with the logistic model of the ВПР generator; the task structure of each form is defined
here (НИКО forms are not in the ВПР task seed: their tasks come with the files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.xlsx import write_xlsx

SOURCE = "niko"
TITLE = "НИКО"
LEAD_COLUMNS = ["Муниципалитет", "Логин ОО", "Название ОО", "Код участника", "Класс", "Вариант"]
SCHOOL_SHARE = 0.08
MAX_CLASS = 25
LEVEL_DIFFICULTY = {"Б": -0.9, "П": 0.3, "В": 1.1}

# the forms of each year: (subject as titled, grade, task spec [(task, max, level)], marks?)
_TASKS_10 = [("1", 1, "Б"), ("2", 1, "Б"), ("3", 2, "Б"), ("4", 1, "Б"), ("5", 2, "П"),
             ("6", 1, "Б"), ("7", 2, "П"), ("8.1", 1, "Б"), ("8.2", 2, "П"), ("9", 3, "В")]
_TASKS_8 = [("1", 1, "Б"), ("2", 2, "Б"), ("3", 1, "Б"), ("4", 2, "П"), ("5", 1, "Б"),
            ("6", 2, "П"), ("7", 2, "В"), ("8", 1, "Б")]
FORMS = {
    2023: [("Физическая культура", 7, _TASKS_8, False), ("История", 6, _TASKS_10, True)],
    2024: [("ОБЗР", 8, _TASKS_8, False), ("Литература", 9, _TASKS_10, True)],
    2025: [("Физическая культура", 7, _TASKS_8, False), ("Информатика", 8, _TASKS_10, True)],
}
# a year outside the table (another tier's years) reuses the forms of the nearest year
_MARK_SHARES = (0.0, 0.3, 0.55, 0.8)   # lowest share of the max primary score for marks 2..5


def forms_of(year: int):
    known = sorted(FORMS)
    return FORMS[min(known, key=lambda y: abs(y - year))]


def _sample_schools(region, year: int, grade: int, form_no: int) -> pd.DataFrame:
    df = region.schools_in(year)
    df = df[df["fis_login"].notna() & (df["min_grade"] <= grade) & (df["max_grade"] >= grade)]
    df = df.sort_values(["msu_code", "school_code"]).reset_index(drop=True)
    rng = region.rng(SOURCE, year, "sample", form_no)
    k = max(3, round(SCHOOL_SHARE * len(df)))
    pick = np.sort(rng.choice(len(df), min(k, len(df)), replace=False))
    return df.iloc[pick].reset_index(drop=True)


def simulate_form(region, year: int, form_no: int) -> dict:
    subject, grade, tasks, with_marks = forms_of(year)[form_no]
    schools = _sample_schools(region, year, grade, form_no)
    rng = region.rng(SOURCE, year, "works", form_no)
    col = "students_per_grade" if grade <= 9 else "students_per_senior_grade"
    sizes = np.minimum(schools[col].to_numpy(dtype=np.int64), MAX_CLASS)
    sizes = np.maximum(1, np.rint(sizes * rng.uniform(0.85, 1.0, len(sizes)))).astype(np.int64)
    school = np.repeat(np.arange(len(schools)), sizes)
    n = len(school)
    theta = schools["school_effect"].to_numpy(dtype=float)[school] + rng.normal(0.0, 1.0, n)
    maxes = np.array([t[1] for t in tasks])
    d = np.array([LEVEL_DIFFICULTY[t[2]] for t in tasks]) + rng.normal(0.0, 0.3, len(tasks))
    points = np.zeros((n, len(tasks)), dtype=np.int64)
    for j, mx in enumerate(maxes):
        p = 1.0 / (1.0 + np.exp(-1.3 * (theta - d[j])))
        points[:, j] = rng.binomial(mx, p)
    cells = points.astype(object).astype(str)
    # not attempted (X, Latin or Cyrillic) on some zero cells; a stray '-' (not assessed)
    zero = points == 0
    x = zero & (rng.random(points.shape) < 0.3)
    cells[x] = np.where(rng.random(int(x.sum())) < 0.5, "X", "Х")
    dash = rng.random(points.shape) < 0.002
    cells[dash] = "-"
    points[dash] = 0
    primary = points.sum(axis=1)
    total = int(maxes.sum())
    lows = np.ceil(np.array(_MARK_SHARES) * total).astype(int)
    mark = 2 + (primary[:, None] >= lows[None, 1:]).sum(axis=1)
    start = 50001 + 10000 * form_no + rng.integers(0, 5000, len(schools))
    code = start[school] + (np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    letter = np.asarray(list("АБВГ"))[rng.integers(0, 4, len(schools))][school]
    return {"subject": subject, "grade": grade, "tasks": tasks, "with_marks": with_marks,
            "schools": schools, "school": school, "cells": cells, "primary": primary,
            "mark": mark, "code": code, "class": np.char.add(str(grade), letter),
            "variant": 1 + (code % 2)}


def write_form(region, out_dir: Path, year: int, form_no: int) -> list[FileRecord]:
    form = simulate_form(region, year, form_no)
    schools, tasks = form["schools"], form["tasks"]
    header = LEAD_COLUMNS + [f"{t} ({m}б)" for t, m, _ in tasks] + ["Первичный балл"]
    if form["with_marks"]:
        header.append("Отметка")
    title = f"{TITLE} {year} {form['subject']} {form['grade']} класс"
    raw = [[title], [f"Максимальный первичный балл: {sum(m for _, m, _ in tasks)}"],
           [None] * len(LEAD_COLUMNS) + [lvl for _, _, lvl in tasks]]
    records = []
    folder = Path(SOURCE) / str(year)
    for s in range(len(schools)):
        rows = np.flatnonzero(form["school"] == s)
        sch = schools.iloc[s]
        data = {
            "Муниципалитет": [sch["msu_name"]] * len(rows),
            "Логин ОО": [sch["fis_login"]] * len(rows),
            "Название ОО": [sch["school_name"]] * len(rows),
            "Код участника": form["code"][rows].astype(str),
            "Класс": form["class"][rows],
            "Вариант": form["variant"][rows],
        }
        for j, (t, m, _) in enumerate(tasks):
            data[f"{t} ({m}б)"] = form["cells"][rows, j]
        data["Первичный балл"] = form["primary"][rows]
        if form["with_marks"]:
            data["Отметка"] = form["mark"][rows]
        df = pd.DataFrame(data, columns=header)
        kinds = {f"{t} ({m}б)": "auto" for t, m, _ in tasks}
        kinds["Код участника"] = "s"
        rel = folder / f"НИКО_{sch['fis_login']}_{form['subject']}_{form['grade']}.xlsx"
        write_xlsx(out_dir / rel, df, raw_rows=raw, header=header, column_kinds=kinds,
                   sheet_name="Лист1")
        quirks = ["no_journal_mark_column"]
        if not form["with_marks"]:
            quirks.append("no_mark_column")
        if form["subject"] in ("Физическая культура", "ОБЗР", "Музыка", "Информатика"):
            quirks.append("subject_outside_vpr")
        records.append(FileRecord(
            source=SOURCE, academic_year=year, path=rel, rows=len(rows),
            slice={"subject": form["subject"], "grade": form["grade"], "layout": "school",
                   "msu_code": str(sch["msu_code"]), "school_code": str(sch["school_code"])},
            quirks=tuple(quirks)))
    return records


def generate_niko(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write the year's НИКО forms, one file per sampled school, under
    ``<out_dir>/niko/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records: list[FileRecord] = []
    for year in years:
        for form_no in range(len(forms_of(year))):
            records.extend(write_form(region, out_dir, year, form_no))
    return records
