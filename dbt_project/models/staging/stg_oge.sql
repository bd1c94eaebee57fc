{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- РИС ГИА source procedure OGE: the sheet's subject code is decoded through
-- reference.ref_gia_subjects into the unified subject_code and the exam kind
-- (EGE, OGE or GVE9: ОГЭ sheets with codes 51–68 are ГВЭ-9). An unknown code keeps
-- subject_code NULL; core routes such rows to rejected_results.

with source as (

    select * from {{ source('raw', 'oge') }}
    where {{ academic_year_filter() }}

),

gia_subjects as (

    select * from {{ ref('ref_gia_subjects') }}
    where procedure = 'OGE'

),

renamed as (

    select
        source.academic_year,
        'OGE'                                          as source_procedure,
        gia_subjects.exam_kind                             as procedure,
        {{ clean_code('source.source_subject_code') }}     as source_subject_code,
        gia_subjects.subject_code,
        gia_subjects.result_kind,
        {{ clean_text('source.subject_name') }}            as subject_name,
        source.exam_date,
        9                                           as grade,
        {{ clean_code('source.row_no') }}                  as row_no,
        {{ clean_code('source.msu_code') }}                as msu_code,
        {{ clean_code('source.gia_school_code') }}         as gia_school_code,
        upper({{ clean_text('source.class_name') }})       as class_name,
        {{ clean_code('source.ppe_code') }}                as ppe_code,
        {{ clean_code('source.room') }}                    as room,
        source.participant_key,
        nullif(replace(trim(source.short_answers), ' ', ''), '')    as short_answers,
        nullif(replace(trim(source.extended_answers), ' ', ''), '') as extended_answers,
        source.primary_score_written,
        source.primary_score_oral,
        source.primary_score,
        null::integer                                              as test_score,
        source.mark,
        {{ clean_text('source.status') }}                  as status_raw,
        case
            when {{ clean_text('source.status') }} is null then 'ok'
            when lower(replace(trim(source.status), 'ё', 'е')) like 'удал%' then 'removed'
            when lower(trim(source.status)) like 'аннул%' then 'annulled'
            else 'unknown'
        end                                                as result_status,
        source._file_id,
        source._source_line

    from source
    left join gia_subjects
        on gia_subjects.source_subject_code = {{ clean_code('source.source_subject_code') }}

)

select * from renamed
