{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- One row per participant × literacy domain at a school of that year's registry; the
-- others are in rejected_results. A participant code is unique only within its school
-- (extracts.md), so the participant is school_code || '/' || participant_code (participant_id),
-- as for ВПР/РПР in fct_assessment_result.

with literacy as (

    select * from {{ ref('stg_literacy') }}
    where {{ in_build_scope() }}

),

schools as (

    select academic_year, school_code, msu_code
    from {{ ref('dim_school') }}

),

final as (

    select
        {{ result_id("'literacy'") }}::varchar                  as literacy_result_id,
        literacy.academic_year::integer                          as academic_year,
        literacy.school_code::varchar                            as school_code,
        schools.msu_code::varchar                                as msu_code,
        literacy.participant_code::varchar                       as participant_code,
        (literacy.school_code || '/' || literacy.participant_code)::varchar
                                                                 as participant_id,
        literacy.grade::integer                                  as grade,
        literacy.domain::varchar                                 as domain,
        literacy.score::double                                   as score,
        literacy.level::varchar                                  as level,
        literacy.level_num::integer                              as level_num,
        (literacy.level_num < 2)::boolean                        as is_below_level_2,
        literacy._file_id::varchar                               as _file_id,
        literacy._source_line::integer                           as _source_line,
        literacy._slice::varchar                                 as _slice
    from literacy
    join schools
        on  schools.academic_year = literacy.academic_year
        and schools.school_code = literacy.school_code
    where literacy.participant_code is not null
      and literacy.level_num is not null

)

select * from final
