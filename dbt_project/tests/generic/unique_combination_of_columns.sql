{#- Each combination of `combination_of_columns` occurs at most once (a composite grain).
    Returns every row of a duplicated combination, with `n_rows` (the size of its group).
    Rows with a NULL in any of the columns are not checked (not_null does that). Usage:
      data_tests:
        - unique_combination_of_columns:
            arguments:
              combination_of_columns: [academic_year, ege_subject_code, primary_score]
              via_hash: true   # optional, for tables of hundreds of millions of rows
            description: "Каждая комбинация (…) встречается один раз / Each (…) combination occurs once"
    See macros/failing_rows_of_keys.sql for how the rows are found cheaply.
-#}
{% test unique_combination_of_columns(model, combination_of_columns, via_hash=false) %}
{{ failing_rows_of_keys(model, combination_of_columns,
                     duplicate_keys_sql(model, combination_of_columns, via_hash),
                     extra_columns=['n_rows']) }}
{% endtest %}
