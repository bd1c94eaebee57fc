{#- '2024/25' for academic_year 2025 (the year the academic year ends). -#}
{% macro academic_year_label(column) -%}
    (({{ column }} - 1)::varchar || '/' || lpad(({{ column }} % 100)::varchar, 2, '0'))
{%- endmacro %}
