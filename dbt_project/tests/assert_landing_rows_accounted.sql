-- Every released landing result row is in a fact or in core.rejected_results, counted per
-- source × academic year. Every returned row is a violation.
select *
from {{ ref('landing_accounting') }}
where unaccounted <> 0
