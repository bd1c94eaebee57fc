{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- Graduate destinations per school × cohort as delivered (wide: one column per destination of
-- reference.ref_graduate_destinations); core.fct_graduate_destination makes it long.

with source as (

    select * from {{ source('raw', 'graduates') }}
    where {{ academic_year_filter() }}

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
        _source_line

    from source

)

select * from renamed
