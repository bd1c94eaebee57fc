{{ config(materialized='table', schema='marts') }}

-- Results of ЕГЭ, ОГЭ, ГВЭ-9, ВПР, РПР and НИКО per academic_year × level × territory ×
-- procedure × subject × grade, from the participant-level rows of core.fct_assessment_result
-- (every level in one GROUPING SETS aggregation: never an average of averages). All years:
-- the table is rebuilt in full on every run (see models/marts/_marts.yml).
-- НИКО is a sample (is_sample): region rows, municipality rows with enough participants
-- (reference.ref_sample_rules), never school rows (macros/marts_sample.sql). Its files may
-- carry primary scores only: the mark shares are over the results that have a mark.

with results as (

    select
        academic_year, procedure, subject_code, grade, school_code, msu_code,
        result_status, is_result_of_record, is_failed, primary_score, test_score, mark
    from {{ ref('fct_assessment_result') }}

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        procedure,
        subject_code,
        grade,
        count(*) filter (where is_result_of_record)                           as participants,
        count(*) filter (where result_status in ('removed', 'annulled'))      as n_removed,
        avg(primary_score) filter (where is_result_of_record)                 as mean_primary_score,
        avg(test_score) filter (where is_result_of_record and procedure = 'EGE'
                                  and test_score is not null)                 as mean_test_score,
        avg(mark) filter (where is_result_of_record and test_score is null
                            and mark is not null)                             as mean_mark,
        count(*) filter (where is_result_of_record
                           and coalesce(test_score, mark) is not null)        as n_with_result,
        count(*) filter (where is_result_of_record and is_failed)             as n_failed,
        count(*) filter (where is_result_of_record and case
            when test_score is not null then test_score >= 70 else mark >= 4 end) as n_good,
        count(*) filter (where is_result_of_record and case
            when test_score is not null then test_score >= 80 else mark = 5 end)  as n_high,
        count(*) filter (where is_result_of_record and test_score = 100)      as n_top_all
    from results
    group by {{ marts_level_grouping_sets(['academic_year', 'procedure', 'subject_code', 'grade']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.procedure::varchar                                                as procedure,
        p.procedure_name_ru::varchar                                          as procedure_name,
        agg.subject_code::varchar                                             as subject_code,
        s.subject_name_ru::varchar                                            as subject_name,
        agg.grade::integer                                                    as grade,
        agg.participants::bigint                                              as participants,
        agg.n_removed::bigint                                                 as n_removed,
        {{ marts_suppress('agg.participants', 'agg.mean_primary_score') }}::double as mean_primary_score,
        {{ marts_suppress('agg.participants', 'agg.mean_test_score') }}::double    as mean_test_score,
        {{ marts_suppress('agg.participants', 'agg.mean_mark') }}::double          as mean_mark,
        {{ marts_suppress('agg.participants', marts_pct('agg.n_failed', 'agg.n_with_result')) }}::double as pct_failed,
        {{ marts_suppress('agg.participants', marts_pct('agg.n_good', 'agg.n_with_result')) }}::double   as pct_good,
        {{ marts_suppress('agg.participants', marts_pct('agg.n_high', 'agg.n_with_result')) }}::double   as pct_high,
        (case when agg.procedure = 'EGE' then agg.n_top_all end)::bigint      as n_top,
        {{ marts_is_suppressed('agg.participants') }}::boolean                as is_suppressed,
        coalesce(p.is_sample, false)::boolean                                 as is_sample
    from agg
    left join {{ ref('dim_procedure') }} as p on p.procedure = agg.procedure
    left join {{ ref('dim_subject') }} as s on s.subject_code = agg.subject_code
    where {{ marts_sample_published('agg', 'p', 'agg.participants') }}

)

select * from final
