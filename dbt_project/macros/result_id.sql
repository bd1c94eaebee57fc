{#- The surrogate key of one result = one landing row: md5 over the landing table, the file
    checksum and the line. Stable across rebuilds and partition runs. -#}
{% macro result_id(source_table, file_id='_file_id', source_line='_source_line') -%}
    md5({{ source_table }} || ':' || {{ file_id }} || ':' || {{ source_line }}::varchar)
{%- endmacro %}

{% macro gia_result_id() -%}
    {{ result_id("lower(source_procedure)") }}
{%- endmacro %}

{% macro vpr_result_id() -%}
    {{ result_id("lower(procedure)") }}
{%- endmacro %}

