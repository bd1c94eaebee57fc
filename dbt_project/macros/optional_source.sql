{#-
  A landing table of a source that may never have been delivered (extracts.md: "every source
  is optional"): the source relation when `raw.<table>` exists, else an empty relation with
  the given columns ({name: type}), so that the models downstream build with no rows instead
  of failing. `source()` is always called, so the lineage stays in the graph.
-#}
{% macro optional_source(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (select
        {%- for name, type in columns.items() %}
            null::{{ type }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
         where false)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
