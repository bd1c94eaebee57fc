{{ config(materialized='ephemeral') }}

-- Direction 4: profile classes and the профминимум (core.fct_career_school).
-- PROFILE_CLASSES_PCT: students of grades 10–11 in profile classes / students of grades 10–11
-- (participant-based: suppressed below rsoko:min_cell_size students);
-- PROFMIN_ADVANCED_PCT: schools with grades 6–11 (students_6_11 > 0) at the основной or
-- продвинутый level / those schools (a share of schools: not suppressed).
-- One part of marts.indicators (see indicators.sql).

with counts as (

    select
        academic_year,
        {{ marts_level_columns() }},
        sum(students_10_11)                                                   as seniors,
        sum(profile_students)                                                 as in_profile,
        count(*) filter (where students_6_11 > 0)                             as schools_6_11,
        count(*) filter (where students_6_11 > 0
                           and profmin_level_code in ('main', 'advanced'))    as schools_main_plus
    from {{ ref('fct_career_school') }}
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'PROFILE_CLASSES_PCT', academic_year, level, municipality_code, school_code,
           in_profile, seniors, {{ marts_pct('in_profile', 'seniors') }}, seniors
    from counts where seniors > 0
    union all
    select 'PROFMIN_ADVANCED_PCT', academic_year, level, municipality_code, school_code,
           schools_main_plus, schools_6_11, {{ marts_pct('schools_main_plus', 'schools_6_11') }}, null
    from counts where schools_6_11 > 0 and level <> 'school'

)

select * from final
