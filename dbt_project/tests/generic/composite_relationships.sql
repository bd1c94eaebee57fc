{#- Referential integrity over several columns: every non-NULL combination of `columns` in
    the model exists as `to_columns` (default: the same names) in `to`. Rows with a NULL in
    any of the columns are not checked (use not_null for that). Returns the whole rows of the
    missing combinations (two steps: macros/failing_rows_of_keys.sql). Usage:
      data_tests:
        - composite_relationships:
            arguments:
              columns: [academic_year, school_code]
              to: ref('dim_school')
-#}
{% test composite_relationships(model, columns, to, to_columns=none) %}
{%- set to_columns = to_columns or columns -%}
{%- set failing_keys -%}
    select distinct {% for c in columns %}child.{{ c }}{{ ", " if not loop.last }}{% endfor %}
    from (select * from {{ model }}) as child
    where {% for c in columns %}child.{{ c }} is not null{{ " and " if not loop.last }}{% endfor %}
      and not exists (
        select 1 from {{ to }} as parent
        where {% for c in columns %}parent.{{ to_columns[loop.index0] }} = child.{{ c }}{{ " and " if not loop.last }}{% endfor %}
      )
{%- endset -%}
{{ failing_rows_of_keys(model, columns, failing_keys) }}
{% endtest %}
