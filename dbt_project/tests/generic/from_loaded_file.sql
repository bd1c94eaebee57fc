{#- Every row comes from a file the registry marks `loaded` (never from a superseded or
    quarantined file). The landing keeps only loaded rows (superseded rows are deleted in
    the same transaction that registers the correction); this test guards that contract. -#}
{% test from_loaded_file(model, column_name) %}
select {{ column_name }}, count(*) as n_rows
from {{ model }} as m
where not exists (
    select 1 from {{ source('raw', '_file_registry') }} as r
    where r.file_id = m.{{ column_name }} and r.status = 'loaded'
)
group by all
{% endtest %}
