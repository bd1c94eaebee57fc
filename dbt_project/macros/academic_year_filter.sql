{#-
  The partition filter of the academic-year partitioned build.

  `academic_year_filter()` renders `<column> = <year>` when the dbt var
  `rsoko:academic_year` is set (Dagster passes the partition key with
  `--vars '{"rsoko:academic_year": 2025}'`), and `true` (a no-op) when it is absent, so a
  plain `dbt build` processes every year.

  Only use it in models that are materialised as tables (incremental by academic_year) or
  ephemeral: a *view* would bake the partition year into its definition and keep showing
  one year after the run.

  `partition_year()` returns the year (an int) or none. With `--full-refresh` the filter
  is always a no-op (every year is rebuilt).
-#}
{% macro partition_year() -%}
    {%- set year = var('rsoko:academic_year', none) -%}
    {%- if year is none or (year is string and year | trim == '') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set year_str = year | string | trim -%}
    {%- if not year_str.isdigit() or year_str | length != 4 -%}
        {{ exceptions.raise_compiler_error("var rsoko:academic_year must be a 4-digit year, got: " ~ year) }}
    {%- endif -%}
    {{ return(year_str | int) }}
{%- endmacro %}

{% macro academic_year_filter(column='academic_year') -%}
    {#- a full refresh rebuilds every year, even inside a partition run: a table recreated
        from one year would lose all the others -#}
    {%- set year = none if flags.FULL_REFRESH else partition_year() -%}
    {%- if year is none -%}
        true
    {%- else -%}
        {{ column }} = {{ year }}
    {%- endif -%}
{%- endmacro %}
