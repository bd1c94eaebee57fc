{#- Every row comes from a file the models may read: released in the file registry (never
    from a quarantined file, nor from a file whose release is still pending or was replaced).
    The staging models read only released rows (macro released_rows); this test guards it. -#}
{% test from_loaded_file(model, column_name) %}
select {{ column_name }}, count(*) as n_rows
from {{ model }} as m
where not exists (
    select 1 from {{ source('raw', '_file_registry') }} as r
    where r.file_id = m.{{ column_name }} and r.released and r.status <> 'quarantined'
)
group by all
{% endtest %}
