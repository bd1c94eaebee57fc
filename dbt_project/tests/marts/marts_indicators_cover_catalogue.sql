-- Shown in Dagster as a check of indicators (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'indicators'}}}) }}
-- Every indicator of the catalogue has a region row in every academic year that has data:
-- a value, or value NULL with its missing_reason (a source it needs, catalogue column
-- `sources`, is not loaded for that year, or the year gives nothing to compute). Every
-- source is optional (extracts.md), so an indicator is never silently absent. Each returned
-- row is a catalogue code × year without a region row, or a region row with neither a value
-- nor a reason. (That every code is wired to a part of models/marts/indicators/ is checked
-- by tests/unit/test_indicator_parts.py.)
with years as (

    select distinct academic_year from {{ ref('stg_file_registry') }} where released

),

region as (

    select indicator_code, academic_year, value, missing_reason
    from {{ ref('indicators') }}
    where level = 'region'

)

select c.indicator_code, c.name_ru, c.name_en, c.sources, y.academic_year,
       r.indicator_code is not null as has_row
from {{ ref('indicator_catalogue') }} as c
cross join years as y
left join region as r
    on r.indicator_code = c.indicator_code and r.academic_year = y.academic_year
where r.indicator_code is null or (r.value is null and r.missing_reason is null)
