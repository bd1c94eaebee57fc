{#- Where an incremental model stages its new rows before appending them (overrides dbt-duckdb's
    macro of the same name, called by its incremental materialization).

    dbt-duckdb stages them in a TEMPORARY table: DuckDB keeps temporary tables in memory and
    spills them to `<warehouse>.tmp/` uncompressed. On a cold tier F night core.fct_survey_answer
    stages all 116M answers that way: 36 GB of spill, and twice the disk filled. A real table
    `<model>__dbt_stage` beside the model (same schema: it exists, so no thread has to create a
    schema, which two threads at once would conflict on) is written compressed into the
    warehouse file instead; the materialization drops it after the append (it is in its
    `to_drop` list), and one left by a crashed run is dropped here before it is made again.
    Only incremental models use it, and no mart is incremental: nothing publishes it. -#}
{% macro duckdb__dispatch_temporary_relation(target_relation, batch_id='') %}
    {%- set suffix = '__dbt_stage' ~ ('_' ~ batch_id if batch_id else '') -%}
    {%- set relation = api.Relation.create(
            database=target_relation.database, schema=target_relation.schema,
            identifier=target_relation.identifier ~ suffix, type='table') -%}
    {% do run_query('drop table if exists ' ~ relation) %}
    {% if not adapter.disable_transactions() %}
        {% do adapter.commit() %}
    {% endif %}
    {% do return({'relation': relation, 'temporary': false}) %}
{% endmacro %}
