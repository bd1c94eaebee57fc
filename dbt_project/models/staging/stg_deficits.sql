{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Deficit diagnostics as delivered, one row per person diagnosed; element cells stay a list
-- (element i is stg_deficits_elements.element_order = i of the same file).

with source as (

    select * from {{ released_rows('deficits') }}
    where {{ in_build_scope() }}

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
        _source_line,
        _slice

    from source

)

select * from renamed
