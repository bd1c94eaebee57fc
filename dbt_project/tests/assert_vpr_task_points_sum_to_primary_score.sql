-- Shown in Dagster as a check of int_vpr_rpr_task_scores (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'int_vpr_rpr_task_scores'}}}) }}
-- ВПР/РПР: the points of the task cells (X = 0, '-' and empty excluded) add up to the
-- primary score of the work, and every cell has a task column declared by its file.
-- Every returned row is a violation.
with tasks as (
    select
        result_id,
        coalesce(sum(points), 0)                                        as points,
        count(*) filter (where task is null)                            as cells_without_task,
        count(*) filter (where points > max_points)                     as above_max
    from {{ ref('int_vpr_rpr_task_scores') }}
    where {{ build_scope_condition() }}      -- tonight's slices (macros/test_scope.sql)
    group by result_id
)
select r.result_id, r.procedure, r.subject_name, r.grade, r._file_id, r._source_line,
       r.primary_score, t.points, t.cells_without_task, t.above_max
from {{ ref('int_vpr_rpr_results') }} as r
join tasks as t using (result_id)
where r.primary_score is distinct from t.points
   or t.cells_without_task > 0
   or t.above_max > 0
