{{ config(materialized='table', schema='marts') }}

-- Additional education by school (direction 9) per academic_year × school × focus: the
-- children of the school (their Код ОО in the navigator; a child's latest enrolment decides)
-- enrolled at any time in the year, each child once («все») and once per направленность, over
-- the school's students of the year's registry. Children without a registry school
-- (pre-schoolers, other schools) are not here (they are in additional_ed_coverage).
-- Rates are suppressed below rsoko:min_cell_size enrolled children.

with focuses as (

    select 'все' as focus, 'all' as focus_code, 0 as focus_order
    union all
    select focus, focus_code, focus_order from {{ ref('ref_additional_ed_focus') }}

),

-- one row per child × focus it counts in (int_enrolled_child_focus): rows count unique children
child_focus as (

    select academic_year, school_code, is_ovz, focus_code, is_certificate_funded
    from {{ ref('int_enrolled_child_focus') }}
    where school_code is not null

),

counts as (

    select academic_year, school_code, focus_code,
           count(*)                                                           as children_enrolled,
           count(*) filter (where is_ovz)                                     as children_ovz,
           count(*) filter (where is_certificate_funded)                      as children_certificate
    from child_focus
    group by all

),

schools as (

    select academic_year, school_code, msu_code, n_students
    from {{ ref('dim_school') }}
    where status = 'действующая'
      and academic_year in (select academic_year from {{ ref('int_enrolled_children') }})

),

agg as (

    select
        schools.academic_year, 'school' as level, schools.msu_code as municipality_code,
        schools.school_code, focuses.focus, focuses.focus_code, schools.n_students,
        coalesce(counts.children_enrolled, 0)                                 as children_enrolled,
        coalesce(counts.children_ovz, 0)                                      as children_ovz,
        coalesce(counts.children_certificate, 0)                              as children_certificate
    from schools
    cross join focuses
    left join counts
        on counts.academic_year = schools.academic_year
        and counts.school_code = schools.school_code
        and counts.focus_code = focuses.focus_code

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.focus::varchar                                                    as focus,
        agg.focus_code::varchar                                               as focus_code,
        agg.n_students::bigint                                                as students,
        agg.children_enrolled::bigint                                         as children_enrolled,
        {{ additional_ed_rates('agg', 'agg.n_students') }}
    from agg

)

select * from final
