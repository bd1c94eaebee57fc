{#- Every row satisfies a boolean SQL expression (rows where it is NULL pass). Usage:
      data_tests:
        - expression_is_true:
            arguments:
              expression: "points <= max_points"
-#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
