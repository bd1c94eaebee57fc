-- Shown in Dagster as a check of indicators (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'indicators'}}}) }}
-- Every indicator of the catalogue is implemented: it has region-level rows for at least
-- one academic year of the loaded results. Every returned row is a catalogue code without
-- rows in marts.indicators. LOW_RESULTS_EXIT_PCT compares with the year before, so it can
-- only exist once two academic years are loaded (a one-year deployment such as tier M).
-- An indicator is only expected once every source it needs (catalogue column `sources`)
-- has a loaded file (every source is optional). The management-cycle indicators (issue 19)
-- are expected once their inputs exist: RECOMMENDATIONS_ACTED_PCT a recommendation whose
-- window the registers cover (acted_on not NULL), MEASURE_EFFECT_POSITIVE_PCT a computed
-- row of measure_effects (t − 1 and t + 1 loaded).
with years as (

    select count(distinct academic_year) as n from {{ ref('fct_assessment_result') }}

),

cycle_inputs as (

    select
        exists (select 1 from {{ ref('recommendations') }} where acted_on is not null)
                                                                  as recommendations_decided,
        exists (select 1 from {{ ref('measure_effects') }} where status = 'рассчитан')
                                                                  as effects_computed

),

loaded_sources as (

    select coalesce(list(distinct source), []) as sources
    from {{ ref('stg_file_registry') }}
    where status = 'loaded'

)

select c.indicator_code
from {{ ref('indicator_catalogue') }} as c
where exists (select 1 from {{ ref('fct_assessment_result') }})
  and list_has_all((select sources from loaded_sources),
                   string_split(trim(coalesce(c.sources, '')), ' '))
  and not (
    c.indicator_code = 'LOW_RESULTS_EXIT_PCT'
    and (select n from years) < 2
  )
  and not (
    c.indicator_code = 'RECOMMENDATIONS_ACTED_PCT'
    and not (select recommendations_decided from cycle_inputs)
  )
  and not (
    c.indicator_code = 'MEASURE_EFFECT_POSITIVE_PCT'
    and not (select effects_computed from cycle_inputs)
  )
  and not exists (
    select 1 from {{ ref('indicators') }} as i
    where i.indicator_code = c.indicator_code and i.level = 'region'
)
