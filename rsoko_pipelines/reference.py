"""Reference data: the dbt seeds under ``dbt_project/seeds/reference/``.

The CSV files are the single source of truth for score scales, mark boundaries, task
structures and code lists; this module only reads them. Codes stay strings ('01' is not 1).
Everything is cached: treat returned frames and arrays as read-only (copy before changing).
pandas and numpy are imported lazily, so importing this module is cheap.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from rsoko_pipelines.settings import SEEDS_DIR

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

REFERENCE_DIR = SEEDS_DIR / "reference"

SEEDS = (
    "ref_subjects",
    "ref_gia_subjects",
    "ref_gia_task_spec",
    "ref_ege_score_scale",
    "ref_ege_min_scores",
    "ref_mark_boundaries",
    "ref_vpr_task_spec",
    "ref_literacy_levels",
    "ref_olympiad_subjects",
    "ref_school_kinds",
    "ref_procedures",
    "indicator_catalogue",
    # directions 4 and 9, НИКО and surveys (issue 18)
    "ref_niko_subjects",
    "ref_sample_rules",
    "ref_graduate_destinations",
    "ref_age_bands",
    "ref_profmin_levels",
    "ref_career_profiles",
    "ref_additional_ed_focus",
    "ref_survey_questions",
    "ref_survey_indicators",
)

# Non-string columns; every other column is read as str (empty cell -> missing).
_INT = {
    "academic_year", "task_no", "max_points", "primary_score", "test_score", "grade", "mark",
    "min_primary_score", "max_primary_score", "task_order", "direction",
    "min_participants_municipality", "cohort", "destination_order", "min_age", "max_age",
    "band_order", "min_hours_per_year", "level_order", "focus_order",
}
_NULLABLE_INT = {"min_test_score", "min_mark"}
_FLOAT = {"min_score", "max_score", "target"}
_BOOL = {"is_advanced", "school_level_published", "is_climate", "is_satisfaction"}


@lru_cache(maxsize=None)
def load(name: str) -> "pd.DataFrame":
    """The seed ``<name>.csv`` as a DataFrame (codes as str, cached: do not mutate)."""
    import pandas as pd

    if name not in SEEDS:
        raise KeyError(f"unknown reference seed {name!r}; known: {', '.join(SEEDS)}")
    path = REFERENCE_DIR / f"{name}.csv"
    with path.open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    dtype: dict[str, object] = {}
    for col in header:
        if col in _INT:
            dtype[col] = "int64"
        elif col in _NULLABLE_INT:
            dtype[col] = "Int64"
        elif col in _FLOAT:
            dtype[col] = "float64"
        elif col in _BOOL:
            dtype[col] = "bool"
        else:
            dtype[col] = str
    return pd.read_csv(
        path,
        dtype=dtype,
        encoding="utf-8",
        keep_default_na=False,
        na_values=[""],
        true_values=["true"],
        false_values=["false"],
    )


def subjects() -> "pd.DataFrame":
    """Unified subjects (17 rows): subject_code, names, ege_code, oge_code, vpr_subject."""
    return load("ref_subjects")


def gia_subjects() -> "pd.DataFrame":
    """ГИА subject codes: procedure (EGE/OGE), source_subject_code, subject_name_ru, subject_code,
    exam_kind (EGE/OGE/GVE9), result_kind (test_score/mark)."""
    return load("ref_gia_subjects")


@lru_cache(maxsize=None)
def gia_tasks(procedure: str, year: int, source_subject_code: str) -> "pd.DataFrame":
    """Tasks of a ГИА exam in sheet order (short first, then extended):
    task_no, answer_part, max_points. ГВЭ-9 is procedure 'OGE' with codes '51'…'68'."""
    df = load("ref_gia_task_spec")
    sel = df[
        (df["procedure"] == procedure)
        & (df["academic_year"] == int(year))
        & (df["source_subject_code"] == str(source_subject_code))
    ]
    if sel.empty:
        raise KeyError(f"no ГИА task spec for {procedure} {year} {source_subject_code!r}")
    return sel.sort_values("task_no")[["task_no", "answer_part", "max_points"]].reset_index(drop=True)


@lru_cache(maxsize=None)
def vpr_tasks(procedure: str, year: int, subject_code: str, grade: int) -> "pd.DataFrame":
    """Tasks of a ВПР/РПР form in column order: task_order, task (label), max_points, task_level."""
    df = load("ref_vpr_task_spec")
    sel = df[
        (df["procedure"] == procedure)
        & (df["academic_year"] == int(year))
        & (df["subject_code"] == subject_code)
        & (df["grade"] == int(grade))
    ]
    if sel.empty:
        raise KeyError(f"no {procedure} task spec for {year} {subject_code} grade {grade}")
    cols = ["task_order", "task", "max_points", "task_level"]
    return sel.sort_values("task_order")[cols].reset_index(drop=True)


def vpr_forms(procedure: str = "VPR", year: int | None = None) -> list[tuple[int, str, int]]:
    """(academic_year, subject_code, grade) of every ВПР/РПР form in the seeds."""
    df = load("ref_vpr_task_spec")
    df = df[df["procedure"] == procedure]
    if year is not None:
        df = df[df["academic_year"] == int(year)]
    keys = df[["academic_year", "subject_code", "grade"]].drop_duplicates()
    return sorted((int(y), str(s), int(g)) for y, s, g in keys.itertuples(index=False))


@lru_cache(maxsize=None)
def mark_boundaries(
    procedure: str, year: int, subject_code: str, grade: int
) -> list[tuple[int, int, int]]:
    """[(mark, min_primary, max_primary), …] for marks 2…5, inclusive ranges covering 0…max.
    procedure: OGE, GVE9 (grade 9), EGE (math_base, grade 11), VPR, RPR."""
    df = load("ref_mark_boundaries")
    sel = df[
        (df["procedure"] == procedure)
        & (df["academic_year"] == int(year))
        & (df["subject_code"] == subject_code)
        & (df["grade"] == int(grade))
    ].sort_values("mark")
    if sel.empty:
        raise KeyError(f"no mark boundaries for {procedure} {year} {subject_code} grade {grade}")
    return [
        (int(m), int(lo), int(hi))
        for m, lo, hi in sel[["mark", "min_primary_score", "max_primary_score"]].itertuples(index=False)
    ]


def max_primary(procedure: str, year: int, subject_code: str, grade: int) -> int:
    """Maximum primary score of a mark-graded work (top of its boundaries)."""
    return mark_boundaries(procedure, year, subject_code, grade)[-1][2]


def score_to_mark(procedure: str, year: int, subject_code: str, grade: int, scores) -> "np.ndarray":
    """Marks (int array) for primary scores (scalar or array) per the boundaries."""
    import numpy as np

    bounds = mark_boundaries(procedure, year, subject_code, grade)
    lows = np.array([lo for _, lo, _ in bounds])
    marks = np.array([m for m, _, _ in bounds])
    idx = np.searchsorted(lows, np.asarray(scores), side="right") - 1
    return marks[np.clip(idx, 0, len(marks) - 1)]


@lru_cache(maxsize=None)
def ege_scale(year: int, ege_code: str) -> "np.ndarray":
    """Test scores indexed by primary score 0…max (read-only int array). Not for '22'."""
    import numpy as np

    df = load("ref_ege_score_scale")
    sel = df[(df["academic_year"] == int(year)) & (df["ege_subject_code"] == str(ege_code))]
    if sel.empty:
        raise KeyError(f"no ЕГЭ scale for {year} {ege_code!r}")
    sel = sel.sort_values("primary_score")
    arr = sel["test_score"].to_numpy(dtype=np.int64, copy=True)
    if not (sel["primary_score"].to_numpy() == np.arange(len(arr))).all():
        raise ValueError(f"ЕГЭ scale {year} {ege_code!r} is not contiguous from 0")
    arr.flags.writeable = False
    return arr


@lru_cache(maxsize=None)
def ege_min_score(year: int, ege_code: str) -> tuple[int | None, int | None]:
    """(min_test_score, min_mark) of a ЕГЭ subject: (24, None) for '01', (None, 3) for '22'."""
    df = load("ref_ege_min_scores")
    sel = df[(df["academic_year"] == int(year)) & (df["ege_subject_code"] == str(ege_code))]
    if sel.empty:
        raise KeyError(f"no ЕГЭ minimum for {year} {ege_code!r}")
    import pandas as pd

    row = sel.iloc[0]

    def _opt(v) -> int | None:
        return None if pd.isna(v) else int(v)

    return _opt(row["min_test_score"]), _opt(row["min_mark"])


def literacy_level(domain: str, score: float) -> str:
    """Level ('ниже 1', '1'…'6') of a PISA-scale score; ranges are [min_score, max_score)."""
    df = load("ref_literacy_levels")
    sel = df[(df["domain"] == domain) & (df["min_score"] <= score) & (df["max_score"] > score)]
    if sel.empty:
        raise KeyError(f"no literacy level for {domain!r} score {score}")
    return str(sel.iloc[0]["level"])
