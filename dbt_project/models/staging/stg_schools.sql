{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

with source as (

    select * from {{ released_rows('schools') }}
    where {{ in_build_scope() }}

),

renamed as (

    select
        academic_year,
        {{ clean_code('school_code') }}                  as school_code,
        {{ clean_text('school_name') }}                  as school_name,
        {{ clean_code('msu_code') }}                     as msu_code,
        {{ clean_text('msu_name') }}                     as msu_name,
        {{ clean_code('gia_school_code') }}              as gia_school_code,
        lower({{ clean_code('fis_login') }})             as fis_login,
        {{ clean_text('school_kind') }}                  as school_kind,
        lower({{ clean_text('settlement') }})            as settlement,
        n_students,
        n_students_4_11,
        n_teachers,
        pct_ovz,
        pct_nonnative,
        pct_lowincome,
        pct_singleparent,
        pct_parents_higher_ed,
        pct_vacancies,
        lower({{ clean_text('status') }})                as status,
        case lower(replace({{ clean_text('status') }}, 'ё', 'е'))
            when 'действующая'    then 'active'
            when 'реорганизована' then 'reorganised'
            when 'ликвидирована'  then 'liquidated'
        end                                              as status_code,
        {{ clean_code('successor_code') }}               as successor_code,
        _file_id,
        _source_line,
        _slice

    from source

)

select * from renamed
