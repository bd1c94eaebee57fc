{{ config(materialized='table', schema='marts') }}

-- Where graduates went (direction 4) per academic_year × level × territory × cohort (9, 11),
-- from the school × cohort × destination rows of core.fct_graduate_destination. Denominator:
-- «Всего выпускников» summed over the territory's schools (never a mean of school shares).
-- A share is NULL where the cohort has no such destination (no university after grade 9);
-- rows with fewer graduates than rsoko:min_cell_size expose no share. is_high_neet: the NEET
-- share reaches the var rsoko:neet_high_pct (municipality and school rows).

with school_cohort as (

    select
        academic_year, school_code, any_value(msu_code) as msu_code, cohort,
        max(graduates_total)                                                  as graduates,
        sum(graduates) filter (where destination_group = 'to_10')             as n_to_10,
        sum(graduates) filter (where destination_group = 'spo')               as n_spo,
        sum(graduates) filter (where destination_group in ('vuz_region', 'vuz_other_region'))
                                                                              as n_vuz,
        sum(graduates) filter (where destination_group = 'vuz_region')        as n_vuz_region,
        sum(graduates) filter (where destination_group = 'vocational_courses') as n_vocational,
        sum(graduates) filter (where destination_group = 'working')           as n_working,
        sum(graduates) filter (where destination_group = 'army')              as n_army,
        sum(graduates) filter (where destination_group = 'neet')              as n_neet,
        sum(graduates) filter (where destination_group = 'other')             as n_other,
        sum(graduates) filter (where destination_group = 'unknown')           as n_unknown
    from {{ ref('fct_graduate_destination') }}
    group by academic_year, school_code, cohort

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        cohort,
        sum(graduates)        as graduates,
        sum(n_to_10)          as n_to_10,
        sum(n_spo)            as n_spo,
        sum(n_vuz)            as n_vuz,
        sum(n_vuz_region)     as n_vuz_region,
        sum(n_vocational)     as n_vocational,
        sum(n_working)        as n_working,
        sum(n_army)           as n_army,
        sum(n_neet)           as n_neet,
        sum(n_other)          as n_other,
        sum(n_unknown)        as n_unknown
    from school_cohort
    group by {{ marts_level_grouping_sets(['academic_year', 'cohort']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.cohort::integer                                                   as cohort,
        agg.graduates::bigint                                                 as graduates,
        {%- for name in ['to_10', 'spo', 'vuz', 'vuz_region', 'vocational', 'working', 'army',
                         'neet', 'other', 'unknown'] %}
        {{ marts_suppress('agg.graduates', marts_pct('agg.n_' ~ name, 'agg.graduates')) }}::double
            as pct_{{ 'vocational_courses' if name == 'vocational' else name }},
        {%- endfor %}
        agg.n_neet::bigint                                                    as neet,
        (case when agg.level <> 'region' and not {{ marts_is_suppressed('agg.graduates') }}
              then round({{ marts_pct('agg.n_neet', 'agg.graduates') }}, 6) >= {{ var('rsoko:neet_high_pct') }}
         end)::boolean                                                        as is_high_neet,
        {{ marts_is_suppressed('agg.graduates') }}::boolean                   as is_suppressed
    from agg

)

select * from final
