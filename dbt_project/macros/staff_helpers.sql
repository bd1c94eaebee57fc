{#-
  Helpers of directions 6 and 7 (staff, ДПО, deficits, НОКУОД).

    staff_var(name)               a numeric `rsoko:<name>` var, validated
    staff_state_date(year)        the staff register's state date of an academic year
                                  (20 September of its first calendar year; rsoko:staff_state_month_day)
    academic_year_of_date(d)      the academic year a date falls in (September starts it)
    dpo_programme_key(text)       the normalised programme name ДПО names are matched on:
                                  lower case, «ё» → «е», quotes and punctuation → spaces,
                                  spaces collapsed, trimmed
-#}

{% macro staff_var(name) -%}
    {%- set value = var('rsoko:' ~ name) | string | trim -%}
    {%- if not value.replace('.', '', 1).isdigit() -%}
        {{ exceptions.raise_compiler_error("var rsoko:" ~ name ~ " must be a non-negative number, got: " ~ value) }}
    {%- endif -%}
    {{- value -}}
{%- endmacro %}

{% macro staff_state_date(year) -%}
    {%- set md = var('rsoko:staff_state_month_day') | string | trim -%}
    strptime(({{ year }} - 1)::varchar || '-{{ md }}', '%Y-%m-%d')::date
{%- endmacro %}

{% macro academic_year_of_date(d) -%}
    (year({{ d }}) + case when month({{ d }}) >= 9 then 1 else 0 end)
{%- endmacro %}

{% macro dpo_programme_key(text) -%}
    nullif(trim(regexp_replace(
        regexp_replace(replace(replace(lower({{ text }}), 'ё', 'е'), chr(160), ' '),
                       '[^0-9a-zа-я]+', ' ', 'g'),
        '\s+', ' ', 'g')), '')
{%- endmacro %}
