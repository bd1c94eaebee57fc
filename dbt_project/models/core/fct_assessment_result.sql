{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- One row per result = one attachable landing row of raw.ege / raw.oge / raw.vpr / raw.rpr.
-- Re-takes are resolved by is_result_of_record (see int_gia_results / int_vpr_rpr_results);
-- removed and annulled ГИА results are kept with their result_status. Rows that cannot be
-- attached are in rejected_results instead.

with gia as (

    select * from {{ ref('int_gia_results') }}
    where reject_reason is null and {{ in_build_scope() }}

),

works as (

    select * from {{ ref('int_vpr_rpr_results') }}
    where reject_reason is null and {{ in_build_scope() }}

),

schools as (

    select academic_year, school_code, msu_code
    from {{ ref('dim_school') }}

),

ege_min as (

    select * from {{ ref('ref_ege_min_scores') }}

),

gia_results as (

    select
        gia.result_id,
        gia.academic_year,
        gia.procedure,
        gia.subject_code,
        gia.grade,
        gia.source_subject_code,
        gia.school_code,
        gia.participant_key,
        null::varchar                        as participant_code,
        gia.participant_key                  as participant_id,
        gia.class_name,
        null::integer                        as variant,
        gia.exam_date,
        gia.primary_score,
        gia.primary_score_written,
        gia.primary_score_oral,
        null::integer                        as max_primary_score,
        gia.test_score,
        gia.mark,
        null::integer                        as journal_mark,
        null::varchar                        as journal_mark_raw,
        gia.result_status,
        gia.is_result_of_record,
        gia.sitting_rank,
        gia.n_sittings,
        ege_min.min_test_score,
        case
            when gia.result_status <> 'ok' then null
            when gia.procedure = 'EGE' and gia.result_kind = 'test_score'
                then gia.test_score < ege_min.min_test_score
            when gia.procedure = 'EGE'
                then gia.mark < coalesce(ege_min.min_mark, 3)
            else gia.mark <= 2
        end                                  as is_failed,
        lower(gia.source_procedure)          as source,
        gia._file_id,
        gia._source_line,
        gia._slice
    from gia
    left join ege_min
        on  gia.source_procedure = 'EGE'
        and ege_min.academic_year = gia.academic_year
        and ege_min.ege_subject_code = gia.source_subject_code

),

vpr_results as (

    select
        works.result_id,
        works.academic_year,
        works.procedure,
        works.subject_code,
        works.grade,
        null::varchar                        as source_subject_code,
        works.school_code,
        null::varchar                        as participant_key,
        works.participant_code,
        works.school_code || '/' || works.participant_code as participant_id,
        works.class_name,
        works.variant,
        null::date                           as exam_date,
        works.primary_score,
        null::integer                        as primary_score_written,
        null::integer                        as primary_score_oral,
        works.max_primary_score,
        null::integer                        as test_score,
        works.mark,
        works.journal_mark,
        works.journal_mark_raw,
        works.result_status,
        works.is_result_of_record,
        works.sitting_rank,
        works.n_sittings,
        null::integer                        as min_test_score,
        works.mark <= 2                      as is_failed,
        lower(works.procedure)               as source,
        works._file_id,
        works._source_line,
        works._slice
    from works

),

unioned as (

    select * from gia_results
    union all by name
    select * from vpr_results

),

final as (

    select
        unioned.result_id::varchar                         as result_id,
        unioned.academic_year::integer                     as academic_year,
        unioned.procedure::varchar                         as procedure,
        unioned.subject_code::varchar                      as subject_code,
        unioned.grade::integer                             as grade,
        unioned.source_subject_code::varchar               as source_subject_code,
        unioned.school_code::varchar                       as school_code,
        schools.msu_code::varchar                          as msu_code,
        unioned.participant_key::varchar                   as participant_key,
        unioned.participant_code::varchar                  as participant_code,
        unioned.participant_id::varchar                    as participant_id,
        unioned.class_name::varchar                        as class_name,
        unioned.variant::integer                           as variant,
        unioned.exam_date::date                            as exam_date,
        unioned.primary_score::integer                     as primary_score,
        unioned.primary_score_written::integer             as primary_score_written,
        unioned.primary_score_oral::integer                as primary_score_oral,
        unioned.max_primary_score::integer                 as max_primary_score,
        unioned.test_score::integer                        as test_score,
        unioned.mark::integer                              as mark,
        unioned.journal_mark::integer                      as journal_mark,
        unioned.journal_mark_raw::varchar                  as journal_mark_raw,
        unioned.result_status::varchar                     as result_status,
        unioned.is_result_of_record::boolean               as is_result_of_record,
        unioned.sitting_rank::integer                      as sitting_rank,
        unioned.n_sittings::integer                        as n_sittings,
        unioned.min_test_score::integer                    as min_test_score,
        unioned.is_failed::boolean                         as is_failed,
        unioned.source::varchar                            as source,
        unioned._file_id::varchar                          as _file_id,
        unioned._source_line::integer                      as _source_line,
        unioned._slice::varchar                            as _slice
    from unioned
    left join schools
        on  schools.academic_year = unioned.academic_year
        and schools.school_code = unioned.school_code

)

select * from final
