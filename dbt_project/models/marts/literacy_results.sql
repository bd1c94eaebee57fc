{{ config(materialized='table', schema='marts') }}

-- Functional literacy (PISA model) per academic_year × level × territory × domain, from the
-- participant × domain rows of core.fct_literacy_result.

with results as (

    select academic_year, school_code, msu_code, domain, score, level_num, is_below_level_2
    from {{ ref('fct_literacy_result') }}

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        domain,
        count(*)                                                              as participants,
        {{ exact_avg('score') }}                                              as mean_score,
        count(*) filter (where is_below_level_2)                              as n_below_level_2,
        count(*) filter (where level_num >= 5)                                as n_level_5_6
    from results
    group by {{ marts_level_grouping_sets(['academic_year', 'domain']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.domain::varchar                                                   as domain,
        agg.participants::bigint                                              as participants,
        {{ marts_suppress('agg.participants', 'agg.mean_score') }}::double    as mean_score,
        {{ marts_suppress('agg.participants', marts_pct('agg.n_below_level_2', 'agg.participants')) }}::double
                                                                              as pct_below_level_2,
        {{ marts_suppress('agg.participants', marts_pct('agg.n_level_5_6', 'agg.participants')) }}::double
                                                                              as pct_level_5_6,
        {{ marts_is_suppressed('agg.participants') }}::boolean                as is_suppressed
    from agg

)

select * from final
