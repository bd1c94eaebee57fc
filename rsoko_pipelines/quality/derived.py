"""Cross-table checks as derived boolean columns (computed with DuckDB, checked by GX).

Design choice
-------------
GX 1.x's ``UnexpectedRowsExpectation`` (an SQL query over the batch) only runs on SQL data
sources — on a pandas batch it fails with "No provider found for unexpected_rows_query.table
using PandasExecutionEngine" (verified with GX 1.24.1). The cross-table checks therefore work
in two steps:

1. before validation the runner adds derived columns to (a copy of) the frame, computed in
   one DuckDB query per table that joins the frame with the registry of schools of that
   academic year and with the reference seeds (``dbt_project/seeds/reference/*.csv``);
2. the suite — still pure data — expects them, e.g. ``_school_known`` in ``[true]``, or
   ``_max_primary_score >= primary_score``. GX then reports counts, samples and the
   ``_source_line`` of the offending rows like for any other expectation.

A derived value is NULL where the check does not apply (a removed participant, a row without
a mark, a subject missing from the seed): GX ignores missing values, so only rows that can be
checked are counted. When a check cannot be computed at all — no registry was given — the
column is not added and the runner reports the dependent expectations as *skipped*, not as
failed (see ``validate.validate_frame``).

Derived columns
---------------
``_school_known``            school identifier is in the registry of that year
                             (ЕГЭ/ОГЭ: Код МСУ + Код ОО РИС ГИА; ВПР/РПР: login; others: Код ОО)
``_school_active``           ... and has status 'действующая' (NULL when unknown)
``_successor_known``         (schools) the successor code is a school of the same registry
``_subject_known``           subject of the file is in the seed (ГИА: ref_gia_subjects,
                             ВПР/РПР: ref_subjects.vpr_subject, ВсОШ: ref_olympiad_subjects)
``_max_primary_score``       (ЕГЭ/ОГЭ) sum of task max points in ref_gia_task_spec
``_result_present``          (ЕГЭ/ОГЭ) not removed ⇒ primary score and result of the subject's
                             kind (test score / mark) present
``_removed_without_scores``  (ЕГЭ/ОГЭ) removed/annulled ⇒ scores empty
``_mark_expected``           mark = the mark of ref_mark_boundaries for the primary score
                             (ОГЭ/ГВЭ-9, ВПР, РПР, ЕГЭ базовая математика)
``_boundaries_found``        the seed has boundaries (ЕГЭ: or a conversion scale) for the slice
``_test_score_expected``     (ЕГЭ) test score = ref_ege_score_scale(primary score)
``_task_spec_found``         (ЕГЭ/ОГЭ) ref_gia_task_spec has the tasks of the year × subject
``_task_points_in_range``    (ЕГЭ/ОГЭ, status empty) no task of the answer strings holds more
                             points than its maximum (the spec's, and for the extended part the
                             one the sheet declares); NULL for removed/annulled lines (their
                             strings count for nothing) and where the spec has no such subject
``_task_points_expected``    (ЕГЭ/ОГЭ, status empty) the answer strings match the task spec of
                             the year × subject (as many tasks, the extended part declares the
                             spec's maxima) and their points (`+` = the task's maximum, `-` = 0,
                             a digit = points; points(max)) add up to the primary score; NULL as
                             above
``_min_score_found``         (ЕГЭ, test-score subjects) ref_ege_min_scores has the year × subject
``_level_expected``          (literacy) score lies within ref_literacy_levels of the level
                             (both ends inclusive: the seed's ranges share their end points)

Directions 6 and 7 (staff, dpo, deficits, nokuod; per-file checks of the contract's rules):
``_position_known``          (staff, deficits) the position is in ref_staff_positions
``_category_known``          (staff) the category is in ref_staff_categories
``_category_date_valid``     (staff) a category with a `valid_from` (педагог-методист,
                             педагог-наставник: since 01.09.2023) awarded on or after it
``_single_head``             (staff) the school has exactly one `директор` row in the file
``_head_appointment_known``  (staff) a `директор` row has its appointment date
``_appointment_by_state_date`` (staff) appointed no later than 20 September of the year
``_age``                     (staff) age on the state date = academic_year − 1 − birth year
``_date_in_academic_year``   (dpo: issue date; deficits: diagnostic date) within 1 September
                             of the year before … 31 August of the folder's academic year
``_diagnostic_known``        (deficits) the diagnostic is in ref_deficit_diagnostics
``_total_is_mean``           (nokuod) total = the mean of the five criteria ± 0.1
``_kind_known``              (measures) `Вид меры` is a kind of ref_measure_kinds (case, spaces
                             and ё/е do not matter)
``_indicator_known``         (measures) `Целевой показатель` is a code of indicator_catalogue
``_target_matches_level``    (measures) `Уровень` ОО has a `Код ОО`; МСУ has a `Код МСУ` and
                             no `Код ОО`
``_msu_known``               (measures) a МСУ-level target is a municipality of the registry
``_school_in_msu``           (measures) a school target given with a `Код МСУ` lies in it
``_start_in_register_year``  (measures) the measure started before the end of the register's
                             academic year (31 August of the folder year)

Issue 18 (directions 4 and 9, НИКО, surveys):
``_question_known``          (survey) questionnaire × question code is in ref_survey_questions
``_answer_is_option``        (survey) a non-empty answer is one of its question's options
                             (case, surrounding/repeated spaces and ё/е do not matter); NULL
                             for a skipped question or an unknown one
``_class_consistent``        (survey) a class is given for students and parents, none for staff
``_destinations_sum_ok``     (graduates) the destinations add up to «Всего выпускников»
``_other_cohort_empty``      (graduates) the destination columns of the other cohort
                             (ref_graduate_destinations) are empty or 0
``_profiles_known``          (career) every profile listed is in ref_career_profiles
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


REGISTRY_KEY = "schools"
REFERENCE_TABLES = ("ref_gia_subjects", "ref_gia_task_spec", "ref_ege_score_scale",
                    "ref_mark_boundaries", "ref_subjects", "ref_olympiad_subjects",
                    "ref_literacy_levels", "ref_ege_min_scores",
                    # directions 6 and 7
                    "ref_staff_positions", "ref_staff_categories", "ref_deficit_diagnostics",
                    # issue 19 (measures)
                    "ref_measure_kinds", "indicator_catalogue",
                    # issue 18: НИКО subjects, the survey question catalogue
                    "ref_niko_subjects", "ref_survey_questions",
                    "ref_graduate_destinations", "ref_career_profiles")

# derived columns that need the registry of schools (skipped without it)
REGISTRY_COLUMNS = ("_school_known", "_school_active")
# sources whose files load without the year's registry of schools: their rows are not
# attached to schools (population) or a school is optional for them (a child's school in
# the navigator export may be outside the registry)
REGISTRY_OPTIONAL = frozenset({"population", "additional_ed"})
DERIVED_PREFIX = "_"

# the landing columns each derived column is computed from, so that a finding names the
# file's own columns (quality/headers.py) instead of the derived one; per suite where the
# inputs differ (the school identifier is a different column in each system)
_SCHOOL_KEYS = {"ege": ("msu_code", "gia_school_code"), "oge": ("msu_code", "gia_school_code"),
                "vpr": ("fis_login",), "rpr": ("fis_login",), "olympiad": ("school_code",),
                "literacy": ("school_code",),
                "staff": ("school_code",), "deficits": ("school_code",),
                "nokuod": ("school_code",), "measures": ("school_code",),
                # issue 18
                "niko": ("fis_login",), "career": ("school_code",), "survey": ("school_code",),
                "graduates": ("school_code",)}
DERIVED_INPUTS: dict[str, dict[str, tuple[str, ...]] | tuple[str, ...]] = {
    "_school_known": _SCHOOL_KEYS,
    "_school_active": _SCHOOL_KEYS,
    "_successor_known": ("successor_code",),
    "_subject_known": {"ege": ("source_subject_code",), "oge": ("source_subject_code",),
                       "vpr": ("subject_name",), "rpr": ("subject_name",),
                       "olympiad": ("subject_name",), "niko": ("subject_name",)},
    "_max_primary_score": ("primary_score",),
    "_result_present": {"ege": ("primary_score", "test_score", "mark"),
                        "oge": ("primary_score", "mark")},
    "_removed_without_scores": ("status", "primary_score"),
    "_mark_expected": ("primary_score", "mark"),
    "_boundaries_found": ("mark",),
    "_test_score_expected": ("primary_score", "test_score"),
    "_task_spec_found": ("source_subject_code",),
    "_min_score_found": ("source_subject_code",),
    "_task_points_expected": ("short_answers", "extended_answers", "primary_score"),
    "_task_points_in_range": ("short_answers", "extended_answers"),
    "_level_expected": ("score", "level"),
    # directions 6 and 7
    "_position_known": ("position",),
    "_category_known": ("category",),
    "_category_date_valid": ("category", "category_date"),
    "_single_head": ("school_code", "position"),
    "_head_appointment_known": ("position", "appointment_date"),
    "_appointment_by_state_date": ("appointment_date",),
    "_age": ("birth_year",),
    "_date_in_academic_year": {"dpo": ("issue_date",), "deficits": ("diagnostic_date",)},
    "_diagnostic_known": ("diagnostic",),
    "_total_is_mean": ("openness", "comfort", "accessibility", "courtesy", "satisfaction",
                       "total_score"),
    "_kind_known": ("measure_kind",),
    "_indicator_known": ("target_indicator",),
    "_target_matches_level": ("target_level", "school_code", "msu_code"),
    "_msu_known": ("msu_code",),
    "_school_in_msu": ("school_code", "msu_code"),
    "_start_in_register_year": ("start_date",),
    # issue 18
    "_question_known": ("questionnaire", "question_code"),
    "_answer_is_option": ("question_code", "answer"),
    "_class_consistent": ("questionnaire", "class_name"),
    "_destinations_sum_ok": ("graduates_total",),
    "_other_cohort_empty": ("cohort",),
    "_profiles_known": ("profiles",),
}


def derived_inputs(suite: str, column: str) -> tuple[str, ...] | None:
    """The landing columns `column` (a derived column of `suite`) is computed from."""
    inputs = DERIVED_INPUTS.get(column)
    if isinstance(inputs, dict):
        return inputs.get(suite)
    return inputs


def _seed(name: str) -> pd.DataFrame:
    """A reference seed as Python reads it everywhere (rsoko_pipelines.reference: typed by
    the seeds' YAML, codes as text)."""
    from rsoko_pipelines import reference

    return reference.load(name)


def reference_tables(overrides: Mapping | None = None) -> dict[str, object]:
    """The reference seeds used by the derived checks (all columns text; cast in SQL)."""
    out: dict[str, object] = {name: _seed(name) for name in REFERENCE_TABLES}
    for name, table in (overrides or {}).items():
        if name in REFERENCE_TABLES:
            out[name] = table
    return out


def context_from_warehouse(con, academic_year: int) -> dict[str, pd.DataFrame]:
    """``context_tables`` for :func:`validate_frame`: the registry of schools for the year as
    loaded in ``raw.schools`` (only rows of files currently loaded, when the file registry
    exists).

    Every source is optional in every year (extracts.md), the registry too: a year without
    its own registry is checked against the latest earlier registry, else the earliest later
    one (as dbt's intermediate.int_registry_year attaches it); the frame carries that year in
    ``registry_year`` and the validation notes say so. Only when no registry of any year is
    loaded is the registry empty, which makes every school unknown — on purpose: nothing can
    be attached without one (ingest reports it as one finding)."""
    cols = "school_code, msu_code, gia_school_code, fis_login, status, academic_year"
    empty = pd.DataFrame({c.strip(): pd.Series(dtype=object) for c in cols.split(",")})
    if con is None:
        return {REGISTRY_KEY: empty}
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    if "schools" not in tables:
        return {REGISTRY_KEY: empty}
    loaded = ""
    if "_file_registry" in tables:
        loaded = (" AND _file_id IN (SELECT file_id FROM raw._file_registry "
                  "WHERE source = 'schools' AND status = 'loaded')")
    registry_year = con.execute(
        f"""WITH years AS (SELECT DISTINCT academic_year AS y FROM raw.schools WHERE true{loaded})
            SELECT coalesce((SELECT max(y) FROM years WHERE y <= ?),
                            (SELECT min(y) FROM years WHERE y > ?))""",
        [academic_year, academic_year]).fetchone()[0]
    if registry_year is None:
        return {REGISTRY_KEY: empty}
    df = con.execute(f"SELECT {cols.replace('academic_year', '? AS academic_year')}, "
                     f"academic_year AS registry_year FROM raw.schools "
                     f"WHERE academic_year = ?{loaded}", [academic_year, registry_year]).df()
    return {REGISTRY_KEY: df}


# --------------------------------------------------------------------------- SQL per table
_B = """b AS (SELECT procedure, academic_year::INT AS y, subject_code, grade::INT AS grade,
                  mark::INT AS mark, min_primary_score::INT AS lo, max_primary_score::INT AS hi
           FROM ref_mark_boundaries),
bk AS (SELECT DISTINCT procedure, y, subject_code, grade FROM b)"""


def _registry_join(kind: str) -> tuple[str, str, str]:
    """(CTE, join clause, select list) for the known-school columns."""
    if kind == "gia":
        keys, fkeys = ("msu_code", "gia_school_code"), ("msu_code", "gia_school_code")
    elif kind == "fis":
        keys, fkeys = ("fis_login",), ("fis_login",)
    else:
        keys, fkeys = ("school_code",), ("school_code",)
    klist = ", ".join(keys)
    cte = (f"r AS (SELECT academic_year::INT AS y, {klist}, "
           f"bool_or(status = 'действующая') AS active FROM reg "
           f"WHERE {' AND '.join(k + ' IS NOT NULL' for k in keys)} GROUP BY ALL)")
    on = " AND ".join(f"r.{k} = f.{fk}" for k, fk in zip(keys, fkeys))
    on += " AND r.y = f.academic_year"
    present = " AND ".join(f"f.{fk} IS NOT NULL" for fk in fkeys)
    sel = (f"CASE WHEN {present} THEN r.active IS NOT NULL END AS _school_known, "
           f"CASE WHEN r.active IS NOT NULL THEN r.active END AS _school_active")
    return cte, f"LEFT JOIN r ON {on}", sel


def _gia_sql(procedure: str, with_registry: bool) -> str:
    is_ege = procedure == "EGE"
    test_score = "f.test_score" if is_ege else "NULL::INT"
    ctes = [
        f"s AS (SELECT source_subject_code, subject_code, exam_kind, result_kind "
        f"FROM ref_gia_subjects WHERE procedure = '{procedure}')",
        f"spec AS (SELECT academic_year::INT AS y, source_subject_code, "
        f"sum(max_points::INT) AS mx FROM ref_gia_task_spec WHERE procedure = '{procedure}' "
        f"GROUP BY ALL)",
        _B,
        "sc AS (SELECT academic_year::INT AS y, ege_subject_code, primary_score::INT AS ps, "
        "min(test_score::INT) AS ts FROM ref_ege_score_scale GROUP BY ALL)",
        "sck AS (SELECT DISTINCT y, ege_subject_code FROM sc)",
        _GIA_TASKS.format(procedure=procedure),
    ]
    joins = [
        "LEFT JOIN s ON s.source_subject_code = f.source_subject_code",
        "LEFT JOIN spec ON spec.y = f.academic_year "
        "AND spec.source_subject_code = f.source_subject_code",
        "LEFT JOIN bk ON bk.procedure = s.exam_kind AND bk.y = f.academic_year "
        "AND bk.subject_code = s.subject_code AND bk.grade = " + ("11" if is_ege else "9"),
        "LEFT JOIN b ON b.procedure = bk.procedure AND b.y = bk.y "
        "AND b.subject_code = bk.subject_code AND b.grade = bk.grade "
        "AND f.primary_score BETWEEN b.lo AND b.hi",
        "LEFT JOIN sck ON sck.y = f.academic_year AND sck.ege_subject_code = f.source_subject_code",
        "LEFT JOIN sc ON sc.y = sck.y AND sc.ege_subject_code = sck.ege_subject_code "
        "AND sc.ps = f.primary_score",
        "LEFT JOIN ta ON ta.__rid = f.__rid",
    ]
    sels = [
        "s.subject_code IS NOT NULL AS _subject_known",
        "spec.mx AS _max_primary_score",
        f"""CASE WHEN f.status IS NOT NULL OR s.result_kind IS NULL THEN NULL
             ELSE f.primary_score IS NOT NULL AND CASE s.result_kind
                  WHEN 'test_score' THEN {test_score} IS NOT NULL ELSE f.mark IS NOT NULL END
             END AS _result_present""",
        f"""CASE WHEN f.status IS NULL THEN NULL
             ELSE f.primary_score IS NULL AND f.mark IS NULL AND {test_score} IS NULL
             END AS _removed_without_scores""",
        """CASE WHEN f.mark IS NULL OR f.primary_score IS NULL OR bk.grade IS NULL THEN NULL
             ELSE coalesce(b.mark = f.mark, false) END AS _mark_expected""",
        """CASE WHEN f.status IS NULL AND (f.short_answers IS NOT NULL
                                           OR f.extended_answers IS NOT NULL)
             THEN ta.n_spec IS NOT NULL END AS _task_spec_found""",
        """CASE WHEN f.status IS NOT NULL OR ta.n_spec IS NULL THEN NULL
             ELSE NOT list_contains(ta.above_max, true) END AS _task_points_in_range""",
        """CASE WHEN f.status IS NOT NULL OR f.primary_score IS NULL OR ta.n_spec IS NULL
             THEN NULL
             ELSE ta.n_short + len(ta.ext_points) = ta.n_spec
                  AND ta.ext_maxes = ta.maxes[ta.n_short + 1:]
                  AND coalesce(list_sum(ta.short_points), 0)
                      + coalesce(list_sum(ta.ext_points), 0) = f.primary_score
             END AS _task_points_expected""",
    ]
    if is_ege:
        ctes.append("mins AS (SELECT DISTINCT academic_year::INT AS y, ege_subject_code "
                    "FROM ref_ege_min_scores)")
        joins.append("LEFT JOIN mins ON mins.y = f.academic_year "
                     "AND mins.ege_subject_code = f.source_subject_code")
        sels.append("CASE WHEN f.status IS NULL AND s.result_kind = 'test_score' "
                    "THEN mins.y IS NOT NULL END AS _min_score_found")
        sels.append(f"""CASE WHEN s.result_kind = 'test_score' AND {test_score} IS NOT NULL
                 THEN sck.y IS NOT NULL
              WHEN s.result_kind = 'mark' AND f.mark IS NOT NULL THEN bk.grade IS NOT NULL
              END AS _boundaries_found""")
        sels.append(f"""CASE WHEN s.result_kind <> 'test_score' OR {test_score} IS NULL
                   OR f.primary_score IS NULL OR sck.y IS NULL THEN NULL
              ELSE coalesce(sc.ts = {test_score}, false) END AS _test_score_expected""")
    else:
        sels.append("CASE WHEN f.mark IS NOT NULL THEN bk.grade IS NOT NULL END "
                    "AS _boundaries_found")
    return _assemble(ctes, joins, sels, "gia" if with_registry else None)


# A ВПР/РПР subject name as the staging models compare it (dbt macro `clean_text`, then
# lower()): surrounding and repeated spaces, NBSP and case do not matter. The GX check must
# accept exactly what staging maps to a subject (tests/unit/test_subject_matching.py).
SUBJECT_KEY_SQL = "lower(nullif(trim(regexp_replace(replace({column}, chr(160), ' '), " \
                  "'\\s+', ' ', 'g')), ''))"
# ГИА answer strings against the task spec, per row: `maxes` = the spec's task maxima in sheet
# order (short tasks first); a short cell is `+` (the task's maximum), `-` (0) or a digit.
_GIA_TASKS = """tspec AS (SELECT academic_year::INT AS y, source_subject_code,
                  list(max_points::INT ORDER BY task_no::INT) AS maxes, count(*) AS n_spec
           FROM ref_gia_task_spec WHERE procedure = '{procedure}' GROUP BY ALL),
cells AS (SELECT f.__rid, tspec.maxes, tspec.n_spec,
                 regexp_extract_all(coalesce(f.short_answers, ''), '.') AS chars,
                 list_transform(regexp_extract_all(coalesce(f.extended_answers, ''),
                                '(\\d+)\\((\\d+)\\)', 1), lambda x: x::INT) AS ext_points,
                 list_transform(regexp_extract_all(coalesce(f.extended_answers, ''),
                                '(\\d+)\\((\\d+)\\)', 2), lambda x: x::INT) AS ext_maxes
          FROM f LEFT JOIN tspec ON tspec.y = f.academic_year
                                AND tspec.source_subject_code = f.source_subject_code),
ta AS (SELECT __rid, maxes, n_spec, ext_points, ext_maxes, len(chars) AS n_short,
              list_transform(chars, lambda c, i: CASE WHEN c = '+' THEN maxes[i]
                  WHEN c = '-' THEN 0 ELSE TRY_CAST(c AS INT) END) AS short_points,
              list_concat(
                  list_transform(chars, lambda c, i: TRY_CAST(c AS INT) > maxes[i]),
                  list_transform(ext_points, lambda p, i: p > ext_maxes[i]
                                                          OR p > maxes[len(chars) + i])
              ) AS above_max
       FROM cells)"""


def _vpr_sql(procedure: str, with_registry: bool) -> str:
    ctes = [
        "s AS (SELECT lower(vpr_subject) AS subject_key, min(subject_code) AS subject_code "
        "FROM ref_subjects WHERE vpr_subject IS NOT NULL GROUP BY ALL)",
        _B,
    ]
    joins = [
        f"LEFT JOIN s ON s.subject_key = {SUBJECT_KEY_SQL.format(column='f.subject_name')}",
        f"LEFT JOIN bk ON bk.procedure = '{procedure}' AND bk.y = f.academic_year "
        "AND bk.subject_code = s.subject_code AND bk.grade = f.grade",
        "LEFT JOIN b ON b.procedure = bk.procedure AND b.y = bk.y "
        "AND b.subject_code = bk.subject_code AND b.grade = bk.grade "
        "AND f.primary_score BETWEEN b.lo AND b.hi",
    ]
    sels = [
        "CASE WHEN f.subject_name IS NOT NULL THEN s.subject_code IS NOT NULL END "
        "AS _subject_known",
        """CASE WHEN f.mark IS NULL OR f.primary_score IS NULL OR bk.grade IS NULL THEN NULL
             ELSE coalesce(b.mark = f.mark, false) END AS _mark_expected""",
        "CASE WHEN f.mark IS NOT NULL THEN bk.grade IS NOT NULL END AS _boundaries_found",
    ]
    return _assemble(ctes, joins, sels, "fis" if with_registry else None)


def _olympiad_sql(with_registry: bool) -> str:
    ctes = ["s AS (SELECT DISTINCT subject_name_ru FROM ref_olympiad_subjects)"]
    joins = ["LEFT JOIN s ON s.subject_name_ru = f.subject_name"]
    sels = ["CASE WHEN f.subject_name IS NOT NULL THEN s.subject_name_ru IS NOT NULL END "
            "AS _subject_known"]
    return _assemble(ctes, joins, sels, "code" if with_registry else None)


def _literacy_sql(with_registry: bool) -> str:
    ctes = ["l AS (SELECT domain, level, min_score::DOUBLE AS lo, max_score::DOUBLE AS hi "
            "FROM ref_literacy_levels)"]
    joins = ["LEFT JOIN l ON l.domain = f.domain AND l.level = f.level"]
    sels = ["""CASE WHEN f.score IS NULL OR l.domain IS NULL THEN NULL
                 ELSE f.score BETWEEN l.lo AND l.hi END AS _level_expected"""]
    return _assemble(ctes, joins, sels, "code" if with_registry else None)


# ---- directions 6 and 7 (issue 17) --------------------------------------------------------
def _in_academic_year(column: str) -> str:
    return (f"CASE WHEN f.{column} IS NOT NULL THEN TRY_CAST(f.{column} AS DATE) BETWEEN "
            "make_date(f.academic_year - 1, 9, 1) AND make_date(f.academic_year, 8, 31) END")


def _staff_sql(with_registry: bool) -> str:
    ctes = ["p AS (SELECT DISTINCT position FROM ref_staff_positions)",
            "c AS (SELECT category, TRY_CAST(valid_from AS DATE) AS valid_from "
            "FROM ref_staff_categories)",
            "h AS (SELECT school_code, count(*) AS n FROM f "
            "WHERE lower(trim(position)) = 'директор' GROUP BY ALL)"]
    joins = ["LEFT JOIN p ON p.position = lower(trim(f.position))",
             "LEFT JOIN c ON c.category = lower(trim(f.category))",
             "LEFT JOIN h ON h.school_code = f.school_code "
             "AND lower(trim(f.position)) = 'директор'"]
    sels = [
        "CASE WHEN f.position IS NOT NULL THEN p.position IS NOT NULL END AS _position_known",
        "CASE WHEN f.category IS NOT NULL THEN c.category IS NOT NULL END AS _category_known",
        "CASE WHEN c.valid_from IS NOT NULL THEN coalesce(TRY_CAST(f.category_date AS DATE) "
        ">= c.valid_from, false) END AS _category_date_valid",
        "CASE WHEN h.n IS NOT NULL THEN h.n = 1 END AS _single_head",
        "CASE WHEN lower(trim(f.position)) = 'директор' THEN f.appointment_date IS NOT NULL "
        "END AS _head_appointment_known",
        "CASE WHEN f.appointment_date IS NOT NULL THEN TRY_CAST(f.appointment_date AS DATE) "
        "<= make_date(f.academic_year - 1, 9, 20) END AS _appointment_by_state_date",
        "CASE WHEN f.birth_year IS NOT NULL THEN f.academic_year - 1 - f.birth_year END "
        "AS _age",
    ]
    return _assemble(ctes, joins, sels, "code" if with_registry else None)


def _deficits_sql(with_registry: bool) -> str:
    ctes = ["p AS (SELECT DISTINCT position FROM ref_staff_positions)",
            "d AS (SELECT DISTINCT diagnostic FROM ref_deficit_diagnostics)"]
    joins = ["LEFT JOIN p ON p.position = lower(trim(f.position))",
             "LEFT JOIN d ON lower(d.diagnostic) = lower(trim(f.diagnostic))"]
    sels = [
        "CASE WHEN f.position IS NOT NULL THEN p.position IS NOT NULL END AS _position_known",
        "CASE WHEN f.diagnostic IS NOT NULL THEN d.diagnostic IS NOT NULL END "
        "AS _diagnostic_known",
        _in_academic_year("diagnostic_date") + " AS _date_in_academic_year",
    ]
    return _assemble(ctes, joins, sels, "code" if with_registry else None)


def _dpo_sql() -> str:
    return ("SELECT f.__rid, " + _in_academic_year("issue_date")
            + " AS _date_in_academic_year FROM f ORDER BY f.__rid")


def _nokuod_sql(with_registry: bool) -> str:
    criteria = ("openness", "comfort", "accessibility", "courtesy", "satisfaction")
    present = " AND ".join(f"f.{c} IS NOT NULL" for c in criteria + ("total_score",))
    mean = " + ".join(f"f.{c}" for c in criteria)
    # ±0.1 of the contract, plus a hair for the binary representation of decimals
    sels = [f"CASE WHEN {present} THEN abs(f.total_score - ({mean}) / 5.0) <= 0.1 + 1e-9 END "
            "AS _total_is_mean"]
    return _assemble(["x AS (SELECT 1)"], [], sels, "code" if with_registry else None)


def _measures_sql(with_registry: bool) -> str:
    """The register of measures: kinds and indicator codes of the seeds, the target code
    that goes with `Уровень`, the target in the registry of the year."""
    norm = "regexp_replace(lower(replace(trim({}), 'ё', 'е')), '\\s+', ' ', 'g')"
    ctes = [f"k AS (SELECT DISTINCT {norm.format('measure_kind')} AS kind FROM ref_measure_kinds)",
            "i AS (SELECT DISTINCT upper(trim(indicator_code)) AS code FROM indicator_catalogue)"]
    joins = [f"LEFT JOIN k ON k.kind = {norm.format('f.measure_kind')}",
             "LEFT JOIN i ON i.code = upper(trim(f.target_indicator))"]
    sels = [
        "CASE WHEN f.measure_kind IS NOT NULL THEN k.kind IS NOT NULL END AS _kind_known",
        "CASE WHEN f.target_indicator IS NOT NULL THEN i.code IS NOT NULL END "
        "AS _indicator_known",
        """CASE f.target_level WHEN 'ОО' THEN f.school_code IS NOT NULL
             WHEN 'МСУ' THEN f.msu_code IS NOT NULL AND f.school_code IS NULL
           END AS _target_matches_level""",
        "CASE WHEN f.start_date IS NOT NULL THEN f.start_date::DATE < "
        "make_date(f.academic_year::INT, 9, 1) END AS _start_in_register_year",
    ]
    if with_registry:
        ctes.append("rm AS (SELECT DISTINCT academic_year::INT AS y, trim(msu_code) AS msu "
                    "FROM reg WHERE msu_code IS NOT NULL)")
        ctes.append("rs AS (SELECT academic_year::INT AS y, school_code, "
                    "any_value(trim(msu_code)) AS msu FROM reg WHERE school_code IS NOT NULL "
                    "GROUP BY ALL)")
        joins.append("LEFT JOIN rm ON rm.y = f.academic_year AND rm.msu = f.msu_code")
        joins.append("LEFT JOIN rs ON rs.y = f.academic_year AND rs.school_code = f.school_code")
        sels.append("CASE WHEN f.target_level = 'МСУ' AND f.msu_code IS NOT NULL "
                    "THEN rm.msu IS NOT NULL END AS _msu_known")
        sels.append("CASE WHEN f.target_level = 'ОО' AND f.msu_code IS NOT NULL "
                    "AND rs.school_code IS NOT NULL THEN rs.msu = f.msu_code END "
                    "AS _school_in_msu")
    return _assemble(ctes, joins, sels, "code" if with_registry else None)


def _niko_sql(with_registry: bool) -> str:
    """НИКО: its subjects are reference data of their own (ref_niko_subjects); there are no
    mark boundaries to check the marks against."""
    ctes = ["s AS (SELECT niko_subject, min(subject_code) AS subject_code "
            "FROM ref_niko_subjects GROUP BY ALL)"]
    joins = ["LEFT JOIN s ON lower(s.niko_subject) = lower(f.subject_name)"]
    sels = ["CASE WHEN f.subject_name IS NOT NULL THEN s.subject_code IS NOT NULL END "
            "AS _subject_known"]
    return _assemble(ctes, joins, sels, "fis" if with_registry else None)


# ---- issue 18: surveys, graduates, career ----------------------------------------------
def _norm_text(expr: str) -> str:
    """Answer matching key: case, ё/е, surrounding and repeated spaces do not matter."""
    return (f"lower(regexp_replace(trim(replace(replace({expr}, 'ё', 'е'), 'Ё', 'Е')), "
            r"'\s+', ' ', 'g'))")


def _survey_sql(with_registry: bool) -> str:
    ctes = [f"q AS (SELECT questionnaire, question_code, list_transform(string_split(options, "
            f"'|'), lambda x: {_norm_text('x')}) AS opts FROM ref_survey_questions)"]
    joins = ["LEFT JOIN q ON q.questionnaire = lower(trim(f.questionnaire)) "
             "AND q.question_code = trim(f.question_code)"]
    sels = ["CASE WHEN f.questionnaire IS NOT NULL AND f.question_code IS NOT NULL "
            "THEN q.question_code IS NOT NULL END AS _question_known",
            f"CASE WHEN f.answer IS NULL OR q.question_code IS NULL THEN NULL "
            f"ELSE list_contains(q.opts, {_norm_text('f.answer')}) END AS _answer_is_option",
            "CASE lower(trim(f.questionnaire)) WHEN 'педагоги' THEN f.class_name IS NULL "
            "WHEN 'обучающиеся' THEN f.class_name IS NOT NULL "
            "WHEN 'родители' THEN f.class_name IS NOT NULL END AS _class_consistent"]
    return _assemble(ctes, joins, sels, "code" if with_registry else None)


def graduate_cohort_columns() -> dict[int, list[str]]:
    """{cohort: destination columns that belong to that cohort only} (ref_graduate_destinations)."""
    seed = _seed("ref_graduate_destinations")
    by = {int(c): set(seed.loc[seed["cohort"] == c, "destination"]) for c in seed["cohort"].unique()}
    return {c: sorted(cols - set().union(*(v for k, v in by.items() if k != c)))
            for c, cols in by.items()}


def _graduates_sql(with_registry: bool) -> str:
    seed = _seed("ref_graduate_destinations")
    every = sorted(set(seed["destination"]))
    total = " + ".join(f"coalesce(f.{c}, 0)" for c in every)
    only = graduate_cohort_columns()
    other = {9: only.get(11, []), 11: only.get(9, [])}
    empty = {c: " AND ".join(f"coalesce(f.{col}, 0) = 0" for col in cols) or "true"
             for c, cols in other.items()}
    sels = [f"CASE WHEN f.graduates_total IS NULL THEN NULL ELSE ({total}) = f.graduates_total "
            "END AS _destinations_sum_ok",
            f"CASE f.cohort WHEN 9 THEN {empty[9]} WHEN 11 THEN {empty[11]} END "
            "AS _other_cohort_empty"]
    return _assemble([], [], sels, "code" if with_registry else None)


def _career_sql(with_registry: bool) -> str:
    ctes = ["p AS (SELECT DISTINCT lower(trim(profile)) AS profile FROM ref_career_profiles)",
            "items AS (SELECT f.__rid, lower(trim(u.item)) AS item FROM f, "
            "unnest(string_split(f.profiles, ',')) AS u(item) WHERE trim(u.item) <> '')",
            "checked AS (SELECT items.__rid, bool_and(p.profile IS NOT NULL) AS ok "
            "FROM items LEFT JOIN p ON p.profile = items.item GROUP BY items.__rid)"]
    joins = ["LEFT JOIN checked ON checked.__rid = f.__rid"]
    sels = ["CASE WHEN f.profiles IS NULL THEN NULL ELSE coalesce(checked.ok, true) END "
            "AS _profiles_known"]
    return _assemble(ctes, joins, sels, "code" if with_registry else None)


def _schools_sql() -> str:
    return """SELECT f.__rid,
        CASE WHEN f.successor_code IS NULL THEN NULL
             ELSE f.successor_code IN (SELECT school_code FROM f WHERE school_code IS NOT NULL)
        END AS _successor_known
      FROM f ORDER BY f.__rid"""


def _assemble(ctes: list[str], joins: list[str], sels: list[str], registry: str | None) -> str:
    if registry:
        cte, join, sel = _registry_join(registry)
        ctes, joins, sels = ctes + [cte], joins + [join], sels + [sel]
    return (("WITH " + ",\n".join(ctes) + "\n" if ctes else "")
            + "SELECT f.__rid, " + ",\n  ".join(sels)
            + "\nFROM f " + "\n".join(joins) + "\nORDER BY f.__rid")


# the frame columns each SQL reads (only these are handed to DuckDB)
_INPUT_COLUMNS = {
    "schools": ("school_code", "successor_code"),
    "ege": ("academic_year", "source_subject_code", "status", "primary_score", "test_score",
            "mark", "short_answers", "extended_answers", "msu_code", "gia_school_code"),
    "oge": ("academic_year", "source_subject_code", "status", "primary_score", "mark",
            "short_answers", "extended_answers", "msu_code", "gia_school_code"),
    "vpr": ("academic_year", "subject_name", "grade", "primary_score", "mark", "fis_login"),
    "olympiad": ("academic_year", "subject_name", "school_code"),
    "literacy": ("academic_year", "domain", "level", "score", "school_code"),
    "staff": ("academic_year", "school_code", "position", "category", "category_date",
              "appointment_date", "birth_year"),
    "deficits": ("academic_year", "school_code", "position", "diagnostic", "diagnostic_date"),
    "dpo": ("academic_year", "issue_date"),
    "nokuod": ("academic_year", "school_code", "openness", "comfort", "accessibility",
               "courtesy", "satisfaction", "total_score"),
    "measures": ("academic_year", "measure_kind", "target_indicator", "target_level",
                 "school_code", "msu_code", "start_date"),
}
_INPUT_COLUMNS["rpr"] = _INPUT_COLUMNS["vpr"]
_INPUT_COLUMNS["niko"] = ("academic_year", "subject_name", "fis_login")
_INPUT_COLUMNS["survey"] = ("academic_year", "school_code", "questionnaire", "question_code",
                            "answer", "class_name")
_INPUT_COLUMNS["career"] = ("academic_year", "school_code", "profiles")
_INPUT_COLUMNS["graduates"] = ()      # the destination columns of the seed: _graduates_inputs


def _graduates_inputs() -> tuple[str, ...]:
    seed = _seed("ref_graduate_destinations")
    return ("academic_year", "school_code", "cohort", "graduates_total",
            *sorted(set(seed["destination"])))


def derived_sql(suite: str, with_registry: bool) -> str | None:
    if suite == "schools":
        return _schools_sql()
    if suite in ("ege", "oge"):
        return _gia_sql(suite.upper(), with_registry)
    if suite in ("vpr", "rpr"):
        return _vpr_sql(suite.upper(), with_registry)
    if suite == "olympiad":
        return _olympiad_sql(with_registry)
    if suite == "niko":
        return _niko_sql(with_registry)
    if suite == "survey":
        return _survey_sql(with_registry)
    if suite == "graduates":
        return _graduates_sql(with_registry)
    if suite == "career":
        return _career_sql(with_registry)
    if suite == "literacy":
        return _literacy_sql(with_registry)
    if suite == "staff":
        return _staff_sql(with_registry)
    if suite == "deficits":
        return _deficits_sql(with_registry)
    if suite == "dpo":
        return _dpo_sql()
    if suite == "nokuod":
        return _nokuod_sql(with_registry)
    if suite == "measures":
        return _measures_sql(with_registry)
    return None


def add_derived_columns(suite: str, df: pd.DataFrame,
                        context_tables: Mapping | None) -> tuple[pd.DataFrame, list[str]]:
    """Return (frame with the derived columns added, notes). Missing input columns leave the
    derived columns out (their expectations are then skipped; the missing column itself fails
    ``expect_column_to_exist``)."""
    import duckdb

    notes: list[str] = []
    registry = (context_tables or {}).get(REGISTRY_KEY) if context_tables is not None else None
    with_registry = registry is not None
    if not with_registry and suite not in ("schools", "dpo") and suite in _INPUT_COLUMNS:
        notes.append("registry of schools not provided: known-school checks skipped / "
                     "реестр ОО не передан: проверки известной школы пропущены")
    if with_registry and "registry_year" in getattr(registry, "columns", ()):
        used = {int(y) for y in pd.unique(registry["registry_year"].dropna())}
        year = _single_year(df)
        if used and year is not None and used != {year}:
            notes.append(f"no registry of schools of {year} loaded: schools checked against the "
                         f"registry of {', '.join(map(str, sorted(used)))} / реестр ОО {year} не "
                         f"загружен: школы сверены с реестром {', '.join(map(str, sorted(used)))}")
    sql = derived_sql(suite, with_registry)
    if sql is None:
        return df, notes
    inputs = _graduates_inputs() if suite == "graduates" else _INPUT_COLUMNS[suite]
    needed = [c for c in inputs
              if with_registry or c not in ("msu_code", "gia_school_code", "fis_login")
              or suite == "schools"]
    if suite in ("olympiad", "literacy", "career", "survey", "graduates") and not with_registry:
        needed = [c for c in needed if c != "school_code"]
    if suite == "measures":     # its codes are also checked against the level, registry or not
        needed = list(_INPUT_COLUMNS[suite])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        notes.append("derived checks skipped, input columns missing / производные проверки "
                     "пропущены, нет столбцов: " + ", ".join(missing))
        return df, notes
    frame = df[needed].copy()
    frame["__rid"] = range(len(frame))
    with duckdb.connect() as con:
        con.register("f", frame)
        for name, table in reference_tables(context_tables).items():
            con.register(name, table if len(table.columns) else _empty_seed(name))
        if with_registry:
            reg = registry if isinstance(registry, pd.DataFrame) else registry.to_pandas()
            if "academic_year" not in reg.columns:
                reg = reg.copy()
                reg["academic_year"] = _single_year(df)
            con.register("reg", reg)
        result = con.execute(sql).df()
    out = df.copy()
    for col in result.columns:
        if col == "__rid":
            continue
        values = result[col]
        if col in ("_max_primary_score", "_age"):
            out[col] = values.astype("Int64").to_numpy()
        else:   # nullable boolean → object True/False/None (what GX's in-set expects)
            out[col] = values.astype(object).where(values.notna(), None).to_numpy()
    return out, notes


def _single_year(df: pd.DataFrame):
    years = df["academic_year"].dropna().unique() if "academic_year" in df.columns else []
    return int(years[0]) if len(years) == 1 else None


_SEED_COLUMNS = {
    "ref_gia_subjects": "procedure,source_subject_code,subject_name_ru,subject_code,exam_kind,"
                        "result_kind",
    "ref_gia_task_spec": "procedure,academic_year,source_subject_code,task_no,answer_part,"
                         "max_points",
    "ref_ege_score_scale": "academic_year,ege_subject_code,primary_score,test_score",
    "ref_mark_boundaries": "procedure,academic_year,subject_code,grade,mark,min_primary_score,"
                           "max_primary_score",
    "ref_subjects": "subject_code,subject_name_ru,subject_name_en,ege_code,oge_code,vpr_subject",
    "ref_olympiad_subjects": "subject_name_ru,subject_code",
    "ref_literacy_levels": "domain,level,min_score,max_score",
    "ref_ege_min_scores": "academic_year,ege_subject_code,subject_code,min_test_score,min_mark",
    "ref_staff_positions": "position,position_en,is_teacher,is_head,is_deputy,sort_order",
    "ref_staff_categories": "category,category_en,category_group,category_rank,valid_from,"
                            "requires_category",
    "ref_deficit_diagnostics": "diagnostic,subject_code,is_managerial",
    "ref_measure_kinds": "measure_kind,kind_code,name_en,description_ru",
    "indicator_catalogue": "indicator_code,name_ru,name_en,direction,formula,unit,"
                           "desired_direction,target,sources",
    "ref_niko_subjects": "niko_subject,subject_code",
    "ref_survey_questions": "questionnaire,question_code,question_text,indicator,options,"
                            "positive_options",
    "ref_graduate_destinations": "destination,cohort,destination_order,destination_name_ru,"
                                 "destination_group",
    "ref_career_profiles": "profile,profile_code",
}


def _empty_seed(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _SEED_COLUMNS[name].split(",")})
