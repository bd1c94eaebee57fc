{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Graduate destinations per school × cohort as delivered (wide: one column per destination of
-- reference.ref_graduate_destinations); core.fct_graduate_destination makes it long.

with source as (

    select * from {{ released_rows('graduates') }}
    where {{ in_build_scope() }}

),

renamed as (

    select
        academic_year,
        {{ clean_code('school_code') }}                   as school_code,
        cohort,
        graduates_total,
        to_10_own_school,
        to_10_other_school,
        spo_budget,
        spo_paid,
        vuz_region_budget,
        vuz_region_paid,
        vuz_other_budget,
        vuz_other_paid,
        spo,
        army,
        vocational_training,
        working,
        neet,
        other,
        unknown,
        _file_id,
        _source_line,
        _slice

    from source

)

select * from renamed
