{{ config(materialized='ephemeral') }}

-- ВсОШ coverage and regional prizes per 1000 students of grades 4–11.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value).

with students as (

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

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'OLY_SCHOOL_STAGE_COVERAGE_PCT', academic_year, level, municipality_code, school_code,
           oly_school_participants, students_4_11,
           {{ marts_pct('oly_school_participants', 'students_4_11') }}, oly_school_participants
    from olympiad where students_4_11 > 0
    union all
    select 'OLY_REGIONAL_PRIZE_PER_1000', academic_year, level, municipality_code, school_code,
           oly_regional_prize, students_4_11,
           (1000.0 * oly_regional_prize / nullif(students_4_11, 0))::double, oly_regional_participants
    from olympiad where students_4_11 > 0

)

select * from final
