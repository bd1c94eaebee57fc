-- The deficit rule (seed ref_deficit_rule) is one row: every model cross-joins it.
select count(*) as n_rules
from {{ ref('ref_deficit_rule') }}
having count(*) <> 1
