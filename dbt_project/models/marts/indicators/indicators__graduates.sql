{{ config(materialized='ephemeral') }}

-- Direction 4: where graduates went, from the school × cohort rows of
-- core.fct_graduate_destination (as marts.graduate_destinations, but unsuppressed: the small-
-- cell rule applies once, in indicators.sql; «Всего выпускников» is the denominator).
-- GRAD_NEET_PCT pools both cohorts.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value).

with school_cohort as (

    select
        academic_year, school_code, any_value(msu_code) as msu_code, cohort,
        max(graduates_total)                                                  as graduates,
        sum(graduates) filter (where destination_group = 'to_10')             as to_10,
        sum(graduates) filter (where destination_group = 'spo')               as spo,
        sum(graduates) filter (where destination_group = 'vuz_region')        as vuz_region,
        sum(graduates) filter (where destination_group = 'neet')              as neet
    from {{ ref('fct_graduate_destination') }}
    group by academic_year, school_code, cohort

),

counts as (

    select
        academic_year,
        {{ marts_level_columns() }},
        sum(graduates) filter (where cohort = 9)                              as grad9,
        sum(to_10) filter (where cohort = 9)                                  as grad9_to_10,
        sum(spo) filter (where cohort = 9)                                    as grad9_spo,
        sum(graduates) filter (where cohort = 11)                             as grad11,
        sum(vuz_region) filter (where cohort = 11)                            as grad11_vuz_region,
        sum(graduates)                                                        as grad_all,
        sum(neet)                                                             as grad_neet
    from school_cohort
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'GRAD9_TO_10_PCT', academic_year, level, municipality_code, school_code,
           grad9_to_10, grad9, {{ marts_pct('grad9_to_10', 'grad9') }}, grad9
    from counts where grad9 > 0
    union all
    select 'GRAD9_TO_SPO_PCT', academic_year, level, municipality_code, school_code,
           grad9_spo, grad9, {{ marts_pct('grad9_spo', 'grad9') }}, grad9
    from counts where grad9 > 0
    union all
    select 'GRAD_NEET_PCT', academic_year, level, municipality_code, school_code,
           grad_neet, grad_all, {{ marts_pct('grad_neet', 'grad_all') }}, grad_all
    from counts where grad_all > 0
    union all
    select 'GRAD11_VUZ_REGION_PCT', academic_year, level, municipality_code, school_code,
           grad11_vuz_region, grad11, {{ marts_pct('grad11_vuz_region', 'grad11') }}, grad11
    from counts where grad11 > 0

)

select * from final
