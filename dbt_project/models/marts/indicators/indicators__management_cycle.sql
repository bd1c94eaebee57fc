{{ config(materialized='ephemeral') }}

-- The management cycle (direction 8): recommendations acted on, measure kinds that worked.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n (NULL: not participant-based values).
--
-- RECOMMENDATIONS_ACTED_PCT of year Y: the recommendations of year Y − 1 whose window (the
-- 12 months from 1 September of Y − 1, i.e. academic year Y) is covered by the loaded
-- registers of measures (acted_on not NULL), acted on / all of them; region and municipality.
-- MEASURE_EFFECT_POSITIVE_PCT of year Y: the rows of measure_effects evaluated in Y (measures
-- started in Y − 2, t + 1 = Y) with a computed effect and at least rsoko:measure_effect_min_group
-- treated targets; those with is_improvement (interval entirely on the desired side of 0) /
-- all of them (NULL when no kind has enough targets); region level.

{%- set min_group = var('rsoko:measure_effect_min_group', 10) | int %}

with acted as (

    select
        r.academic_year + 1                                                   as academic_year,
        (case when grouping(r.municipality_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        r.municipality_code::varchar                                          as municipality_code,
        null::varchar                                                         as school_code,
        count(*) filter (where r.acted_on)                                    as acted,
        count(*)                                                              as decided
    from {{ ref('recommendations') }} as r
    where r.acted_on is not null
    group by grouping sets ((r.academic_year), (r.academic_year, r.municipality_code))

),

effects as (

    select
        e.academic_year + 1                                                   as academic_year,
        'region'                                                              as level,
        null::varchar                                                         as municipality_code,
        null::varchar                                                         as school_code,
        count(*) filter (where e.is_improvement and e.treated >= {{ min_group }}) as improved,
        count(*) filter (where e.treated >= {{ min_group }})                  as evaluated
    from {{ ref('measure_effects') }} as e
    where e.status = 'рассчитан'
    group by e.academic_year

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'RECOMMENDATIONS_ACTED_PCT', academic_year, level, municipality_code, school_code,
           acted, decided, {{ marts_pct('acted', 'decided') }}, null
    from acted
    union all
    select 'MEASURE_EFFECT_POSITIVE_PCT', academic_year, level, municipality_code, school_code,
           improved, evaluated, {{ marts_pct('improved', 'evaluated') }}, null
    from effects

)

select * from final
