{{ config(materialized='table', schema='marts') }}

-- Career guidance and profile education (direction 4) per academic_year × level × territory,
-- from the school rows of core.fct_career_school: schools by профминимум level, the share of
-- senior students in profile classes, the share of students of grades 6–11 in «Билет в
-- будущее», and the profiles offered (profiles_offered: distinct profiles of the territory's
-- schools; has_<profile>: at least one school of the territory offers it; the profile codes
-- come from reference.ref_career_profiles). Shares are suppressed below rsoko:min_cell_size
-- students in their denominator; is_suppressed follows the students of grades 6–11.

-- depends_on: {{ ref('ref_career_profiles') }}
{%- set profiles = [] -%}
{%- if execute -%}
    {%- set profiles = run_query("select profile_code from " ~ ref('ref_career_profiles')
                                 ~ " order by profile_code").columns[0].values() -%}
{%- endif %}

with schools as (

    select * from {{ ref('fct_career_school') }}

),

school_profiles as (

    select academic_year, msu_code, school_code, unnest(profile_codes) as profile_code
    from schools

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(*)                                                              as schools,
        count(*) filter (where profmin_level_code = 'basic')                  as schools_basic,
        count(*) filter (where profmin_level_code = 'main')                   as schools_main,
        count(*) filter (where profmin_level_code = 'advanced')               as schools_advanced,
        count(*) filter (where profmin_level_code = 'none')                   as schools_none,
        sum(students_6_11)                                                    as students_6_11,
        sum(bilet_participants)                                               as bilet_participants,
        sum(students_10_11)                                                   as students_10_11,
        sum(profile_students)                                                 as profile_students
        {%- for p in profiles %},
        bool_or(list_contains(profile_codes, '{{ p }}'))                      as has_{{ p }}
        {%- endfor %}
    from schools
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

profiles_offered as (

    select academic_year, {{ marts_level_columns() }},
           count(distinct profile_code) as profiles_offered
    from school_profiles
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.schools::bigint                                                   as schools,
        agg.schools_basic::bigint                                             as schools_basic,
        agg.schools_main::bigint                                              as schools_main,
        agg.schools_advanced::bigint                                          as schools_advanced,
        agg.schools_none::bigint                                              as schools_none,
        agg.students_6_11::bigint                                             as students_6_11,
        agg.bilet_participants::bigint                                        as bilet_participants,
        agg.students_10_11::bigint                                            as students_10_11,
        agg.profile_students::bigint                                          as profile_students,
        {{ marts_suppress('agg.students_10_11', marts_pct('agg.profile_students', 'agg.students_10_11')) }}::double
                                                                              as pct_profile_classes,
        {{ marts_suppress('agg.students_6_11', marts_pct('agg.bilet_participants', 'agg.students_6_11')) }}::double
                                                                              as pct_bilet_v_budushchee,
        coalesce(p.profiles_offered, 0)::bigint                               as profiles_offered,
        {%- for code in profiles %}
        agg.has_{{ code }}::boolean                                           as has_{{ code }},
        {%- endfor %}
        {{ marts_is_suppressed('agg.students_6_11') }}::boolean               as is_suppressed
    from agg
    left join profiles_offered as p
        on p.academic_year = agg.academic_year and p.level = agg.level
        and p.municipality_code is not distinct from agg.municipality_code
        and p.school_code is not distinct from agg.school_code

)

select * from final
