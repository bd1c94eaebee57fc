{#- The matching key of a survey answer or option: lower case, ё → е, surrounding and repeated
    spaces dropped (the same rule as the ingest check quality/derived.py `_answer_is_option`). -#}
{% macro survey_answer_key(expr) -%}
    lower(regexp_replace(trim(replace(replace({{ expr }}, 'ё', 'е'), 'Ё', 'Е')), '\s+', ' ', 'g'))
{%- endmacro %}
