{#- Every row comes from a file the models may read: released in the file registry (never
    from a quarantined file, nor from a file whose release is still pending or was replaced).
    The staging models read only released rows (macro released_rows); this test guards it.
    Returns the whole rows of those files (two steps: macros/failing_rows_of_keys.sql; the
    first reads only `_file_id`). -#}
{% test from_loaded_file(model, column_name) %}
{%- set failing_keys -%}
    select distinct m.{{ column_name }}
    from (select * from {{ model }}) as m
    where not exists (
        select 1 from {{ source('raw', '_file_registry') }} as r
        where r.file_id = m.{{ column_name }} and r.released and r.status <> 'quarantined'
    )
{%- endset -%}
{{ failing_rows_of_keys(model, [column_name], failing_keys) }}
{% endtest %}
