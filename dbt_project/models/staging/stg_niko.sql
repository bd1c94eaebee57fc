{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- ФИС ОКО «Индивидуальные результаты» of НИКО (a federal sample study): the ВПР layout
-- without the journal mark (journal_mark stays NULL) and with the mark optional. The title's
-- subject is decoded through reference.ref_niko_subjects (НИКО covers subjects outside the
-- ВПР list); an unknown one leaves subject_code NULL and core routes the row to
-- rejected_results.

{{ staging_check_works('niko', 'NIKO', has_journal_mark=false) }}
