{#-
  Methodological thresholds (the seed reference.ref_methodology_thresholds, one row per
  rule, documented in seeds/reference/_reference.yml and docs/methodology.md).

    methodology_threshold(code)   the value as a SQL literal, e.g. 57.0 or 0.9

  The value is read when the model compiles (dbt compiles a node just before it runs, after
  its seeds), so it is a constant in the compiled SQL: quantile_cont() needs a constant
  fraction, and the compiled SQL shows the rule in force. A missing code stops the build.
  During parsing (execute = false) nothing is read; the ref() records the dependency.
-#}
{% macro methodology_threshold(code) -%}
    {%- set relation = ref('ref_methodology_thresholds') -%}
    {%- if not execute -%}
        {{- return(0) -}}
    {%- endif -%}
    {%- set result = run_query("select value from " ~ relation
                               ~ " where threshold_code = '" ~ code ~ "'") -%}
    {%- if result.rows | length != 1 -%}
        {{- exceptions.raise_compiler_error("methodology threshold '" ~ code ~ "' is not in "
            ~ "reference.ref_methodology_thresholds: add it to "
            ~ "dbt_project/seeds/reference/ref_methodology_thresholds.csv and run dbt seed") -}}
    {%- endif -%}
    {{- return(result.rows[0][0]) -}}
{%- endmacro %}

{#- A row-level test: the marker count `markers_column` is NULL wherever `count_column` is
    below the threshold `threshold_code` (markers are computed only from that size on). -#}
{% test markers_only_from_min_participants(model, threshold_code, count_column='participants',
                                           markers_column='n_markers') %}
select *
from {{ model }}
where {{ markers_column }} is not null
  and {{ count_column }} < {{ methodology_threshold(threshold_code) }}
{% endtest %}

{#- low_results_schools: is_low_results follows its rule (≥ low_results_min_procedures_failing
    failing procedures, or the same procedure failing two years running). -#}
{% test low_results_rule(model) %}
select *
from {{ model }}
where is_low_results is distinct from (
    n_procedures_failing >= {{ methodology_threshold('low_results_min_procedures_failing') }}
    or repeat_failing)
{% endtest %}
