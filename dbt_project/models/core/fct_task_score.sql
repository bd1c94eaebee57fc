{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- One row per result × task (every result of fct_assessment_result that carries task cells,
-- results of record or not; filter is_result_of_record for mastery).

with gia_tasks as (

    select * from {{ ref('int_gia_task_scores') }}
    where {{ academic_year_filter() }}

),

vpr_tasks as (

    select * from {{ ref('int_vpr_rpr_task_scores') }}
    where {{ academic_year_filter() }}

),

results as (

    select result_id, academic_year, procedure, subject_code, grade, school_code,
           is_result_of_record
    from {{ ref('fct_assessment_result') }}
    where {{ academic_year_filter() }}

),

gia as (

    select
        result_id,
        task_no                          as task_order,
        task_no::varchar                 as task,
        null::varchar                    as task_level,
        answer_part,
        raw_value,
        points::double                   as points,
        max_points,
        declared_max_points,
        null::boolean                    as attempted,   -- not recorded in ГИА sheets
        points is not null               as assessed
    from gia_tasks

),

vpr as (

    select
        result_id,
        task_order,
        task,
        task_level,
        null::varchar                    as answer_part,
        raw_value,
        points,
        max_points,
        null::integer                    as declared_max_points,
        attempted,
        assessed
    from vpr_tasks

),

unioned as (

    select * from gia
    union all by name
    select * from vpr

),

final as (

    select
        unioned.result_id::varchar                   as result_id,
        {{ task_key('results.procedure', 'results.academic_year', 'results.subject_code',
                    'results.grade', 'unioned.task_order') }}::varchar as task_key,
        results.academic_year::integer               as academic_year,
        results.procedure::varchar                   as procedure,
        results.subject_code::varchar                as subject_code,
        results.grade::integer                       as grade,
        results.school_code::varchar                 as school_code,
        unioned.task_order::integer                  as task_order,
        unioned.task::varchar                        as task,
        unioned.task_level::varchar                  as task_level,
        unioned.answer_part::varchar                 as answer_part,
        unioned.raw_value::varchar                   as raw_value,
        unioned.points::double                       as points,
        unioned.max_points::integer                  as max_points,
        unioned.declared_max_points::integer         as declared_max_points,
        unioned.attempted::boolean                   as attempted,
        unioned.assessed::boolean                    as assessed,
        results.is_result_of_record::boolean         as is_result_of_record
    from unioned
    join results on results.result_id = unioned.result_id

)

select * from final
