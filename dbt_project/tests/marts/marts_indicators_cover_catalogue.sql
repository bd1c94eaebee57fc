-- Shown in Dagster as a check of indicators (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'indicators'}}}) }}
-- Every indicator of the catalogue is implemented: it has region-level rows for at least
-- one academic year of the loaded results. Every returned row is a catalogue code without
-- rows in marts.indicators. LOW_RESULTS_EXIT_PCT compares with the year before, so it can
-- only exist once two academic years are loaded (a one-year deployment such as tier M).
-- An indicator whose sources (catalogue column `sources`) are not all loaded — no file of
-- the source has registry status `loaded` — is not expected to have rows (every source is
-- optional: an absent one gives absent rows, never an error).
with loaded_sources as (
    select distinct source from {{ ref('stg_file_registry') }} where status = 'loaded'
)
select c.indicator_code
from {{ ref('indicator_catalogue') }} as c
where exists (select 1 from {{ ref('fct_assessment_result') }})
  and not (
    c.indicator_code = 'LOW_RESULTS_EXIT_PCT'
    and (select count(distinct academic_year) from {{ ref('fct_assessment_result') }}) < 2
  )
  and not exists (
    select 1 from unnest(string_split(trim(c.sources), ' ')) as needed(source)
    where needed.source <> '' and needed.source not in (select source from loaded_sources)
  )
  and not exists (
    select 1 from {{ ref('indicators') }} as i
    where i.indicator_code = c.indicator_code and i.level = 'region'
)
