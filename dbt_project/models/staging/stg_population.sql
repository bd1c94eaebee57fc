{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- Children by age and municipality (Росстат): codes cleaned, one row per landing line.

with source as (

    select * from {{ source('raw', 'population') }}
    where {{ academic_year_filter() }}

),

renamed as (

    select
        academic_year,
        {{ clean_code('msu_code') }}                      as msu_code,
        {{ clean_text('msu_name') }}                      as msu_name,
        age,
        population,
        _file_id,
        _source_line

    from source

)

select * from renamed
