{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- НОКУОД results as delivered, cleaned.

with source as (

    select * from {{ released_rows('nokuod') }}
    where {{ in_build_scope() }}

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
        _source_line,
        _slice

    from source

)

select * from renamed
