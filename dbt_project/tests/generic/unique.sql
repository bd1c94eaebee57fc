{#- Overrides dbt's built-in `unique`: each non-NULL value of the column occurs once.
    Returns every row of a duplicated value (with `n_rows`), not only the value; grouped by a
    64-bit hash first (result ids are 32-character md5 strings; tier F has 50M of them). -#}
{% test unique(model, column_name) %}
{{ failing_rows_of_keys(model, [column_name], duplicate_keys_sql(model, [column_name], via_hash=true),
                     extra_columns=['n_rows']) }}
{% endtest %}
