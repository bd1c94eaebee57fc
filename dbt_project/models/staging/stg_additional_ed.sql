{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Additional-education enrolments (navigator), one row per landing line. child_key is the
-- navigator's id hashed again at landing (the id itself never reaches the warehouse). Age in
-- the academic year = academic_year − 1 − year of birth (extracts.md, the federal method).
-- is_enrolment: a real enrolment (зачислен / отчислен), not an application (заявка);
-- is_active_in_year: the enrolment overlaps the academic year (1 September – 31 August).

with source as (

    select * from {{ released_rows('additional_ed') }}
    where {{ in_build_scope() }}

),

renamed as (

    select
        academic_year,
        child_key,
        birth_year,
        academic_year - 1 - birth_year                                   as age,
        {{ clean_code('msu_code') }}                                     as msu_code,
        {{ clean_code('school_code') }}                                  as school_code,
        lower({{ clean_text('ovz') }}) = 'да'                            as is_ovz,
        {{ clean_text('provider_name') }}                                as provider_name,
        {{ clean_code('provider_inn') }}                                 as provider_inn,
        {{ clean_text('program_name') }}                                 as program_name,
        lower({{ clean_text('focus') }})                                 as focus,
        enrol_date,
        leave_date,
        lower({{ clean_text('status') }})                                as status,
        lower({{ clean_text('funding') }})                               as funding,
        lower({{ clean_text('status') }}) in ('зачислен', 'отчислен')    as is_enrolment,
        coalesce(enrol_date <= make_date(academic_year, 8, 31), true)
          and coalesce(leave_date >= make_date(academic_year - 1, 9, 1), true)
                                                                         as is_active_in_year,
        _file_id,
        _source_line,
        _slice

    from source

)

select * from renamed
