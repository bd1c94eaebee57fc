{#-
  Incremental-by-academic-year tables (staging and the core facts).

  config: materialized='incremental', incremental_strategy='delete+insert',
          unique_key='academic_year', pre_hook="{{ delete_partition_rows() }}"

  The pre-hook deletes the rows of the years being rebuilt (the partition year, or every year
  when no partition is given) before delete+insert runs. delete+insert alone only deletes the
  years present in the new batch: a year whose rows all moved elsewhere (e.g. results that
  went from `rejected_results` to the fact once the registry arrived) would keep stale rows.
  Hooks run inside the model's transaction: a failed build leaves the table as it was.
-#}
{% macro delete_partition_rows() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ academic_year_filter() }}
    {%- else -%}
        select 1 as no_op
    {%- endif -%}
{%- endmacro %}
