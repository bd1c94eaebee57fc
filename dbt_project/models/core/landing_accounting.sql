{{ config(materialized='view', schema='core') }}

-- Reconciliation: for every result source × academic year, landing rows = fact rows +
-- rejected rows. `unaccounted` must be 0 (tested).

with landing as (

    select 'ege' as source, academic_year, count(*) as landing_rows
    from {{ released_rows('ege') }} group by all
    union all
    select 'oge', academic_year, count(*) from {{ released_rows('oge') }} group by all
    union all
    select 'vpr', academic_year, count(*) from {{ released_rows('vpr') }} group by all
    union all
    select 'rpr', academic_year, count(*) from {{ released_rows('rpr') }} group by all
    union all
    select 'niko', academic_year, count(*) from {{ released_rows('niko') }} group by all
    union all
    select 'olympiad', academic_year, count(*) from {{ released_rows('olympiad') }} group by all
    union all
    select 'literacy', academic_year, count(*) from {{ released_rows('literacy') }} group by all

),

facts as (

    select source, academic_year, count(*) as fact_rows
    from {{ ref('fct_assessment_result') }} group by all
    union all
    select 'olympiad', academic_year, count(*) from {{ ref('fct_olympiad_result') }} group by all
    union all
    select 'literacy', academic_year, count(*) from {{ ref('fct_literacy_result') }} group by all

),

rejects as (

    select source, academic_year, count(*) as rejected_rows
    from {{ ref('rejected_results') }} group by all

),

final as (

    select
        coalesce(landing.source, facts.source, rejects.source)::varchar        as source,
        coalesce(landing.academic_year, facts.academic_year,
                 rejects.academic_year)::integer                                as academic_year,
        coalesce(landing.landing_rows, 0)::bigint                               as landing_rows,
        coalesce(facts.fact_rows, 0)::bigint                                    as fact_rows,
        coalesce(rejects.rejected_rows, 0)::bigint                              as rejected_rows,
        (coalesce(landing.landing_rows, 0) - coalesce(facts.fact_rows, 0)
            - coalesce(rejects.rejected_rows, 0))::bigint                       as unaccounted
    from landing
    full join facts
        on facts.source = landing.source and facts.academic_year = landing.academic_year
    full join rejects
        on  rejects.source = coalesce(landing.source, facts.source)
        and rejects.academic_year = coalesce(landing.academic_year, facts.academic_year)

)

select * from final
