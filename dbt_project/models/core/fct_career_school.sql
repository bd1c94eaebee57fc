{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Career guidance and profile education per school and year (the latest loaded file of the
-- school wins when two files list it). profile_codes: the profiles decoded through
-- reference.ref_career_profiles.

with career as (

    select * from {{ ref('stg_career') }}
    where {{ in_build_scope() }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

profiles as (

    select profile, profile_code from {{ ref('ref_career_profiles') }}

),

ranked as (

    select
        career.*,
        row_number() over (
            partition by career.academic_year, career.school_code
            order by files.loaded_at desc nulls last, career._file_id desc
        ) as file_rank
    from career
    left join files on files.file_id = career._file_id
    where career.school_code is not null

),

profile_codes as (

    select ranked._file_id, ranked._source_line,
           list(profiles.profile_code order by profiles.profile_code) as profile_codes
    from ranked, unnest(ranked.profiles) as u(profile)
    join profiles on profiles.profile = u.profile
    where ranked.file_rank = 1
    group by all

),

schools as (

    select academic_year, school_code, msu_code from {{ ref('dim_school') }}

),

final as (

    select
        ranked.academic_year::integer                                as academic_year,
        ranked.school_code::varchar                                  as school_code,
        schools.msu_code::varchar                                    as msu_code,
        ranked.profmin_level::varchar                                as profmin_level,
        ranked.profmin_level_code::varchar                           as profmin_level_code,
        ranked.students_6_11::integer                                as students_6_11,
        ranked.bilet_participants::integer                           as bilet_participants,
        ranked.students_10_11::integer                               as students_10_11,
        ranked.profile_students::integer                             as profile_students,
        ranked.profiles::varchar[]                                   as profiles,
        coalesce(profile_codes.profile_codes, [])::varchar[]         as profile_codes,
        ranked._file_id::varchar                                     as _file_id,
        ranked._source_line::integer                                 as _source_line,
        ranked._slice::varchar                                        as _slice
    from ranked
    left join profile_codes
        on profile_codes._file_id = ranked._file_id
        and profile_codes._source_line = ranked._source_line
    -- at schools of the year's registry (ingest quarantines a file naming another school when
    -- the registry is loaded; without a registry nothing can be attached, as for results)
    join schools
        on schools.academic_year = ranked.academic_year
        and schools.school_code = ranked.school_code
    where ranked.file_rank = 1

)

select * from final
