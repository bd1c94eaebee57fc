{#- The natural key of a task as one string: 'VPR|2025|rus|4|3'. -#}
{% macro task_key(procedure, academic_year, subject_code, grade, task_order) -%}
    ({{ procedure }} || '|' || {{ academic_year }}::varchar || '|' || {{ subject_code }} || '|'
     || {{ grade }}::varchar || '|' || {{ task_order }}::varchar)
{%- endmacro %}
