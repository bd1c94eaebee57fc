{{ config(materialized='table', schema='marts') }}

-- Schools with low educational results (ШНОР) and resilient schools per academic_year ×
-- school, from the results of record of ЕГЭ, ОГЭ (not ГВЭ-9) and ВПР (НИКО, РПР never).
--   a procedure «fails» at a school: ≥ 10 results of record and pct_failed ≥ 30;
--   is_low_results = n_procedures_failing ≥ 2 or repeat_failing (the same procedure failing
--   this year and the year before, same school_code);
--   results_z = mean over the school's procedures with ≥ 10 results of −z(pct_failed), z
--   over the region's schools with ≥ 10 results in that procedure and year (sample SD);
--   results_score_z = for each procedure × subject × grade where the school has ≥ 10
--   results, the school's mean score (ЕГЭ test score; otherwise primary score ÷ its maximum)
--   as a z over the region's school means (schools with ≥ 10 results, sample SD), then the
--   mean of those z weighted by results. Only objective results count: the ВПР of a
--   school-year flagged in vpr_objectivity_schools is left out, of the school's own z and of
--   the region's distribution (ЕГЭ/ОГЭ always count);
--   results_group (NULL without context_quartile or without a procedure of ≥ 10 results):
--     is_low_results and context_quartile = 1 (unfavourable) → «низкие результаты, неблагоприятный контекст»,
--     is_low_results otherwise               → «низкие результаты, благоприятный контекст»,
--     context_quartile = 1, results_score_z ≥ the region's 75th percentile of results_score_z
--     and ВПР not flagged that year          → «резильентная», else «прочие».
-- Failure shares decide low results; they compress at the top and an inflating school has
-- none, so resilience is decided on objective scores. Every number above is a threshold of
-- reference.ref_methodology_thresholds (methodology_threshold()).

{%- set min_results = methodology_threshold('low_results_min_results') %}
{%- set fail_pct = methodology_threshold('low_results_fail_pct_min') %}
{%- set min_failing = methodology_threshold('low_results_min_procedures_failing') %}
{%- set score_min_results = methodology_threshold('results_score_min_results') %}
{%- set unfavourable_quartile = methodology_threshold('unfavourable_context_quartile') %}
{%- set resilient_quantile = methodology_threshold('resilient_results_region_quantile') %}

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
        n_results >= {{ min_results }}                                        as is_eligible,
        n_results >= {{ min_results }}
            and {{ marts_pct('n_failed', 'n_results') }} >= {{ fail_pct }}    as is_failing
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

-- the ВПР of these school-years is not objective: left out of results_score_z
vpr_flagged as (

    select academic_year, school_code
    from {{ ref('vpr_objectivity_schools') }}
    where is_flagged

),

-- the maximum primary score of a ГИА subject (the top of its mark scale); ВПР forms carry
-- their own (Максимальный первичный балл)
gia_max as (

    select procedure, academic_year, subject_code, grade, max(max_primary_score) as max_primary
    from {{ ref('ref_mark_boundaries') }}
    where procedure in ('EGE', 'OGE')
    group by all

),

objective_scores as (

    select
        r.academic_year, r.school_code, r.procedure, r.subject_code, r.grade,
        case when r.procedure = 'EGE' and r.test_score is not null then r.test_score::double
             else r.primary_score::double
                  / nullif(coalesce(r.max_primary_score, gia_max.max_primary), 0) end as score
    from {{ ref('fct_assessment_result') }} as r
    left join gia_max
        on  gia_max.procedure = r.procedure and gia_max.academic_year = r.academic_year
        and gia_max.subject_code = r.subject_code and gia_max.grade = r.grade
    left join vpr_flagged as f
        on f.academic_year = r.academic_year and f.school_code = r.school_code
    where r.is_result_of_record and r.procedure in ('EGE', 'OGE', 'VPR')
      and not (r.procedure = 'VPR' and f.school_code is not null)

),

score_groups as (

    select
        academic_year, school_code, procedure, subject_code, grade,
        count(score)                                                          as n_results,
        {{ exact_avg('score') }}                                              as mean_score
    from objective_scores
    group by academic_year, school_code, procedure, subject_code, grade

),

score_z as (

    select
        score_groups.*,
        (mean_score - {{ exact_avg('mean_score', over='w') }})
            / nullif({{ exact_stddev('mean_score', over='w') }}, 0)          as z_score
    from score_groups
    where n_results >= {{ score_min_results }}
    window w as (partition by academic_year, procedure, subject_code, grade)

),

school_scores as (

    select
        academic_year, school_code,
        (sum((z_score * n_results)::decimal(38, 10))::double
            / nullif(sum(n_results) filter (where z_score is not null), 0))  as results_score_z,
        sum(n_results) filter (where z_score is not null)                     as n_results_scored
    from score_z
    group by academic_year, school_code

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
        count(neg_z_failed)                                                   as n_procedures_scored,
        count(*) filter (where is_eligible)                                   as n_procedures_eligible
    from z
    group by academic_year, school_code

),

flagged as (

    select
        per_school.*,
        (n_procedures_failing >= {{ min_failing }} or repeat_failing)         as is_low_results,
        quantile_cont(results_z, {{ resilient_quantile }})
            over (partition by per_school.academic_year)                      as region_p75_results_z,
        school_scores.results_score_z,
        school_scores.n_results_scored,
        quantile_cont(school_scores.results_score_z, {{ resilient_quantile }})
            over (partition by per_school.academic_year)                      as region_p75_results_score_z,
        vpr_flagged.school_code is not null                                   as is_vpr_flagged
    from per_school
    left join school_scores using (academic_year, school_code)
    left join vpr_flagged using (academic_year, school_code)

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
        {{ marts_suppress('f.participants', 'f.results_score_z') }}::double   as results_score_z,
        coalesce(f.n_results_scored, 0)::bigint                               as n_results_scored,
        f.region_p75_results_score_z::double                                  as region_p75_results_score_z,
        f.is_vpr_flagged::boolean                                             as is_vpr_flagged,
        c.social_index::double                                                as social_index,
        c.context_quartile::integer                                           as context_quartile,
        (case
            when f.n_procedures_eligible = 0 or c.context_quartile is null then null
            when f.is_low_results and c.context_quartile = {{ unfavourable_quartile }}
                then 'низкие результаты, неблагоприятный контекст'
            when f.is_low_results then 'низкие результаты, благоприятный контекст'
            when c.context_quartile = {{ unfavourable_quartile }} and not f.is_vpr_flagged
                 and f.results_score_z >= f.region_p75_results_score_z
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
