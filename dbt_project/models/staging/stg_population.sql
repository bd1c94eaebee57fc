{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Children by age and municipality (Росстат): codes cleaned, one row per landing line.

with source as (

    select * from {{ released_rows('population') }}
    where {{ in_build_scope() }}

),

renamed as (

    select
        academic_year,
        {{ clean_code('msu_code') }}                      as msu_code,
        {{ clean_text('msu_name') }}                      as msu_name,
        age,
        population,
        _file_id,
        _source_line,
        _slice

    from source

)

select * from renamed
