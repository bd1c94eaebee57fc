{{ config(materialized='ephemeral') }}

-- ЕГЭ, ОГЭ, ВПР and ГИА removals from the results of record.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value).

with results as (

    select * from {{ ref('fct_assessment_result') }}

),

result_counts as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(*) filter (where procedure = 'EGE' and is_result_of_record)                     as ege_n,
        count(*) filter (where procedure = 'EGE' and is_result_of_record and is_failed)       as ege_failed,
        count(*) filter (where procedure = 'EGE' and is_result_of_record
                           and test_score is not null)                                        as ege_scored,
        count(*) filter (where procedure = 'EGE' and is_result_of_record and test_score >= 80) as ege_80,
        count(*) filter (where procedure = 'EGE' and is_result_of_record and test_score = 100) as ege_100,
        count(*) filter (where procedure = 'OGE' and is_result_of_record)                     as oge_n,
        count(*) filter (where procedure = 'OGE' and is_result_of_record and mark = 2)        as oge_2,
        count(*) filter (where procedure = 'OGE' and is_result_of_record and mark >= 4)       as oge_45,
        count(*) filter (where procedure = 'VPR' and is_result_of_record)                     as vpr_n,
        count(*) filter (where procedure = 'VPR' and is_result_of_record and mark >= 3)       as vpr_3plus,
        count(distinct participant_id) filter (where procedure = 'EGE' and is_result_of_record
                           and subject_code in ('math_prof', 'math_base'))                    as ege_math_takers,
        count(distinct participant_id) filter (where procedure = 'EGE' and is_result_of_record
                           and subject_code = 'math_prof')                                    as ege_prof_takers,
        count(*) filter (where procedure in ('EGE', 'OGE', 'GVE9'))                           as gia_rows,
        count(*) filter (where procedure in ('EGE', 'OGE', 'GVE9')
                           and result_status in ('removed', 'annulled'))                      as gia_removed
    from results
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'EGE_FAIL_PCT' as indicator_code, academic_year, level, municipality_code, school_code,
           ege_failed::double as numerator, ege_n::double as denominator,
           {{ marts_pct('ege_failed', 'ege_n') }} as value, ege_n as cell_n
    from result_counts where ege_n > 0
    union all
    select 'EGE_80PLUS_PCT', academic_year, level, municipality_code, school_code,
           ege_80, ege_scored, {{ marts_pct('ege_80', 'ege_scored') }}, ege_scored
    from result_counts where ege_scored > 0
    union all
    select 'EGE_100_COUNT', academic_year, level, municipality_code, school_code,
           ege_100, null, ege_100, null
    from result_counts where ege_n > 0
    union all
    select 'OGE_FAIL_PCT', academic_year, level, municipality_code, school_code,
           oge_2, oge_n, {{ marts_pct('oge_2', 'oge_n') }}, oge_n
    from result_counts where oge_n > 0
    union all
    select 'OGE_GOOD_PCT', academic_year, level, municipality_code, school_code,
           oge_45, oge_n, {{ marts_pct('oge_45', 'oge_n') }}, oge_n
    from result_counts where oge_n > 0
    union all
    select 'VPR_BASIC_PCT', academic_year, level, municipality_code, school_code,
           vpr_3plus, vpr_n, {{ marts_pct('vpr_3plus', 'vpr_n') }}, vpr_n
    from result_counts where vpr_n > 0
    union all
    select 'EGE_PROFILE_MATH_PCT', academic_year, level, municipality_code, school_code,
           ege_prof_takers, ege_math_takers, {{ marts_pct('ege_prof_takers', 'ege_math_takers') }},
           ege_math_takers
    from result_counts where ege_math_takers > 0
    union all
    select 'GIA_REMOVED_PER_1000', academic_year, level, municipality_code, school_code,
           gia_removed, gia_rows, (1000.0 * gia_removed / nullif(gia_rows, 0))::double, gia_rows
    from result_counts where gia_rows > 0

)

select * from final
