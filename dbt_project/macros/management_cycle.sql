{#-
  Helpers of the management cycle (issue 19: measures, recommendations, measure effects).

    academic_year_of(date)          the academic year a date falls in (the year it ends): a
                                    year runs from the first day of the month
                                    `rsoko:academic_year_first_month` (9, September)
    academic_year_start(year)       the first day of academic year `year` (1 September of
                                    year − 1)
    ru_number(expr, digits)         a number as Russian text: decimal comma, `digits` decimals,
                                    typographic minus ('38,5', '−0,18'); NULL stays NULL
    ru_percent(expr, digits)        the same with ' %' ('38,5 %')
    render_template(text, row)      a text of the rules seed with {placeholders} replaced by
                                    the columns of that name of `row` (compile-time: the
                                    placeholders are read from the seed when the model runs)
-#}

{% macro academic_year_first_month() -%}
    {%- set m = var('rsoko:academic_year_first_month', 9) | string | trim -%}
    {%- if not m.isdigit() or m | int < 1 or m | int > 12 -%}
        {{ exceptions.raise_compiler_error("var rsoko:academic_year_first_month must be a month 1-12, got: " ~ m) }}
    {%- endif -%}
    {{- m | int -}}
{%- endmacro %}

{% macro academic_year_of(date_expr) -%}
    (year({{ date_expr }}) + case when month({{ date_expr }}) >= {{ academic_year_first_month() }}
                                  then 1 else 0 end)
{%- endmacro %}

{% macro academic_year_start(year_expr) -%}
    make_date(({{ year_expr }}) - 1, {{ academic_year_first_month() }}, 1)
{%- endmacro %}

{% macro ru_number(expr, digits=1) -%}
    replace(replace(printf('%.{{ digits }}f', ({{ expr }})::double), '.', ','), '-', '−')
{%- endmacro %}

{% macro ru_percent(expr, digits=1) -%}
    ({{ ru_number(expr, digits) }} || ' %')
{%- endmacro %}

{% macro render_template(text, row) -%}
    {%- set names = modules.re.findall('\{([a-z_0-9]+)\}', text) | unique | list -%}
    {%- set ns = namespace(sql="'" ~ (text | replace("'", "''")) ~ "'") -%}
    {%- for name in names -%}
        {%- set ns.sql = "replace(" ~ ns.sql ~ ", '{" ~ name ~ "}', coalesce((" ~ row ~ "." ~ name ~ ")::varchar, '—'))" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}
