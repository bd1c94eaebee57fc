{#- Overrides dbt's built-in `relationships`: every non-NULL value of the column exists as
    `field` in `to`. Returns the whole rows of the missing values (dbt's returns the values
    only), in two steps (macros/failing_rows_of_keys.sql): the anti-join reads the key column
    only, the rows are fetched only when some value is missing. -#}
{% test relationships(model, column_name, to, field) %}
{%- set failing_keys -%}
    select distinct child.{{ column_name }}
    from (select * from {{ model }}) as child
    where child.{{ column_name }} is not null
      and not exists (
        select 1 from {{ to }} as parent
        where parent.{{ field }} = child.{{ column_name }}
      )
{%- endset -%}
{{ failing_rows_of_keys(model, [column_name], failing_keys) }}
{% endtest %}
