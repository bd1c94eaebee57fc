{{ config(materialized='table', schema='marts') }}

-- Schools with low educational results (ШНОР) per academic_year × school, from the results
-- of record of ЕГЭ, ОГЭ (not ГВЭ-9) and ВПР.
--   a procedure «fails» at a school: ≥ 10 results of record and pct_failed ≥ 30;
--   is_low_results = n_procedures_failing ≥ 2 or repeat_failing (the same procedure failing
--   this year and the year before, same school_code);
--   results_z = mean over the school's procedures with ≥ 10 results of −z(pct_failed), z
--   over the region's schools with ≥ 10 results in that procedure and year (sample SD);
--   results_group (NULL when results_z or context_quartile is NULL):
--     is_low_results and context_quartile = 1 → «низкие результаты, неблагоприятный контекст»,
--     is_low_results otherwise               → «низкие результаты, благоприятный контекст»,
--     context_quartile = 1 and results_z ≥ the region's 75th percentile of results_z
--                                             → «резильентная», else «прочие».

with results as (

    select academic_year, school_code, msu_code, procedure, is_failed
    from {{ ref('fct_assessment_result') }}
    where is_result_of_record and procedure in ('EGE', 'OGE', 'VPR')

),

per_procedure as (

    select
        academic_year, school_code, procedure,
        any_value(msu_code)                                                   as msu_code,
        count(*)                                                              as n_results,
        count(*) filter (where is_failed)                                     as n_failed
    from results
    group by academic_year, school_code, procedure

),

scored as (

    select
        per_procedure.*,
        {{ marts_pct('n_failed', 'n_results') }}                              as pct_failed,
        n_results >= 10                                                       as is_eligible,
        n_results >= 10 and {{ marts_pct('n_failed', 'n_results') }} >= 30   as is_failing
    from per_procedure

),

z as (

    select
        scored.*,
        case when is_eligible then
            -(pct_failed - {{ exact_avg('pct_failed', where='is_eligible', over='w') }})
              / nullif({{ exact_stddev('pct_failed', where='is_eligible', over='w') }}, 0)
        end                                                                   as neg_z_failed,
        lag(is_failing) over (partition by school_code, procedure order by academic_year) as failing_prev_row,
        lag(academic_year) over (partition by school_code, procedure order by academic_year) as prev_row_year
    from scored
    window w as (partition by academic_year, procedure)

),

per_school as (

    select
        academic_year, school_code,
        any_value(msu_code)                                                   as msu_code,
        sum(n_results)                                                        as participants,
        sum(n_results) filter (where procedure = 'EGE')                       as n_results_ege,
        sum(n_results) filter (where procedure = 'OGE')                       as n_results_oge,
        sum(n_results) filter (where procedure = 'VPR')                       as n_results_vpr,
        max(pct_failed) filter (where procedure = 'EGE')                      as pct_failed_ege,
        max(pct_failed) filter (where procedure = 'OGE')                      as pct_failed_oge,
        max(pct_failed) filter (where procedure = 'VPR')                      as pct_failed_vpr,
        count(*) filter (where is_failing)                                    as n_procedures_failing,
        coalesce(bool_or(is_failing and failing_prev_row
                         and prev_row_year = academic_year - 1), false)       as repeat_failing,
        {{ exact_avg('neg_z_failed') }}                                       as results_z,
        count(neg_z_failed)                                                   as n_procedures_scored
    from z
    group by academic_year, school_code

),

flagged as (

    select
        per_school.*,
        (n_procedures_failing >= 2 or repeat_failing)                         as is_low_results,
        quantile_cont(results_z, 0.75) over (partition by academic_year)      as region_p75_results_z
    from per_school

),

final as (

    select
        f.academic_year::integer                                              as academic_year,
        {{ academic_year_label('f.academic_year') }}::varchar                 as academic_year_label,
        f.msu_code::varchar                                                   as municipality_code,
        f.school_code::varchar                                                as school_code,
        c.school_name::varchar                                                as school_name,
        c.municipality_name::varchar                                          as municipality_name,
        c.school_display_name::varchar                                        as school_display_name,
        f.participants::bigint                                                as participants,
        coalesce(f.n_results_ege, 0)::bigint                                  as n_results_ege,
        coalesce(f.n_results_oge, 0)::bigint                                  as n_results_oge,
        coalesce(f.n_results_vpr, 0)::bigint                                  as n_results_vpr,
        {{ marts_suppress('f.n_results_ege', 'f.pct_failed_ege') }}::double   as pct_failed_ege,
        {{ marts_suppress('f.n_results_oge', 'f.pct_failed_oge') }}::double   as pct_failed_oge,
        {{ marts_suppress('f.n_results_vpr', 'f.pct_failed_vpr') }}::double   as pct_failed_vpr,
        f.n_procedures_failing::integer                                       as n_procedures_failing,
        f.repeat_failing::boolean                                             as repeat_failing,
        f.is_low_results::boolean                                             as is_low_results,
        {{ marts_suppress('f.participants', 'f.results_z') }}::double         as results_z,
        f.n_procedures_scored::integer                                        as n_procedures_scored,
        f.region_p75_results_z::double                                        as region_p75_results_z,
        c.social_index::double                                                as social_index,
        c.context_quartile::integer                                           as context_quartile,
        (case
            when f.results_z is null or c.context_quartile is null then null
            when f.is_low_results and c.context_quartile = 1
                then 'низкие результаты, неблагоприятный контекст'
            when f.is_low_results then 'низкие результаты, благоприятный контекст'
            when c.context_quartile = 1 and f.results_z >= f.region_p75_results_z
                then 'резильентная'
            else 'прочие'
        end)::varchar                                                         as results_group,
        (select prev.is_low_results from flagged as prev
          where prev.school_code = f.school_code
            and prev.academic_year = f.academic_year - 1)::boolean            as was_low_results_last_year,
        {{ marts_is_suppressed('f.participants') }}::boolean                  as is_suppressed
    from flagged as f
    left join {{ ref('school_context') }} as c
        on c.academic_year = f.academic_year and c.school_code = f.school_code

)

select * from final
