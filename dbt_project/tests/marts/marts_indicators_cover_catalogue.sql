-- Shown in Dagster as a check of indicators (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'indicators'}}}) }}
-- Every indicator of the catalogue has region-level rows once any data is loaded: a value,
-- or value NULL with its missing_reason when a source it needs (catalogue column `sources`)
-- is not loaded for that year. Every source is optional (extracts.md), so an indicator is
-- never silently absent. Every returned row is a catalogue row without any region row.
select c.indicator_code, c.name_ru, c.name_en, c.sources
from {{ ref('indicator_catalogue') }} as c
where exists (select 1 from {{ ref('stg_file_registry') }} where released)
  and not exists (
        select 1 from {{ ref('indicators') }} as i
        where i.indicator_code = c.indicator_code and i.level = 'region'
  )
