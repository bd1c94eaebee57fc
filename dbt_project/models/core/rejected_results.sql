{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Every landing result row that could not enter a fact, with the reason. Together with the
-- facts it accounts for every landing row (see landing_accounting and its test).

with gia as (

    select * from {{ ref('int_gia_results') }}
    where reject_reason is not null and {{ in_build_scope() }}

),

works as (

    select * from {{ ref('int_vpr_rpr_results') }}
    where reject_reason is not null and {{ in_build_scope() }}

),

olympiad as (

    select * from {{ ref('stg_olympiad') }}
    where {{ in_build_scope() }}

),

literacy as (

    select * from {{ ref('stg_literacy') }}
    where {{ in_build_scope() }}

),

schools as (

    select academic_year, school_code from {{ ref('dim_school') }}

),

registry_years as (

    select distinct academic_year from schools

),

gia_rejects as (

    select
        lower(source_procedure) as source, academic_year, procedure,
        reject_reason, school_identifier, subject_name, _file_id, _source_line, _slice
    from gia

),

vpr_rejects as (

    select
        lower(procedure) as source, academic_year, procedure,
        reject_reason, school_identifier, subject_name, _file_id, _source_line, _slice
    from works

),

olympiad_rejects as (

    select
        'olympiad' as source, olympiad.academic_year, null as procedure,
        case
            when olympiad.participant_id is null then 'missing_participant'
            when olympiad.stage_code is null then 'unknown_stage'
            when olympiad.status_code is null then 'unknown_status'
            when registry_years.academic_year is null then 'no_registry_for_year'
            when schools.school_code is null then 'unknown_school'
        end as reject_reason,
        olympiad.school_code as school_identifier, olympiad.subject_name,
        olympiad._file_id, olympiad._source_line, olympiad._slice
    from olympiad
    left join registry_years on registry_years.academic_year = olympiad.academic_year
    left join schools
        on  schools.academic_year = olympiad.academic_year
        and schools.school_code = olympiad.school_code

),

literacy_rejects as (

    select
        'literacy' as source, literacy.academic_year, null as procedure,
        case
            when literacy.participant_code is null then 'missing_participant'
            when literacy.level_num is null then 'unknown_level'
            when registry_years.academic_year is null then 'no_registry_for_year'
            when schools.school_code is null then 'unknown_school'
        end as reject_reason,
        literacy.school_code as school_identifier, literacy.domain as subject_name,
        literacy._file_id, literacy._source_line, literacy._slice
    from literacy
    left join registry_years on registry_years.academic_year = literacy.academic_year
    left join schools
        on  schools.academic_year = literacy.academic_year
        and schools.school_code = literacy.school_code

),

unioned as (

    select * from gia_rejects
    union all select * from vpr_rejects
    union all select * from olympiad_rejects where reject_reason is not null
    union all select * from literacy_rejects where reject_reason is not null

),

final as (

    select
        unioned.source::varchar                       as source,
        unioned.academic_year::integer                as academic_year,
        unioned.procedure::varchar                    as procedure,
        unioned.reject_reason::varchar                as reject_reason,
        case unioned.reject_reason
            when 'unknown_school' then
                'ОО не найдена в реестре этого учебного года / School identifier not in this year''s registry'
            when 'no_registry_for_year' then
                'Реестр ОО за этот учебный год не загружен / No school registry loaded for this academic year'
            when 'unknown_subject' then
                'Предмет не найден в справочнике / Subject not in the reference data'
            when 'missing_participant' then
                'Нет идентификатора участника / Participant identifier missing'
            when 'unknown_status' then
                'Неизвестный статус результата / Unknown result status'
            when 'unknown_stage' then
                'Неизвестный этап олимпиады / Unknown olympiad stage'
            when 'unknown_level' then
                'Неизвестный уровень грамотности / Unknown literacy level'
        end::varchar                                  as reject_reason_text,
        unioned.school_identifier::varchar            as school_identifier,
        unioned.subject_name::varchar                 as subject_name,
        unioned._file_id::varchar                     as _file_id,
        unioned._source_line::integer                 as _source_line,
        unioned._slice::varchar                       as _slice
    from unioned

)

select * from final
