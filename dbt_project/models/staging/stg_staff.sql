{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- The staff register as delivered, cleaned: codes trimmed, position and category in lower
-- case (the reference lists are lower case), yes/no as a boolean, subjects as a list.

with source as (

    select * from {{ released_rows('staff') }}
    where {{ in_build_scope() }}

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
        _source_line,
        _slice

    from source

)

select * from renamed
