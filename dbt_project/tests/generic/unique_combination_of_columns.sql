{#- Fails for every combination of `combination_of_columns` that occurs more than once
    (a composite grain). Usage:
      data_tests:
        - unique_combination_of_columns:
            arguments:
              combination_of_columns: [academic_year, ege_subject_code, primary_score]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
