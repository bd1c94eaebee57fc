{{ config(materialized='view', schema='intermediate') }}

-- ВПР/РПР task cells unnested from task_scores and aligned by position with the task columns
-- the same file declared (stg_*_tasks.task_order). Cell decoding:
--   number ('1', '0.5', '0,5')  → points, attempted, assessed;
--   'X' (Latin or Cyrillic Х)   → 0 points, attempted = false, assessed = true;
--   '-'                         → points NULL, assessed = false (excluded from mastery);
--   empty cell / other text     → points NULL, assessed = false, raw_value kept.
-- The result's attributes (subject, grade, school, result of record) come along, so that
-- core.fct_task_score needs no join of ~10 cells per work back to the 50M-row fact.

with results as (

    select * from {{ ref('int_vpr_rpr_results') }}
    where reject_reason is null

),

tasks as (

    select * from {{ ref('stg_vpr_tasks') }}
    union all by name
    select * from {{ ref('stg_rpr_tasks') }}
    union all by name
    select * from {{ ref('stg_niko_tasks') }}

),

cells as (

    select
        result_id,
        academic_year, procedure, subject_code, grade, school_code, is_result_of_record,
        _file_id, _slice,
        unnest(task_scores)                             as raw_value,
        generate_subscripts(task_scores, 1)             as task_order
    from results
    where task_scores is not null

),

decoded as (

    select
        cells.result_id,
        cells._slice,
        cells.academic_year,
        cells.procedure,
        cells.subject_code,
        cells.grade,
        cells.school_code,
        cells.is_result_of_record,
        cells.task_order,
        tasks.task,
        tasks.max_points,
        tasks.task_level,
        cells.raw_value,
        case
            when cells.raw_value = 'X' then 0
            else try_cast(replace(cells.raw_value, ',', '.') as double)
        end                                             as points,
        case
            when cells.raw_value = 'X' then false
            when try_cast(replace(cells.raw_value, ',', '.') as double) is not null then true
        end                                             as attempted,
        coalesce(cells.raw_value = 'X'
         or try_cast(replace(cells.raw_value, ',', '.') as double) is not null, false) as assessed
    from cells
    left join tasks
        on  tasks._file_id = cells._file_id
        and tasks.task_order = cells.task_order

)

select * from decoded
