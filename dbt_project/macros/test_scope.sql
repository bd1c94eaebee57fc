{#-
  Tests of the big slice-built tables check the slices rebuilt tonight, not the whole table.

  An incremental night rebuilds only the build slices in `raw._build_scope` (build_scope.sql);
  the rows of every other slice are the ones last night's tests passed, untouched since. So a
  test whose failures can only come from rows of one slice (a key unique within a result, a
  result's task points, a child row whose parent is rebuilt with it) need not read the other
  slices. On an incremental night of tier M the five `fct_task_score` tests took 34 s of node
  time reading the whole table (dbt's run_results of the bench's correction night), and the
  table has 850M rows on tier F.

  Opt in per test with the placeholder (a test whose failures can involve rows of two slices,
  or whose parent is not rebuilt by slice, must not):
      config:
        where: "__in_build_scope__"
  and in a singular test: `where {{ build_scope_condition() }}`.

  The condition is the slices' names as a literal list, read when the test runs (after the
  release step wrote them), so DuckDB skips the row groups of other slices by their zone maps.
  It is `true`, the whole table, when the scope holds `*` (a cold night, changed models or
  reference data), when it names no slice (nothing rebuilt, or `dbt test` by hand after the
  night emptied it) and when the table does not exist (a warehouse built without the night).
-#}

{% macro build_scope_condition(column='_slice') -%}
    {%- set slices = build_scope_slices() -%}
    {%- if slices is none -%}
        true
    {%- else -%}
        {{ column }} in ({% for s in slices %}'{{ s | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- The slices in scope, or none when the test must read the whole table (see above). -#}
{% macro build_scope_slices() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set scope = adapter.get_relation(database=target.database, schema='raw',
                                         identifier='_build_scope') -%}
    {%- if scope is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set slices = run_query('select distinct build_slice from ' ~ scope
                               ~ ' order by 1').columns[0].values() | list -%}
    {%- set named = slices | reject('equalto', '-') | list -%}
    {%- if '*' in slices or named | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(named) }}
{%- endmacro %}

{#- dbt's `get_where_subquery`, with the placeholder `__in_build_scope__` of a test's `where`
    replaced by build_scope_condition(). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__in_build_scope__' in where -%}
            {%- set where = where | replace('__in_build_scope__', build_scope_condition()) -%}
        {%- endif -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
