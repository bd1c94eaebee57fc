-- Every landing result row is in a fact or in core.rejected_results, counted per source ×
-- academic year. In a partition run only the partition year is checked (the other years of
-- the landing may not be transformed yet). Every returned row is a violation.
select *
from {{ ref('landing_accounting') }}
where unaccounted <> 0
  and {{ academic_year_filter() }}
