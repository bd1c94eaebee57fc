{#- Fails for every combination of `combination_of_columns` that occurs more than once
    (a composite grain). Usage:
      data_tests:
        - unique_combination_of_columns:
            arguments:
              combination_of_columns: [academic_year, ege_subject_code, primary_score]
              via_hash: true   # optional, for tables of hundreds of millions of rows

    via_hash groups by one 64-bit hash of the columns instead of the columns themselves
    (8-byte keys instead of md5 strings: core.fct_task_score on tier F has ~600M rows), then
    checks the columns exactly, only for the rows whose hash repeats. The result is the same:
    a hash collision costs a second look, never a false failure.
-#}
{% test unique_combination_of_columns(model, combination_of_columns, via_hash=false) %}
{%- set columns = combination_of_columns | join(', ') -%}
{%- if via_hash %}
with repeated_hashes as (
    select hash({{ columns }}) as key_hash
    from {{ model }}
    group by key_hash
    having count(*) > 1
)
select
    {{ columns }},
    count(*) as n_rows
from {{ model }}
where hash({{ columns }}) in (select key_hash from repeated_hashes)
group by {{ columns }}
having count(*) > 1
{%- else %}
select
    {{ columns }},
    count(*) as n_rows
from {{ model }}
group by {{ columns }}
having count(*) > 1
{%- endif %}
{% endtest %}
