{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Enrolments in additional education (navigator), one row per landing line of the loaded
-- exports. child_key is the navigator's child id hashed again with our key at landing, so no
-- table can be linked back to the navigator; the year of birth stays. When a region export and
-- a municipality export both cover a municipality of residence, the latest loaded file wins for
-- that municipality.
-- is_counted: the row counts for coverage: a real enrolment (зачислен / отчислен, not an
-- application) active in the academic year. school_known: the child's Код ОО is a school of the
-- year's registry (empty for pre-schoolers and children outside the registry).

with enrolments as (

    select * from {{ ref('stg_additional_ed') }}
    where {{ in_build_scope() }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

latest_file as (

    select academic_year, msu_code,
           arg_max(_file_id, struct_pack(loaded_at := files.loaded_at, file_id := _file_id))
               as file_id
    from enrolments
    left join files on files.file_id = enrolments._file_id
    group by all

),

schools as (

    select academic_year, school_code from {{ ref('dim_school') }}

),

focus as (

    select focus, focus_code from {{ ref('ref_additional_ed_focus') }}

),

final as (

    select
        {{ result_id("'additional_ed'") }}::varchar                      as enrolment_id,
        e.academic_year::integer                                         as academic_year,
        e.child_key::varchar                                             as child_key,
        e.birth_year::integer                                            as birth_year,
        e.age::integer                                                   as age,
        e.msu_code::varchar                                              as msu_code,
        e.school_code::varchar                                           as school_code,
        (schools.school_code is not null)::boolean                       as school_known,
        e.is_ovz::boolean                                                as is_ovz,
        e.provider_name::varchar                                         as provider_name,
        e.provider_inn::varchar                                          as provider_inn,
        e.program_name::varchar                                          as program_name,
        e.focus::varchar                                                 as focus,
        focus.focus_code::varchar                                        as focus_code,
        e.enrol_date::date                                               as enrol_date,
        e.leave_date::date                                               as leave_date,
        e.status::varchar                                                as status,
        e.funding::varchar                                               as funding,
        (e.funding = 'сертификат пф')::boolean                           as is_certificate_funded,
        e.is_enrolment::boolean                                          as is_enrolment,
        e.is_active_in_year::boolean                                     as is_active_in_year,
        (e.is_enrolment and e.is_active_in_year
         and e.child_key is not null)::boolean                           as is_counted,
        e._file_id::varchar                                              as _file_id,
        e._source_line::integer                                          as _source_line,
        e._slice::varchar                                                 as _slice
    from enrolments as e
    join latest_file
        on latest_file.academic_year = e.academic_year
        and latest_file.msu_code is not distinct from e.msu_code
        and latest_file.file_id = e._file_id
    left join schools
        on schools.academic_year = e.academic_year and schools.school_code = e.school_code
    left join focus on focus.focus = e.focus

)

select * from final
