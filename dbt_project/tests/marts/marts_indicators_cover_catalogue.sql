-- Shown in Dagster as a check of indicators (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'indicators'}}}) }}
-- Every indicator of the catalogue is implemented: it has region-level rows for at least
-- one academic year of the loaded results. Every returned row is a catalogue code without
-- rows in marts.indicators. LOW_RESULTS_EXIT_PCT compares with the year before, so it can
-- only exist once two academic years are loaded (a one-year deployment such as tier M).
-- The management-cycle indicators (issue 19) need their source `measures` loaded, and
-- RECOMMENDATIONS_ACTED_PCT two academic years (recommendations of Y − 1, register of Y),
-- MEASURE_EFFECT_POSITIVE_PCT three (t − 1, t, t + 1).
with years as (

    select count(distinct academic_year) as n from {{ ref('fct_assessment_result') }}

),

measures_loaded as (

    select exists (select 1 from {{ ref('fct_measure') }}) as loaded

)

select c.indicator_code
from {{ ref('indicator_catalogue') }} as c
where exists (select 1 from {{ ref('fct_assessment_result') }})
  and not (
    c.indicator_code = 'LOW_RESULTS_EXIT_PCT'
    and (select n from years) < 2
  )
  and not (
    c.indicator_code = 'RECOMMENDATIONS_ACTED_PCT'
    and (not (select loaded from measures_loaded) or (select n from years) < 2)
  )
  and not (
    c.indicator_code = 'MEASURE_EFFECT_POSITIVE_PCT'
    and (not (select loaded from measures_loaded) or (select n from years) < 3)
  )
  and not exists (
    select 1 from {{ ref('indicators') }} as i
    where i.indicator_code = c.indicator_code and i.level = 'region'
)
