{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='intermediate',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- ВПР and РПР works attached to the registry school through the ФИС ОКО login. Every landing
-- row is here once, with reject_reason set when it cannot enter the fact.
-- The same work can arrive twice when files of different scope overlap (a region file and a
-- school file of the same subject × grade): per academic_year × procedure × subject × grade ×
-- school × participant_code the work of the most recently loaded file is the result of record,
-- the others stay with is_result_of_record = false.
-- Stored, not a view: the ranking window over every work of the year is the heaviest step
-- of the ВПР chain, and the fact, rejected_results and the task cells all read it (tier F:
-- 42M works; as a view it was ranked again by every reader and test).

with works as not materialized (

    select * from {{ ref('stg_vpr') }}
    where {{ in_build_scope() }}
    union all by name
    select * from {{ ref('stg_rpr') }}
    where {{ in_build_scope() }}
    union all by name
    -- НИКО: the same ФИС ОКО layout (a sample study; the marts publish it by the rules of
    -- reference.ref_sample_rules and keep it out of every objectivity measure)
    select * from {{ ref('stg_niko') }}
    where {{ in_build_scope() }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

crosswalk as (

    select * from {{ ref('int_school_crosswalk') }}
    where fis_login is not null

),

registry_years as (

    select distinct academic_year from {{ ref('int_school_crosswalk') }}

),

attached as not materialized (

    select
        works.*,
        crosswalk.school_code,
        crosswalk.msu_code,
        files.loaded_at as file_loaded_at,
        case
            when works.subject_code is null then 'unknown_subject'
            when works.participant_code is null then 'missing_participant'
            when registry_years.academic_year is null then 'no_registry_for_year'
            when crosswalk.school_code is null then 'unknown_school'
        end as reject_reason,
        works.fis_login as school_identifier
    from works
    left join files on files.file_id = works._file_id
    left join registry_years
        on registry_years.academic_year = works.academic_year
    left join crosswalk
        on  crosswalk.academic_year = works.academic_year
        and crosswalk.fis_login = works.fis_login

),

-- Sittings ranked per work key; see macros/ranked_sittings.sql.
{{ ranked_sittings('attached',
                   ['academic_year', 'procedure', 'subject_code', 'grade', 'school_code',
                    'participant_code'],
                   'file_loaded_at desc nulls last, _file_id desc, _source_line desc') }},

final as (

    select
        {{ vpr_result_id() }}             as result_id,
        *,
        coalesce(sitting_rank = 1, false) as is_result_of_record
    from ranked

)

select * from final
