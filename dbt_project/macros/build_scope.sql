{#-
  What a night rebuilds: the build scope.

  The landing (schema `raw`) keeps every delivered version of a slice until the release step
  (rsoko_pipelines/ingest/release.py) decides which files the models read: `released` in
  `raw._file_registry`. Each file belongs to a *build slice* (`vpr|2025|русский язык|4`, or
  `<source>|<year>` for most sources): the unit the models rebuild when the file's release
  changes. The night writes the slices to rebuild into `raw._build_scope` (`*` = all) and
  the incremental models replace exactly those, so a new ВПР file rebuilds its subject ×
  grade, not its year, and a held-back source × year keeps its last good rows.

    released_rows(table)       the released rows of raw.<table> with their `_slice`
    in_build_scope(column)     true for rows of the slices in scope (always true when the
                               model is built from scratch)
    delete_build_scope_rows()  pre-hook of every incremental model: remove the rows of the
                               slices in scope (then the model appends them again)

  Incremental models: config(materialized='incremental', incremental_strategy='append',
  pre_hook="{{ delete_build_scope_rows() }}") and every upstream read filtered with
  `where {{ in_build_scope() }}`. Hooks run inside the model's transaction: a failed build
  leaves the table as it was.
-#}

{% macro released_rows(table_name) -%}
    (select landed.*,
            coalesce(files.build_slice, files.source || '|' || files.academic_year) as _slice
     from {{ source('raw', table_name) }} as landed
     join {{ source('raw', '_file_registry') }} as files
       on files.file_id = landed._file_id and files.released)
{%- endmacro %}

{% macro in_build_scope(column='_slice') -%}
    {%- if is_incremental() and not flags.FULL_REFRESH -%}
        ({{ column }} in (select build_slice from {{ source('raw', '_build_scope') }})
         or exists (select 1 from {{ source('raw', '_build_scope') }} where build_slice = '*'))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro delete_build_scope_rows() -%}
    {%- if is_incremental() and not flags.FULL_REFRESH -%}
        delete from {{ this }} where {{ in_build_scope() }}
    {%- else -%}
        select 1 as no_op
    {%- endif -%}
{%- endmacro %}
