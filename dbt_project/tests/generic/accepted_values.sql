{#- Overrides dbt's built-in `accepted_values`: every non-NULL value of the column is one of
    `values`. Returns the whole failing rows (dbt's returns one row per value with a count).
    A filter on one column: DuckDB reads the other columns only where a row fails. -#}
{% test accepted_values(model, column_name, values, quote=true) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (
    {%- for value in values -%}
        {%- if quote %}'{{ value }}'{% else %}{{ value }}{% endif -%}
        {{- ", " if not loop.last -}}
    {%- endfor -%}
  )
{% endtest %}
