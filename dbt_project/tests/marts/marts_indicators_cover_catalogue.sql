-- Every indicator of the catalogue is implemented: it has region-level rows for at least
-- one academic year of the loaded results. Every returned row is a catalogue code without
-- rows in marts.indicators.
select c.indicator_code
from {{ ref('indicator_catalogue') }} as c
where exists (select 1 from {{ ref('fct_assessment_result') }})
  and not exists (
    select 1 from {{ ref('indicators') }} as i
    where i.indicator_code = c.indicator_code and i.level = 'region'
)
