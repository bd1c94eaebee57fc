{{ config(materialized='table', schema='core') }}

-- Tasks per procedure × academic_year × subject_code × grade × task_order.
-- ВПР/РПР: the task columns the loaded files declare (label, max points, level); if two
-- files of the same form disagree, the most recently loaded file wins.
-- ГИА: reference.ref_gia_task_spec (tasks 1…n in sheet order, short then extended).

with vpr_tasks as (

    select * from {{ ref('stg_vpr_tasks') }}
    union all by name
    select * from {{ ref('stg_rpr_tasks') }}
    union all by name
    select * from {{ ref('stg_niko_tasks') }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

vpr as (

    select
        vpr_tasks.procedure,
        vpr_tasks.academic_year,
        vpr_tasks.subject_code,
        vpr_tasks.grade,
        vpr_tasks.task_order,
        arg_max(vpr_tasks.task, files.loaded_at)          as task,
        arg_max(vpr_tasks.max_points, files.loaded_at)    as max_points,
        arg_max(vpr_tasks.task_level, files.loaded_at)    as task_level,
        null::varchar                                     as answer_part,
        'file_header'                                     as task_source
    from vpr_tasks
    left join files on files.file_id = vpr_tasks._file_id
    where vpr_tasks.subject_code is not null
    group by all

),

gia as (

    select
        subjects.exam_kind                                as procedure,
        spec.academic_year,
        subjects.subject_code,
        case when subjects.exam_kind = 'EGE' then 11 else 9 end as grade,
        spec.task_no                                      as task_order,
        spec.task_no::varchar                             as task,
        spec.max_points,
        null::varchar                                     as task_level,
        spec.answer_part,
        'reference'                                       as task_source
    from {{ ref('ref_gia_task_spec') }} as spec
    join {{ ref('ref_gia_subjects') }} as subjects
        on  subjects.procedure = spec.procedure
        and subjects.source_subject_code = spec.source_subject_code

),

unioned as (

    select * from vpr
    union all by name
    select * from gia

),

final as (

    select
        {{ task_key('procedure', 'academic_year', 'subject_code', 'grade', 'task_order') }}::varchar
                                                          as task_key,
        procedure::varchar                                as procedure,
        academic_year::integer                            as academic_year,
        subject_code::varchar                             as subject_code,
        grade::integer                                    as grade,
        task_order::integer                               as task_order,
        task::varchar                                     as task,
        max_points::integer                               as max_points,
        task_level::varchar                               as task_level,
        answer_part::varchar                              as answer_part,
        task_source::varchar                              as task_source
    from unioned

)

select * from final
