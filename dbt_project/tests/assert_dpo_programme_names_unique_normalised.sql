-- Two spellings of ref_dpo_programmes that normalise to the same name must belong to the
-- same programme (otherwise a document's classification would depend on the row order).
select {{ dpo_programme_key('programme_name') }} as programme_name_key,
       count(distinct programme_code) as n_programmes
from {{ ref('ref_dpo_programmes') }}
group by 1
having count(distinct programme_code) > 1
