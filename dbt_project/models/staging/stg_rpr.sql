{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- ФИС ОКО «Индивидуальные результаты» (RPR): the subject name of the title row is decoded
-- through reference.ref_subjects.vpr_subject into the unified subject_code (NULL if unknown:
-- core routes such rows to rejected_results). task_scores stays a list aligned with
-- stg_rpr_tasks.task_order; the cells are decoded in int_vpr_rpr_task_scores.

{{ staging_check_works('rpr', 'RPR') }}
