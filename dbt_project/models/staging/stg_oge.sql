{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- РИС ГИА source procedure OGE: the sheet's subject code is decoded through
-- reference.ref_gia_subjects into the unified subject_code and the exam kind
-- (EGE, OGE or GVE9: ОГЭ sheets with codes 51–68 are ГВЭ-9). An unknown code keeps
-- subject_code NULL; core routes such rows to rejected_results.

{{ staging_gia_results('oge', 'OGE', 9, has_test_score=false) }}
