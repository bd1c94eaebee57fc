{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- ФИС ОКО «Индивидуальные результаты» (VPR): the subject name of the title row is decoded
-- through reference.ref_subjects.vpr_subject into the unified subject_code (NULL if unknown:
-- core routes such rows to rejected_results). task_scores stays a list aligned with
-- stg_vpr_tasks.task_order; the cells are decoded in int_vpr_rpr_task_scores.

with source as (

    select * from {{ source('raw', 'vpr') }}
    where {{ academic_year_filter() }}

),

subjects as (

    select subject_code, vpr_subject from {{ ref('ref_subjects') }}
    where vpr_subject is not null

),

renamed as (

    select
        source.academic_year,
        'VPR'                                          as procedure,
        {{ clean_text('source.subject_name') }}            as subject_name,
        subjects.subject_code,
        source.grade,
        source.max_primary_score,
        {{ clean_text('source.msu_name') }}                as msu_name,
        lower({{ clean_code('source.fis_login') }})        as fis_login,
        {{ clean_text('source.school_name') }}             as school_name,
        {{ clean_code('source.participant_code') }}        as participant_code,
        upper({{ clean_text('source.class_name') }})       as class_name,
        source.variant,
        list_transform(source.task_scores,
            lambda x: nullif(upper(replace(trim(x), 'Х', 'X')), ''))  as task_scores,
        source.primary_score,
        source.mark,
        source.journal_mark,
        {{ clean_text('source.journal_mark_raw') }}        as journal_mark_raw,
        'ok'                                               as result_status,
        source._file_id,
        source._source_line

    from source
    left join subjects
        on lower(subjects.vpr_subject) = lower({{ clean_text('source.subject_name') }})

)

select * from renamed
