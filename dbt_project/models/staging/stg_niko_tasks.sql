{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- The task columns declared in each НИКО file's header (row 3 level, row 4 header):
-- task_order is the position of the cell in stg_niko.task_scores.

{{ staging_check_tasks('niko_tasks', 'NIKO') }}
