{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- НОКУОД results as delivered, cleaned.

with source as (

    select * from {{ source('raw', 'nokuod') }}
    where {{ academic_year_filter() }}

),

renamed as (

    select
        academic_year,
        {{ clean_code('school_code') }}          as school_code,
        {{ clean_code('inn') }}                  as inn,
        {{ clean_text('school_name') }}          as school_name,
        openness,
        comfort,
        accessibility,
        courtesy,
        satisfaction,
        total_score,
        n_respondents,
        _file_id,
        _source_line

    from source

)

select * from renamed
