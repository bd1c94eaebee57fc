{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- ДПО documents as delivered, cleaned, with the normalised programme name the programme
-- classification (seed ref_dpo_programmes) is matched on.

with source as (

    select * from {{ source('raw', 'dpo') }}
    where {{ academic_year_filter() }}

),

renamed as (

    select
        academic_year,
        staff_key,
        document_key,
        {{ clean_code('registration_number') }}                    as registration_number,
        {{ clean_text('document_kind') }}                          as document_kind,
        {{ clean_text('document_status') }}                        as document_status,
        {{ clean_text('document_status') }} = 'Дубликат'           as is_duplicate,
        issue_date,
        lower({{ clean_text('programme_kind') }})                  as programme_kind,
        {{ clean_text('programme_name') }}                         as programme_name,
        {{ dpo_programme_key('programme_name') }}                  as programme_name_key,
        start_year,
        end_year,
        hours,
        birth_year,
        lower({{ clean_text('sex') }})                             as sex,
        {{ clean_text('study_form') }}                             as study_form,
        {{ clean_text('funding_source') }}                         as funding_source,
        _file_id,
        _source_line

    from source

)

select * from renamed
