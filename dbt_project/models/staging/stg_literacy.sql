{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

with source as (

    select * from {{ released_rows('literacy') }}
    where {{ in_build_scope() }}

),

renamed as (

    select
        academic_year,
        {{ clean_code('school_code') }}                    as school_code,
        {{ clean_code('participant_code') }}               as participant_code,
        grade,
        lower({{ clean_text('domain') }})                  as domain,
        score,
        lower({{ clean_text('level') }})                   as level,
        case
            when lower({{ clean_text('level') }}) = 'ниже 1' then 0
            else try_cast({{ clean_text('level') }} as integer)
        end                                                as level_num,
        _file_id,
        _source_line,
        _slice

    from source

)

select * from renamed
