{{ config(materialized='table', schema='marts') }}

-- The regional scorecard in long format: one row per indicator_code × academic_year ×
-- level × territory. Definitions (name, direction, formula, unit, desired direction,
-- target) come from the seed indicator_catalogue; every code of the catalogue is computed
-- below (the test marts_indicators_cover_catalogue fails on a code without rows).
-- Result-based indicators exist at region, municipality and school level; school-share
-- indicators (ШНОР, resilient, ВПР flags) and VPR_DEFICIT_TASKS_PCT at region and
-- municipality level. Participant-based values are suppressed below rsoko:min_cell_size
-- (value and numerator NULL, denominator kept); school-based shares are not (schools are
-- not persons).

with results as (

    select * from {{ ref('fct_assessment_result') }}

),

result_counts as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(*) filter (where procedure = 'EGE' and is_result_of_record)                     as ege_n,
        count(*) filter (where procedure = 'EGE' and is_result_of_record and is_failed)       as ege_failed,
        count(*) filter (where procedure = 'EGE' and is_result_of_record
                           and test_score is not null)                                        as ege_scored,
        count(*) filter (where procedure = 'EGE' and is_result_of_record and test_score >= 80) as ege_80,
        count(*) filter (where procedure = 'EGE' and is_result_of_record and test_score = 100) as ege_100,
        count(*) filter (where procedure = 'OGE' and is_result_of_record)                     as oge_n,
        count(*) filter (where procedure = 'OGE' and is_result_of_record and mark = 2)        as oge_2,
        count(*) filter (where procedure = 'OGE' and is_result_of_record and mark >= 4)       as oge_45,
        count(*) filter (where procedure = 'VPR' and is_result_of_record)                     as vpr_n,
        count(*) filter (where procedure = 'VPR' and is_result_of_record and mark >= 3)       as vpr_3plus,
        count(distinct participant_id) filter (where procedure = 'EGE' and is_result_of_record
                           and subject_code in ('math_prof', 'math_base'))                    as ege_math_takers,
        count(distinct participant_id) filter (where procedure = 'EGE' and is_result_of_record
                           and subject_code = 'math_prof')                                    as ege_prof_takers,
        count(*) filter (where procedure in ('EGE', 'OGE', 'GVE9'))                           as gia_rows,
        count(*) filter (where procedure in ('EGE', 'OGE', 'GVE9')
                           and result_status in ('removed', 'annulled'))                      as gia_removed
    from results
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

literacy_counts as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(*)                                                                              as lit_n,
        count(*) filter (where is_below_level_2)                                              as lit_below2
    from {{ ref('fct_literacy_result') }}
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

students as (

    select
        academic_year,
        {{ marts_level_columns() }},
        sum(n_students_4_11)                                                                  as students_4_11
    from {{ ref('dim_school') }}
    where status_code = 'active'
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

olympiad_counts as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(distinct participant_id) filter (where stage_code = 'school')                   as oly_school_participants,
        count(distinct participant_id) filter (where stage_code = 'regional')                 as oly_regional_participants,
        count(distinct participant_id) filter (where stage_code = 'regional'
                                                 and status_code in ('winner', 'prize_winner')) as oly_regional_prize
    from {{ ref('fct_olympiad_result') }}
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

olympiad as (

    select
        students.academic_year, students.level, students.municipality_code, students.school_code,
        students.students_4_11,
        coalesce(o.oly_school_participants, 0)                                                as oly_school_participants,
        coalesce(o.oly_regional_participants, 0)                                              as oly_regional_participants,
        coalesce(o.oly_regional_prize, 0)                                                     as oly_regional_prize
    from students
    left join olympiad_counts as o
        on  o.academic_year = students.academic_year
        and o.level = students.level
        and o.municipality_code is not distinct from students.municipality_code
        and o.school_code is not distinct from students.school_code
    -- only years with olympiad data
    where students.academic_year in (select distinct academic_year from olympiad_counts)

),

school_shares as (

    select
        lr.academic_year,
        (case when grouping(lr.municipality_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        lr.municipality_code::varchar                                                         as municipality_code,
        null::varchar                                                                         as school_code,
        count(*)                                                                              as schools,
        count(*) filter (where lr.is_low_results)                                             as low_results,
        count(*) filter (where lr.was_low_results_last_year)                                  as was_low,
        count(*) filter (where lr.was_low_results_last_year and not lr.is_low_results)        as exited_low,
        count(*) filter (where lr.results_group is not null)                                  as grouped,
        count(*) filter (where lr.results_group = 'резильентная')                             as resilient,
        -- LOW_RESULTS_EXIT_PCT needs the previous year in the mart
        bool_or(lr.academic_year - 1 in (select academic_year from {{ ref('low_results_schools') }}))
                                                                                              as has_previous_year
    from {{ ref('low_results_schools') }} as lr
    group by grouping sets ((lr.academic_year), (lr.academic_year, lr.municipality_code))

),

vpr_school_shares as (

    select
        v.academic_year,
        (case when grouping(v.municipality_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        v.municipality_code::varchar                                                          as municipality_code,
        null::varchar                                                                         as school_code,
        count(*)                                                                              as vpr_schools,
        count(*) filter (where v.is_flagged)                                                  as flagged,
        count(*) filter (where v.consecutive_flagged_years >= 2)                              as flagged_repeat
    from {{ ref('vpr_objectivity_schools') }} as v
    group by grouping sets ((v.academic_year), (v.academic_year, v.municipality_code))

),

deficit_tasks as (

    select
        academic_year, level, municipality_code, null::varchar as school_code,
        count(*) filter (where is_deficit)                                                    as deficit,
        count(*) filter (where is_deficit is not null)                                        as tasks
    from {{ ref('task_mastery') }}
    where procedure = 'VPR' and task_level = 'Б' and level in ('region', 'municipality')
    group by all

),

-- indicator_code, territory, numerator, denominator, value (unsuppressed), group size for
-- the small-cell rule (NULL: not a participant-based value)
computed as (

    select 'EGE_FAIL_PCT' as indicator_code, academic_year, level, municipality_code, school_code,
           ege_failed::double as numerator, ege_n::double as denominator,
           {{ marts_pct('ege_failed', 'ege_n') }} as value, ege_n as cell_n
    from result_counts where ege_n > 0
    union all
    select 'EGE_80PLUS_PCT', academic_year, level, municipality_code, school_code,
           ege_80, ege_scored, {{ marts_pct('ege_80', 'ege_scored') }}, ege_scored
    from result_counts where ege_scored > 0
    union all
    select 'EGE_100_COUNT', academic_year, level, municipality_code, school_code,
           ege_100, null, ege_100, null
    from result_counts where ege_n > 0
    union all
    select 'OGE_FAIL_PCT', academic_year, level, municipality_code, school_code,
           oge_2, oge_n, {{ marts_pct('oge_2', 'oge_n') }}, oge_n
    from result_counts where oge_n > 0
    union all
    select 'OGE_GOOD_PCT', academic_year, level, municipality_code, school_code,
           oge_45, oge_n, {{ marts_pct('oge_45', 'oge_n') }}, oge_n
    from result_counts where oge_n > 0
    union all
    select 'VPR_BASIC_PCT', academic_year, level, municipality_code, school_code,
           vpr_3plus, vpr_n, {{ marts_pct('vpr_3plus', 'vpr_n') }}, vpr_n
    from result_counts where vpr_n > 0
    union all
    select 'EGE_PROFILE_MATH_PCT', academic_year, level, municipality_code, school_code,
           ege_prof_takers, ege_math_takers, {{ marts_pct('ege_prof_takers', 'ege_math_takers') }},
           ege_math_takers
    from result_counts where ege_math_takers > 0
    union all
    select 'GIA_REMOVED_PER_1000', academic_year, level, municipality_code, school_code,
           gia_removed, gia_rows, (1000.0 * gia_removed / nullif(gia_rows, 0))::double, gia_rows
    from result_counts where gia_rows > 0
    union all
    select 'LIT_BELOW2_PCT', academic_year, level, municipality_code, school_code,
           lit_below2, lit_n, {{ marts_pct('lit_below2', 'lit_n') }}, lit_n
    from literacy_counts where lit_n > 0
    union all
    select 'OLY_SCHOOL_STAGE_COVERAGE_PCT', academic_year, level, municipality_code, school_code,
           oly_school_participants, students_4_11,
           {{ marts_pct('oly_school_participants', 'students_4_11') }}, oly_school_participants
    from olympiad where students_4_11 > 0
    union all
    select 'OLY_REGIONAL_PRIZE_PER_1000', academic_year, level, municipality_code, school_code,
           oly_regional_prize, students_4_11,
           (1000.0 * oly_regional_prize / nullif(students_4_11, 0))::double, oly_regional_participants
    from olympiad where students_4_11 > 0
    union all
    select 'LOW_RESULTS_SCHOOLS_PCT', academic_year, level, municipality_code, school_code,
           low_results, schools, {{ marts_pct('low_results', 'schools') }}, null
    from school_shares where schools > 0
    union all
    select 'LOW_RESULTS_EXIT_PCT', academic_year, level, municipality_code, school_code,
           exited_low, was_low, {{ marts_pct('exited_low', 'was_low') }}, null
    from school_shares where has_previous_year
    union all
    select 'RESILIENT_SCHOOLS_PCT', academic_year, level, municipality_code, school_code,
           resilient, grouped, {{ marts_pct('resilient', 'grouped') }}, null
    from school_shares where schools > 0
    union all
    select 'VPR_FLAGGED_SCHOOLS_PCT', academic_year, level, municipality_code, school_code,
           flagged, vpr_schools, {{ marts_pct('flagged', 'vpr_schools') }}, null
    from vpr_school_shares where vpr_schools > 0
    union all
    select 'VPR_FLAGGED_REPEAT_PCT', academic_year, level, municipality_code, school_code,
           flagged_repeat, vpr_schools, {{ marts_pct('flagged_repeat', 'vpr_schools') }}, null
    from vpr_school_shares where vpr_schools > 0
    union all
    select 'VPR_DEFICIT_TASKS_PCT', academic_year, level, municipality_code, school_code,
           deficit, tasks, {{ marts_pct('deficit', 'tasks') }}, null
    from deficit_tasks

),

catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

final as (

    select
        c.indicator_code::varchar                                             as indicator_code,
        cat.name_ru::varchar                                                  as indicator_name,
        cat.name_en::varchar                                                  as indicator_name_en,
        cat.direction::integer                                                as direction,
        c.academic_year::integer                                              as academic_year,
        {{ academic_year_label('c.academic_year') }}::varchar                 as academic_year_label,
        c.level::varchar                                                      as level,
        c.municipality_code::varchar                                          as municipality_code,
        c.school_code::varchar                                                as school_code,
        {{ marts_territory_names('c') }},
        (case when c.cell_n is null then c.value
              else {{ marts_suppress('c.cell_n', 'c.value') }} end)::double   as value,
        (case when c.cell_n is null or cat.unit = 'count' then c.numerator
              else {{ marts_suppress('c.cell_n', 'c.numerator') }} end)::double as numerator,
        c.denominator::double                                                 as denominator,
        cat.unit::varchar                                                     as unit,
        cat.desired_direction::varchar                                        as desired_direction,
        cat.target::double                                                    as target,
        (case
            when cat.target is null or c.value is null
                 or (c.cell_n is not null and {{ marts_is_suppressed('c.cell_n') }}) then null
            when cat.desired_direction = 'down' then c.value <= cat.target
            when cat.desired_direction = 'up' then c.value >= cat.target
        end)::boolean                                                         as meets_target,
        c.cell_n::bigint                                                      as participants,
        coalesce(c.cell_n is not null and {{ marts_is_suppressed('c.cell_n') }}, false)::boolean
                                                                              as is_suppressed
    from computed as c
    join catalogue as cat on cat.indicator_code = c.indicator_code

)

select * from final
