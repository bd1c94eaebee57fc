{{ config(materialized='view', schema='intermediate') }}

-- ГИА result lines (ЕГЭ, ОГЭ, ГВЭ-9) attached to the registry school and ranked into
-- results of record. Every landing row is here exactly once, with reject_reason set when it
-- cannot enter the fact (core.rejected_results explains it).
-- Result of record: per academic_year × procedure × subject_code × participant_key, the
-- sitting with the latest exam date (ties: later file/line) among the attachable rows, and
-- only if its status is `ok`; earlier sittings and removed/annulled results stay with
-- is_result_of_record = false.

with gia as not materialized (

    select * from {{ ref('stg_ege') }}
    union all by name
    select * from {{ ref('stg_oge') }}

),

crosswalk as (

    select * from {{ ref('int_school_crosswalk') }}
    where gia_school_code is not null

),

registry_years as (

    select distinct academic_year from {{ ref('int_school_crosswalk') }}

),

attached as not materialized (

    select
        gia.*,
        crosswalk.school_code,
        case
            when gia.subject_code is null then 'unknown_subject'
            when gia.participant_key is null then 'missing_participant'
            when gia.result_status = 'unknown' then 'unknown_status'
            when registry_years.academic_year is null then 'no_registry_for_year'
            when crosswalk.school_code is null then 'unknown_school'
        end as reject_reason,
        gia.msu_code || '/' || coalesce(gia.gia_school_code, '')  as school_identifier
    from gia
    left join registry_years
        on registry_years.academic_year = gia.academic_year
    left join crosswalk
        on  crosswalk.academic_year = gia.academic_year
        and crosswalk.msu_code = gia.msu_code
        and crosswalk.gia_school_code = gia.gia_school_code

),

-- Sittings ranked per participant × subject; see macros/ranked_sittings.sql.
{{ ranked_sittings('attached', ['academic_year', 'procedure', 'subject_code', 'participant_key'],
                   'exam_date desc, _file_id desc, _source_line desc') }},

final as (

    select
        {{ gia_result_id() }}                                       as result_id,
        *,
        coalesce(sitting_rank = 1 and result_status = 'ok', false) as is_result_of_record
    from ranked

)

select * from final
