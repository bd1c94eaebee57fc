{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- One row per ВсОШ participation (participant_id × stage × subject × participation grade)
-- at a school of that year's registry; the others are in rejected_results.

with olympiad as (

    select * from {{ ref('stg_olympiad') }}
    where {{ in_build_scope() }}

),

schools as (

    select academic_year, school_code, msu_code
    from {{ ref('dim_school') }}

),

final as (

    select
        {{ result_id("'olympiad'") }}::varchar                 as olympiad_result_id,
        olympiad.academic_year::integer                         as academic_year,
        olympiad.stage::varchar                                 as stage,
        olympiad.stage_code::varchar                            as stage_code,
        olympiad.stage_order::integer                           as stage_order,
        olympiad.subject_name::varchar                          as subject_name,
        olympiad.subject_code::varchar                          as subject_code,
        olympiad.school_code::varchar                           as school_code,
        schools.msu_code::varchar                               as msu_code,
        olympiad.participant_id::varchar                        as participant_id,
        olympiad.grade::integer                                 as grade,
        olympiad.participation_grade::integer                   as participation_grade,
        olympiad.score::double                                  as score,
        olympiad.max_score::double                              as max_score,
        (100.0 * olympiad.score / nullif(olympiad.max_score, 0))::double as score_pct,
        olympiad.status::varchar                                as status,
        olympiad.status_code::varchar                           as status_code,
        (olympiad.status_code = 'winner')::boolean              as is_winner,
        (olympiad.status_code = 'prize_winner')::boolean        as is_prize_winner,
        olympiad._file_id::varchar                              as _file_id,
        olympiad._source_line::integer                          as _source_line,
        olympiad._slice::varchar                                as _slice
    from olympiad
    join schools
        on  schools.academic_year = olympiad.academic_year
        and schools.school_code = olympiad.school_code
    where olympiad.participant_id is not null
      and olympiad.stage_code is not null
      and olympiad.status_code is not null

)

select * from final
