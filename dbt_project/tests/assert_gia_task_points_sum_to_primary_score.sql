-- Shown in Dagster as a check of int_gia_task_scores (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'int_gia_task_scores'}}}) }}
-- ГИА: the task points parsed from the short- and extended-answer strings add up to the
-- sheet's primary score, and every parsed task exists in reference.ref_gia_task_spec with
-- the same maximum the sheet declares (extended part). Every returned row is a violation.
with tasks as (
    select
        result_id,
        sum(points)                                                     as points,
        count(*) filter (where max_points is null)                      as tasks_without_spec,
        count(*) filter (where declared_max_points <> max_points)       as max_mismatch,
        count(*) filter (where points is null)                          as unparsed_cells
    from {{ ref('int_gia_task_scores') }}
    group by result_id
)
select r.result_id, r.procedure, r.source_subject_code, r.academic_year, r._file_id,
       r._source_line, r.primary_score, t.points, t.tasks_without_spec, t.max_mismatch,
       t.unparsed_cells
from {{ ref('int_gia_results') }} as r
join tasks as t using (result_id)
where r.primary_score is distinct from t.points
   or t.tasks_without_spec > 0
   or t.max_mismatch > 0
   or t.unparsed_cells > 0
