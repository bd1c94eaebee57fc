{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- The staff register as delivered, cleaned: codes trimmed, position and category in lower
-- case (the reference lists are lower case), yes/no as a boolean, subjects as a list.

with source as (

    select * from {{ source('raw', 'staff') }}
    where {{ academic_year_filter() }}

),

renamed as (

    select
        academic_year,
        staff_key,
        birth_year,
        {{ clean_code('school_code') }}                              as school_code,
        lower({{ clean_text('position') }})                          as position,
        {{ clean_text('subjects') }}                                 as subjects,
        list_filter(list_transform(string_split({{ clean_text('subjects') }}, ','),
                                   lambda s: trim(s)), lambda s: s <> '') as subject_list,
        lower({{ clean_text('category') }})                          as category,
        category_date,
        experience_years,
        appointment_date,
        rate,
        lower({{ clean_text('is_main_job') }}) = 'да'                as is_main_job,
        _file_id,
        _source_line

    from source

)

select * from renamed
