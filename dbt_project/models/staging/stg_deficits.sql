{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- Deficit diagnostics as delivered, one row per person diagnosed; element cells stay a list
-- (element i is stg_deficits_elements.element_order = i of the same file).

with source as (

    select * from {{ source('raw', 'deficits') }}
    where {{ academic_year_filter() }}

),

renamed as (

    select
        academic_year,
        {{ clean_text('diagnostic') }}                       as diagnostic,
        title_year,
        max_total_score,
        staff_key,
        {{ clean_code('school_code') }}                      as school_code,
        lower({{ clean_text('position') }})                  as position,
        diagnostic_date,
        element_scores,
        total_score,
        _file_id,
        _source_line

    from source

)

select * from renamed
