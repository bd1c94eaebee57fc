{{ config(materialized='ephemeral') }}

-- Directions 6 and 7: school heads, teaching staff, ДПО and deficit diagnostics.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value). Persons are counted once per territory.

with profile as (

    select academic_year, level, municipality_code, school_code, teachers,
           n_highest + n_first as n_higher_category, n_young, n_dpo_3y
    from {{ ref('staff_profile') }}
    where teachers > 0

),

-- teachers (subject diagnostics, not the managerial one) with a deficit, and with a deficit
-- followed by targeted ДПО for at least one of its blocks
teacher_deficits as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(distinct staff_key)                                                   as diagnosed,
        count(distinct staff_key) filter (where has_deficit)                        as with_deficit,
        count(distinct staff_key) filter (where has_targeted_dpo)                   as targeted
    from {{ ref('int_deficit_blocks') }}
    where block = 'все' and not is_managerial
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

heads as (

    select
        academic_year,
        (case when grouping(municipality_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        municipality_code::varchar                                                  as municipality_code,
        null::varchar                                                               as school_code,
        count(*)                                                                    as heads,
        count(*) filter (where head_diagnosed_3y)                                   as diagnosed,
        count(*) filter (where tenure_years >= {{ staff_var('head_min_tenure_years') }}
                          and results_z_before is not null and results_z_now is not null)
                                                                                    as tenured_scored,
        count(*) filter (where tenure_years >= {{ staff_var('head_min_tenure_years') }}
                          and results_z_now > results_z_before)                     as results_gain
    from {{ ref('school_heads') }}
    group by grouping sets ((academic_year), (academic_year, municipality_code))

),

-- the latest НОКУОД assessment of each school of the year's registry within the last
-- rsoko:recent_years academic years
nokuod_latest as (

    select s.academic_year, s.school_code, s.msu_code,
           arg_max(n.total_score, n.academic_year)                                  as total_score
    from {{ ref('dim_school') }} as s
    join {{ ref('fct_nokuod') }} as n
        on  n.school_code = s.school_code
        and n.academic_year between s.academic_year - {{ staff_var('recent_years') }} + 1
                                and s.academic_year
    where s.status_code = 'active'
    group by all

),

nokuod as (

    select
        academic_year,
        (case when grouping(msu_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        msu_code::varchar                                                           as municipality_code,
        null::varchar                                                               as school_code,
        count(*)                                                                    as schools,
        sum(total_score::decimal(38, 10))::double                                   as total
    from nokuod_latest
    group by grouping sets ((academic_year), (academic_year, msu_code))

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'STAFF_HIGHER_CATEGORY_PCT', academic_year, level, municipality_code, school_code,
           n_higher_category, teachers, {{ marts_pct('n_higher_category', 'teachers') }}, teachers
    from profile
    union all
    select 'STAFF_YOUNG_PCT', academic_year, level, municipality_code, school_code,
           n_young, teachers, {{ marts_pct('n_young', 'teachers') }}, teachers
    from profile
    union all
    select 'DPO_3Y_PCT', academic_year, level, municipality_code, school_code,
           n_dpo_3y, teachers, {{ marts_pct('n_dpo_3y', 'teachers') }}, teachers
    from profile
    union all
    select 'TEACHER_DEFICIT_PCT', academic_year, level, municipality_code, school_code,
           with_deficit, diagnosed, {{ marts_pct('with_deficit', 'diagnosed') }}, diagnosed
    from teacher_deficits where diagnosed > 0
    union all
    select 'DEFICIT_TARGETED_DPO_PCT', academic_year, level, municipality_code, school_code,
           targeted, with_deficit, {{ marts_pct('targeted', 'with_deficit') }}, with_deficit
    from teacher_deficits where with_deficit > 0
    union all
    select 'HEAD_DIAGNOSED_PCT', academic_year, level, municipality_code, school_code,
           diagnosed, heads, {{ marts_pct('diagnosed', 'heads') }}, heads
    from heads where heads > 0
    union all
    -- NULL (not computable, not suppressed) until a head has been in post for
    -- rsoko:head_min_tenure_years with the year before the appointment loaded
    select 'HEAD_RESULTS_GAIN_PCT', academic_year, level, municipality_code, school_code,
           results_gain, tenured_scored, {{ marts_pct('results_gain', 'tenured_scored') }},
           nullif(tenured_scored, 0)
    from heads where heads > 0
    union all
    select 'HEAD_NOKUOD_MEAN', academic_year, level, municipality_code, school_code,
           total, schools, (total / nullif(schools, 0))::double, null
    from nokuod where schools > 0

)

select * from final
