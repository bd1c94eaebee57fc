{{ config(materialized='table', schema='marts') }}

-- Direction 7: each element of a diagnostic per academic_year × level × territory: the
-- mastery over the persons diagnosed (points ÷ max × 100, summed over persons) and the share
-- of persons for whom the element is a deficit; the element is a deficit element of the
-- territory when that share is ≥ rsoko:deficit_element_share_pct.

with elements as (

    select * from {{ ref('fct_deficit_element') }}

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        diagnostic,
        element_order,
        any_value(element)                                                   as element,
        any_value(block)                                                     as block,
        max(max_points)                                                      as max_points,
        count(distinct staff_key)                                            as diagnosed,
        count(distinct staff_key) filter (where is_deficit)                  as with_deficit,
        sum(points)                                                          as points,
        sum(max_points)                                                      as max_points_total
    from elements
    group by {{ marts_level_grouping_sets(['academic_year', 'diagnostic', 'element_order']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.diagnostic::varchar                                               as diagnostic,
        agg.element_order::integer                                            as element_order,
        agg.element::varchar                                                  as element,
        agg.block::varchar                                                    as block,
        agg.max_points::integer                                               as max_points,
        agg.diagnosed::bigint                                                 as diagnosed,
        agg.with_deficit::bigint                                              as with_deficit,
        {{ marts_suppress('agg.diagnosed', marts_pct('agg.points', 'agg.max_points_total')) }}::double
                                                                              as pct_mastery,
        {{ marts_suppress('agg.diagnosed', marts_pct('agg.with_deficit', 'agg.diagnosed')) }}::double
                                                                              as pct_with_deficit,
        {{ marts_suppress('agg.diagnosed', marts_pct('agg.with_deficit', 'agg.diagnosed')
                          ~ ' >= ' ~ staff_var('deficit_element_share_pct')) }}::boolean
                                                                              as is_deficit_element,
        {{ marts_is_suppressed('agg.diagnosed') }}::boolean                   as is_suppressed
    from agg

)

select * from final
