{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- One row per result × task (every result of fct_assessment_result that carries task cells,
-- results of record or not; filter is_result_of_record for mastery).
-- No join back to the fact: both task models carry their result's attributes from the same
-- attachable rows the fact is built from (reject_reason is null). Joining ~600M cells to the
-- 50M-row fact spilled 52 GB of temp files on tier F; the relationships test on result_id
-- guards that the two still agree.

with gia as (

    select
        result_id,
        _slice,
        academic_year,
        procedure,
        subject_code,
        grade,
        school_code,
        is_result_of_record,
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
    from {{ ref('int_gia_task_scores') }}
    where {{ in_build_scope() }}

),

vpr as (

    select
        result_id,
        _slice,
        academic_year,
        procedure,
        subject_code,
        grade,
        school_code,
        is_result_of_record,
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
    from {{ ref('int_vpr_rpr_task_scores') }}
    where {{ in_build_scope() }}

),

unioned as (

    select * from gia
    union all by name
    select * from vpr

),

final as (

    select
        result_id::varchar                           as result_id,
        {{ task_key('procedure', 'academic_year', 'subject_code', 'grade', 'task_order') }}::varchar as task_key,
        academic_year::integer                       as academic_year,
        procedure::varchar                           as procedure,
        subject_code::varchar                        as subject_code,
        grade::integer                               as grade,
        school_code::varchar                         as school_code,
        task_order::integer                          as task_order,
        task::varchar                                as task,
        task_level::varchar                          as task_level,
        answer_part::varchar                         as answer_part,
        raw_value::varchar                           as raw_value,
        points::double                               as points,
        max_points::integer                          as max_points,
        declared_max_points::integer                 as declared_max_points,
        attempted::boolean                           as attempted,
        assessed::boolean                            as assessed,
        is_result_of_record::boolean                 as is_result_of_record,
        _slice::varchar                              as _slice
    from unioned

)

select * from final
