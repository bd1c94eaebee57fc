{#- Overrides dbt's built-in `not_null`: returns the whole failing rows (dbt's returns only
    the column unless failures are stored). Cheap either way: DuckDB skips every row group
    whose statistics say the column has no NULL. -#}
{% test not_null(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is null
{% endtest %}
