{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- The task columns declared in each RPR file's header (row 3 level, row 4 header):
-- task_order is the position of the cell in stg_rpr.task_scores.

with source as (

    select * from {{ source('raw', 'rpr_tasks') }}
    where {{ academic_year_filter() }}

),

subjects as (

    select subject_code, vpr_subject from {{ ref('ref_subjects') }}
    where vpr_subject is not null

),

renamed as (

    select
        source.academic_year,
        'RPR'                                          as procedure,
        {{ clean_text('source.subject_name') }}            as subject_name,
        subjects.subject_code,
        source.grade,
        source.task_order,
        {{ clean_code('source.task') }}                    as task,
        source.max_points,
        upper({{ clean_code('source.task_level') }})       as task_level,
        source.source_header,
        source._file_id,
        source._source_line

    from source
    left join subjects
        on lower(subjects.vpr_subject) = lower({{ clean_text('source.subject_name') }})

)

select * from renamed
