{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Career guidance per school: the профминимум level decoded through
-- reference.ref_profmin_levels (level_code NULL if unknown), the profiles split into a list
-- of lower-case names.

with source as (

    select * from {{ released_rows('career') }}
    where {{ in_build_scope() }}

),

levels as (

    select * from {{ ref('ref_profmin_levels') }}

),

renamed as (

    select
        source.academic_year,
        {{ clean_code('source.school_code') }}              as school_code,
        lower({{ clean_text('source.profmin_level') }})     as profmin_level,
        levels.level_code                                   as profmin_level_code,
        source.students_6_11,
        source.bilet_participants,
        source.students_10_11,
        source.profile_students,
        list_filter(
            list_transform(string_split(coalesce(source.profiles, ''), ','),
                           lambda x: lower(trim(x))),
            lambda x: x <> '')                              as profiles,
        source._file_id,
        source._source_line,
        source._slice

    from source
    left join levels
        on levels.profmin_level = lower({{ clean_text('source.profmin_level') }})

)

select * from renamed
