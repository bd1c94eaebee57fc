-- Shown in Dagster as a check of int_gia_task_scores (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'int_gia_task_scores'}}}) }}
-- ГИА: for every attachable result line with status `ok`, the task points parsed from the
-- short- and extended-answer strings add up to the sheet's primary score, every parsed task
-- exists in reference.ref_gia_task_spec, and the extended part declares the spec's maximum.
-- Removed and annulled lines are not checked: their primary score is empty by definition and
-- their answer strings count for nothing (int_gia_task_scores gives them no task rows).
-- Every returned row is a violation: the result line with its file and line.
-- (int_gia_task_scores keeps only the tasks of the spec: a string with more tasks shows
-- here as tasks_without_spec = tasks in the strings − task rows.)
with tasks as (
    select
        result_id,
        sum(points)                                                     as task_points,
        count(*)                                                        as task_rows,
        count(*) filter (where declared_max_points <> max_points)       as max_mismatch,
        count(*) filter (where points is null)                          as unparsed_cells
    from {{ ref('int_gia_task_scores') }}
    where {{ build_scope_condition() }}      -- tonight's slices (macros/test_scope.sql)
    group by result_id
),
results as (
    select *,
        coalesce(length(short_answers), 0)
        + len(regexp_extract_all(coalesce(extended_answers, ''), '\d+\(\d+\)'))  as string_tasks
    from {{ ref('int_gia_results') }}
    where reject_reason is null
      and result_status = 'ok'
)
select r.result_id, r.source_procedure, r.procedure, r.source_subject_code, r.subject_name,
       r.academic_year, r.exam_date, r.msu_code, r.gia_school_code, r.result_status,
       r.primary_score, t.task_points, r.string_tasks - t.task_rows as tasks_without_spec,
       t.max_mismatch, t.unparsed_cells, r._file_id, r._source_line
from results as r
join tasks as t using (result_id)
where r.primary_score is distinct from t.task_points
   or r.string_tasks <> t.task_rows
   or t.max_mismatch > 0
   or t.unparsed_cells > 0
