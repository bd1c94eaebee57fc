{{ config(materialized='table', schema='marts') }}

-- Direction 7: the teaching staff per academic_year × level × territory, from the register's
-- person × school rows (core.fct_staff_assignment) with the person's attributes of the year
-- (core.dim_staff). Persons are counted once per territory: a teacher of two schools counts
-- in each school, once in their municipality and once in the region (count distinct). Rates
-- are over teachers (persons with a `учитель` row in the territory); students_per_teacher
-- divides the registry students of the schools in the register by the teachers' summed
-- `Ставка` there; pct_dpo_3y counts a ДПО document first issued in the last
-- rsoko:recent_years academic years (this one included).

with rows as (

    select academic_year, staff_key, school_code, msu_code,
           bool_or(is_teacher)                                     as is_teacher_here,
           sum(rate) filter (where is_teacher)                     as teacher_rate
    from {{ ref('fct_staff_assignment') }}
    group by all

),

with_dpo as (

    select distinct s.academic_year, s.staff_key
    from {{ ref('dim_staff') }} as s
    join {{ ref('fct_dpo_document') }} as d
        on  d.staff_key = s.staff_key
        and d.academic_year between s.academic_year - {{ staff_var('recent_years') }} + 1
                                and s.academic_year

),

persons as (

    select rows.*, s.category_group, s.experience_years, s.age,
           with_dpo.staff_key is not null                          as has_dpo_recent
    from rows
    join {{ ref('dim_staff') }} as s using (academic_year, staff_key)
    left join with_dpo using (academic_year, staff_key)

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(distinct staff_key)                                                 as staff_total,
        count(distinct staff_key) filter (where is_teacher_here)                  as teachers,
        count(distinct staff_key) filter (where is_teacher_here
                                           and category_group = 'highest')        as n_highest,
        count(distinct staff_key) filter (where is_teacher_here
                                           and category_group = 'first')          as n_first,
        count(distinct staff_key) filter (where is_teacher_here
                                           and category_group = 'none')           as n_no_category,
        count(distinct staff_key) filter (where is_teacher_here and experience_years
                                           < {{ staff_var('staff_young_experience_years') }})
                                                                                  as n_young,
        count(distinct staff_key) filter (where is_teacher_here
                                           and age >= {{ staff_var('staff_senior_age') }})
                                                                                  as n_age_60plus,
        count(distinct staff_key) filter (where is_teacher_here and has_dpo_recent)
                                                                                  as n_dpo_3y
    from persons
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

school_rates as (

    select rows.academic_year, rows.school_code, rows.msu_code,
           any_value(schools.n_students)                           as n_students,
           coalesce(sum(rows.teacher_rate), 0)                     as teacher_rate
    from rows
    join {{ ref('dim_school') }} as schools using (academic_year, school_code)
    group by all

),

rates as (

    select academic_year,
           {{ marts_level_columns() }},
           sum(n_students)                                         as students,
           sum(teacher_rate)                                       as teacher_rate
    from school_rates
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.staff_total::bigint                                               as staff_total,
        agg.teachers::bigint                                                  as teachers,
        agg.n_highest::bigint                                                 as n_highest,
        agg.n_first::bigint                                                   as n_first,
        agg.n_no_category::bigint                                             as n_no_category,
        agg.n_young::bigint                                                   as n_young,
        agg.n_age_60plus::bigint                                              as n_age_60plus,
        agg.n_dpo_3y::bigint                                                  as n_dpo_3y,
        {{ marts_suppress('agg.teachers', marts_pct('agg.n_highest', 'agg.teachers')) }}::double
                                                                              as pct_highest,
        {{ marts_suppress('agg.teachers', marts_pct('agg.n_first', 'agg.teachers')) }}::double
                                                                              as pct_first,
        {{ marts_suppress('agg.teachers', marts_pct('agg.n_no_category', 'agg.teachers')) }}::double
                                                                              as pct_no_category,
        {{ marts_suppress('agg.teachers', marts_pct('agg.n_young', 'agg.teachers')) }}::double
                                                                              as pct_young,
        {{ marts_suppress('agg.teachers', marts_pct('agg.n_age_60plus', 'agg.teachers')) }}::double
                                                                              as pct_age_60plus,
        rates.students::bigint                                                as students,
        rates.teacher_rate::double                                            as teacher_rate,
        {{ marts_suppress('agg.teachers', 'rates.students / nullif(rates.teacher_rate, 0)') }}::double
                                                                              as students_per_teacher,
        {{ marts_suppress('agg.teachers', marts_pct('agg.n_dpo_3y', 'agg.teachers')) }}::double
                                                                              as pct_dpo_3y,
        {{ marts_is_suppressed('agg.teachers') }}::boolean                    as is_suppressed
    from agg
    left join rates
        on  rates.academic_year = agg.academic_year
        and rates.level = agg.level
        and rates.municipality_code is not distinct from agg.municipality_code
        and rates.school_code is not distinct from agg.school_code

)

select * from final
