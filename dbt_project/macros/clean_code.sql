{#- A code as text: trimmed (also NBSP), empty → NULL. Never cast to a number: '070123'
    keeps its leading zero. -#}
{% macro clean_code(column) -%}
    nullif(trim(replace({{ column }}, chr(160), ' ')), '')
{%- endmacro %}

{#- Free text: trimmed, inner whitespace collapsed, empty → NULL. -#}
{% macro clean_text(column) -%}
    nullif(trim(regexp_replace(replace({{ column }}, chr(160), ' '), '\s+', ' ', 'g')), '')
{%- endmacro %}
