{#-
  Helpers shared by every mart (models/marts).

  Small-cell suppression (marts.md «Small cells»): where a group has fewer participants than
  the dbt var `rsoko:min_cell_size` (set in dbt_project.yml, the one place it is written),
  every rate and mean of the row is NULL and
  `is_suppressed` is true; counts stay.
    marts_min_cell_size()            the var as an int (validated)
    marts_suppress(n, expr)          expr, or NULL when n < min_cell_size (or n is NULL)
    marts_is_suppressed(n)           true when n < min_cell_size (or n is NULL)

  Territory levels (region / municipality / school) from participant-level rows in one
  GROUP BY GROUPING SETS, so every level is computed from the same rows and never as an
  average of averages:
    marts_level_grouping_sets(keys)  `grouping sets ((keys), (keys, msu_code),
                                      (keys, msu_code, school_code))`
    marts_level_columns()            level, municipality_code, school_code (NULL above
                                      their level)
-#}

{% macro marts_min_cell_size() -%}
    {%- set n = var('rsoko:min_cell_size') | string | trim -%}
    {%- if not n.isdigit() or n | int < 1 -%}
        {{ exceptions.raise_compiler_error("var rsoko:min_cell_size must be a positive integer, got: " ~ n) }}
    {%- endif -%}
    {{- n | int -}}
{%- endmacro %}

{% macro marts_suppress(n, expr) -%}
    (case when coalesce({{ n }}, 0) >= {{ marts_min_cell_size() }} then {{ expr }} end)
{%- endmacro %}

{% macro marts_is_suppressed(n) -%}
    (coalesce({{ n }}, 0) < {{ marts_min_cell_size() }})
{%- endmacro %}

{#- 100 × numerator / denominator as DOUBLE; NULL when the denominator is 0 or NULL. -#}
{% macro marts_pct(numerator, denominator) -%}
    (100.0 * ({{ numerator }}) / nullif({{ denominator }}, 0))::double
{%- endmacro %}

{% macro marts_level_grouping_sets(keys, msu='msu_code', school='school_code') -%}
    {%- set k = keys | join(', ') -%}
    grouping sets (
        ({{ k }}),
        ({{ k }}{{ ', ' if k }}{{ msu }}),
        ({{ k }}{{ ', ' if k }}{{ msu }}, {{ school }})
    )
{%- endmacro %}

{% macro marts_level_columns(msu='msu_code', school='school_code') -%}
    (case when grouping({{ school }}) = 0 then 'school'
          when grouping({{ msu }}) = 0 then 'municipality'
          else 'region' end)::varchar                         as level,
    {{ msu }}::varchar                                         as municipality_code,
    {{ school }}::varchar                                      as school_code
{%- endmacro %}

{#- The leading columns of every levelled mart row `t`: year, its label, level, territory
    codes and names. -#}
{% macro marts_key_columns(t='agg') -%}
    {{ t }}.academic_year::integer                                            as academic_year,
    {{ academic_year_label(t ~ '.academic_year') }}::varchar                as academic_year_label,
    {{ t }}.level,
    {{ t }}.municipality_code,
    {{ t }}.school_code,
    {{ marts_territory_names(t) }}
{%- endmacro %}

{#- The territory names of a levelled row `t` (level, municipality_code, school_code,
    academic_year): municipality and school names, the school's display name unique within
    the region (dim_school), and the level in Russian. -#}
{% macro marts_territory_names(t='agg') -%}
    (select m.msu_name from {{ ref('dim_municipality') }} as m
      where m.msu_code = {{ t }}.municipality_code)::varchar                  as municipality_name,
    (select s.school_name from {{ ref('dim_school') }} as s
      where s.academic_year = {{ t }}.academic_year
        and s.school_code = {{ t }}.school_code)::varchar                      as school_name,
    (select s.school_display_name from {{ ref('dim_school') }} as s
      where s.academic_year = {{ t }}.academic_year
        and s.school_code = {{ t }}.school_code)::varchar                      as school_display_name,
    {{ marts_level_name(t ~ '.level') }}                                       as level_name
{%- endmacro %}

{#- `level` in Russian (marts.md: level is region | municipality | school). -#}
{% macro marts_level_name(level) -%}
    (case {{ level }} when 'region' then 'регион' when 'municipality' then 'муниципалитет'
          when 'school' then 'ОО' end)::varchar
{%- endmacro %}

{#- Order-independent mean and standard deviation of a DOUBLE expression.
    DuckDB sums doubles in parallel in a varying order, so avg()/stddev_*() of doubles
    can differ in the last bits between two runs over the same data; the marts must be
    reproducible (same inputs → same table checksums). The inputs are rounded to 1e-10 and
    summed exactly as DECIMAL; only the final division is in double.
    `where`: an optional FILTER condition; `over`: an optional window name. -#}
{% macro _exact_clause(where, over) -%}
    {%- if where %} filter (where {{ where }}){% endif %}{% if over %} over {{ over }}{% endif -%}
{%- endmacro %}

{% macro exact_avg(x, where=none, over=none) -%}
    (sum(({{ x }})::decimal(38, 10)){{ _exact_clause(where, over) }}::double
     / nullif(count({{ x }}){{ _exact_clause(where, over) }}, 0))
{%- endmacro %}

{% macro exact_stddev(x, kind='samp', where=none, over=none) -%}
    {%- set n = 'count(' ~ x ~ ')' ~ _exact_clause(where, over) -%}
    {%- set s1 = 'sum((' ~ x ~ ')::decimal(38, 10))' ~ _exact_clause(where, over) -%}
    {%- set s2 = 'sum((' ~ x ~ ')::decimal(38, 10) * (' ~ x ~ ')::decimal(38, 10))' ~ _exact_clause(where, over) -%}
    {%- set denominator = n ~ ' - 1' if kind == 'samp' else n -%}
    sqrt(greatest(({{ s2 }}::double - {{ s1 }}::double * {{ s1 }}::double / nullif({{ n }}, 0))
                  / nullif({{ denominator }}, 0), 0))
{%- endmacro %}

{#- The rate columns of the additional-education marts (additional_ed_coverage by territory
    and age band, additional_ed_schools by school), over `denominator` (the population or
    the school's students); suppressed below rsoko:min_cell_size enrolled children. -#}
{% macro additional_ed_rates(t, denominator) -%}
        {{ marts_suppress(t ~ '.children_enrolled', marts_pct(t ~ '.children_enrolled', denominator)) }}::double
                                                                              as coverage_pct,
        {{ marts_suppress(t ~ '.children_enrolled', marts_pct(t ~ '.children_ovz', t ~ '.children_enrolled')) }}::double
                                                                              as pct_ovz_among_enrolled,
        {{ marts_suppress(t ~ '.children_enrolled', marts_pct(t ~ '.children_certificate', t ~ '.children_enrolled')) }}::double
                                                                              as pct_certificate_funded,
        {{ marts_is_suppressed(t ~ '.children_enrolled') }}::boolean           as is_suppressed
{%- endmacro %}
