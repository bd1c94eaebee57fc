{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

with source as (

    select * from {{ source('raw', 'literacy') }}
    where {{ academic_year_filter() }}

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
        _source_line

    from source

)

select * from renamed
