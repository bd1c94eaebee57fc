{#- Every row comes from a file the registry marks `loaded` (never from a superseded or
    quarantined file). The landing keeps only loaded rows (superseded rows are deleted in
    the same transaction that registers the correction); this test guards that contract.
    Returns the whole rows of the files that are not loaded (two steps:
    macros/failing_rows_of_keys.sql; the first reads only `_file_id`). -#}
{% test from_loaded_file(model, column_name) %}
{%- set failing_keys -%}
    select distinct m.{{ column_name }}
    from (select * from {{ model }}) as m
    where not exists (
        select 1 from {{ source('raw', '_file_registry') }} as r
        where r.file_id = m.{{ column_name }} and r.status = 'loaded'
    )
{%- endset -%}
{{ failing_rows_of_keys(model, [column_name], failing_keys) }}
{% endtest %}
