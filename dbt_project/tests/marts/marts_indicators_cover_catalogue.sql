-- Shown in Dagster as a check of indicators (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'indicators'}}}) }}
-- Every indicator of the catalogue whose sources are all loaded is implemented: it has
-- region-level rows for at least one academic year. Every source is optional (extracts.md):
-- an indicator whose source (catalogue column `sources`) has no loaded file is not required
-- here. LOW_RESULTS_EXIT_PCT compares with the year before, so it can only exist once two
-- academic years of results are loaded. Every returned row is a catalogue row without rows
-- in marts.indicators.
with loaded_sources as (

    select distinct source from {{ ref('stg_file_registry') }} where status = 'loaded'

),

needed as (

    select indicator_code, unnest(string_split(trim(sources), ' ')) as source
    from {{ ref('indicator_catalogue') }}

),

not_computable as (    -- an indicator with a source that has no loaded file

    select distinct indicator_code from needed
    where source <> '' and source not in (select source from loaded_sources)

)

select c.indicator_code, c.name_ru, c.name_en, c.sources
from {{ ref('indicator_catalogue') }} as c
where c.indicator_code not in (select indicator_code from not_computable)
  and not (
    c.indicator_code = 'LOW_RESULTS_EXIT_PCT'
    and (select count(distinct academic_year) from {{ ref('fct_assessment_result') }}) < 2
  )
  and not exists (
    select 1 from {{ ref('indicators') }} as i
    where i.indicator_code = c.indicator_code and i.level = 'region'
  )
