{{ config(materialized='table', schema='marts') }}

-- Markers of non-objective ВПР results per academic_year × school × subject × grade
-- (ВПР only, results of record; НИКО and РПР never enter). Region distributions (the 90th
-- percentile of pct_raised, the mean and SD of school means for z_vs_region) are taken over
-- every school with results for that year × subject × grade, suppressed or not (a suppressed
-- school's values are not exposed, but it is part of the region). Five markers (marts.md):
--   marker_raised          pct_raised above the region's 90th percentile
--   marker_boundary        boundary_peak_ratio ≥ 3
--   marker_high_vs_region  z_vs_region ≥ 2, not a лицей / гимназия / СОШ с УИОП
--   marker_task_inversion  bpv_minus_basic ≥ 0: the school's mean mastery of П and В tasks
--                          minus that of Б tasks (each task's pct_mastered as in task_mastery,
--                          school level; tasks weigh equally) — harder tasks done as well as
--                          basic ones, a sign of known answers
--   marker_not_confirmed   z_vs_region ≥ 1.5 while oge_z_same_subject ≤ 0: the school's mean
--                          ОГЭ mark in the same subject and year, as a z over the region's
--                          schools with ≥ 10 ОГЭ results (NULL below 10 or without ОГЭ)
-- is_flagged = at least 2 of the five. Markers are computed only where participants ≥ 10 (and
-- the row is not suppressed); elsewhere they are NULL and is_flagged is false. Every number
-- above is a threshold of reference.ref_methodology_thresholds (methodology_threshold()).

{%- set min_participants = methodology_threshold('vpr_markers_min_participants') %}
{%- set raised_quantile = methodology_threshold('vpr_raised_region_quantile') %}
{%- set boundary_ratio = methodology_threshold('vpr_boundary_peak_ratio_min') %}
{%- set high_z = methodology_threshold('vpr_high_vs_region_z_min') %}
{%- set inversion_gap = methodology_threshold('vpr_task_inversion_gap_min') %}
{%- set not_confirmed_vpr_z = methodology_threshold('vpr_not_confirmed_vpr_z_min') %}
{%- set not_confirmed_oge_z = methodology_threshold('vpr_not_confirmed_oge_z_max') %}
{%- set oge_min_results = methodology_threshold('oge_z_min_results') %}
{%- set min_markers = methodology_threshold('vpr_flag_min_markers') %}
{%- set assessed = "participants >= " ~ min_participants ~ " and not " ~ marts_is_suppressed('participants') %}
{%- set n_markers = "(m.marker_raised::int + m.marker_boundary::int + m.marker_high_vs_region::int"
                    ~ " + m.marker_task_inversion::int + m.marker_not_confirmed::int)" %}

with works as (

    select
        r.academic_year, r.subject_code, r.grade, r.school_code, r.msu_code,
        r.primary_score, r.mark, r.journal_mark
    from {{ ref('fct_assessment_result') }} as r
    where r.procedure = 'VPR' and r.is_result_of_record

),

boundary as (

    select academic_year, subject_code, grade, min_primary_score as b
    from {{ ref('ref_mark_boundaries') }}
    where procedure = 'VPR' and mark = 3

),

per_school as (

    select
        works.academic_year, works.subject_code, works.grade, works.school_code,
        any_value(works.msu_code)                                             as msu_code,
        count(*)                                                              as participants,
        count(works.journal_mark)                                             as n_with_journal_mark,
        count(*) filter (where works.journal_mark is not null and works.mark < works.journal_mark) as n_lowered,
        count(*) filter (where works.journal_mark is not null and works.mark = works.journal_mark) as n_confirmed,
        count(*) filter (where works.journal_mark is not null and works.mark > works.journal_mark) as n_raised,
        count(*) filter (where abs(works.mark - works.journal_mark) >= 2)    as n_gap_2plus,
        any_value(boundary.b)                                                 as boundary_score,
        count(*) filter (where works.primary_score = boundary.b)              as n_at_boundary,
        count(*) filter (where works.primary_score = boundary.b - 1)          as n_at_boundary_1,
        count(*) filter (where works.primary_score = boundary.b - 2)          as n_at_boundary_2,
        avg(works.primary_score)                                              as mean_primary_score
    from works
    left join boundary
        on  boundary.academic_year = works.academic_year
        and boundary.subject_code = works.subject_code
        and boundary.grade = works.grade
    group by works.academic_year, works.subject_code, works.grade, works.school_code

),

rates as (

    select
        per_school.*,
        {{ marts_pct('n_lowered', 'n_with_journal_mark') }}                  as pct_lowered,
        {{ marts_pct('n_confirmed', 'n_with_journal_mark') }}                as pct_confirmed,
        {{ marts_pct('n_raised', 'n_with_journal_mark') }}                   as pct_raised,
        {{ marts_pct('n_gap_2plus', 'n_with_journal_mark') }}                as pct_gap_2plus,
        case when boundary_score is not null then
            (n_at_boundary + 1)::double / ((n_at_boundary_1 + n_at_boundary_2) / 2.0 + 1)
        end                                                                   as boundary_peak_ratio
    from per_school

),

-- the school's mastery of each task (task_mastery, school level), then per level
task_levels as (

    select
        academic_year, subject_code, grade, school_code,
        -- exact: a double average depends on the order of the rows (a rebuild must give the
        -- same bits)
        {{ exact_avg('pct_mastered', where="task_level = 'Б'") }}              as basic_mastery,
        {{ exact_avg('pct_mastered', where="task_level in ('П', 'В')") }}      as bpv_mastery
    from {{ ref('task_mastery') }}
    where level = 'school' and procedure = 'VPR'
    group by academic_year, subject_code, grade, school_code

),

-- the school's mean ОГЭ mark per subject and year, as a z over the region's schools with
-- enough ОГЭ results
oge_schools as (

    select
        academic_year, subject_code, school_code,
        count(*)                                                              as oge_results,
        avg(mark)                                                             as oge_mean_mark
    from {{ ref('fct_assessment_result') }}
    where procedure = 'OGE' and is_result_of_record and mark is not null
    group by academic_year, subject_code, school_code

),

oge_z as (

    select
        academic_year, subject_code, school_code, oge_results,
        case when oge_results >= {{ oge_min_results }} then
            (oge_mean_mark - {{ exact_avg('oge_mean_mark', where='oge_results >= ' ~ oge_min_results, over='w') }})
            / nullif({{ exact_stddev('oge_mean_mark', where='oge_results >= ' ~ oge_min_results, over='w') }}, 0)
        end                                                                   as oge_z_same_subject
    from oge_schools
    window w as (partition by academic_year, subject_code)

),

region as (

    select
        rates.*,
        task_levels.bpv_mastery - task_levels.basic_mastery                   as bpv_minus_basic,
        oge_z.oge_results,
        oge_z.oge_z_same_subject,
        quantile_cont(pct_raised, {{ raised_quantile }}) over w               as region_p90_pct_raised,
        {{ exact_avg('mean_primary_score', over='w') }}                       as region_mean_of_school_means,
        {{ exact_stddev('mean_primary_score', over='w') }}                    as region_sd_of_school_means,
        (mean_primary_score - {{ exact_avg('mean_primary_score', over='w') }})
            / nullif({{ exact_stddev('mean_primary_score', over='w') }}, 0)  as z_vs_region
    from rates
    left join task_levels using (academic_year, subject_code, grade, school_code)
    left join oge_z using (academic_year, subject_code, school_code)
    window w as (partition by academic_year, subject_code, grade)

),

markers as (

    select
        region.*,
        d.is_advanced,
        ({{ assessed }})                                                      as markers_computed,
        case when {{ assessed }} then
            coalesce(pct_raised > region_p90_pct_raised, false) end           as marker_raised,
        case when {{ assessed }} then
            coalesce(boundary_peak_ratio >= {{ boundary_ratio }}, false) end  as marker_boundary,
        case when {{ assessed }} then
            coalesce(z_vs_region >= {{ high_z }} and not coalesce(d.is_advanced, false), false) end
                                                                              as marker_high_vs_region,
        case when {{ assessed }} then
            coalesce(bpv_minus_basic >= {{ inversion_gap }}, false) end       as marker_task_inversion,
        case when {{ assessed }} then
            coalesce(z_vs_region >= {{ not_confirmed_vpr_z }}
                     and oge_z_same_subject <= {{ not_confirmed_oge_z }}, false) end
                                                                              as marker_not_confirmed
    from region
    left join {{ ref('dim_school') }} as d
        on d.academic_year = region.academic_year and d.school_code = region.school_code

),

final as (

    select
        m.academic_year::integer                                              as academic_year,
        {{ academic_year_label('m.academic_year') }}::varchar                 as academic_year_label,
        'VPR'::varchar                                                        as procedure,
        p.procedure_name_ru::varchar                                          as procedure_name,
        m.msu_code::varchar                                                   as municipality_code,
        m.school_code::varchar                                                as school_code,
        d.school_name::varchar                                                as school_name,
        d.msu_name::varchar                                                   as municipality_name,
        d.school_display_name::varchar                                        as school_display_name,
        d.school_kind::varchar                                                as school_kind,
        m.subject_code::varchar                                               as subject_code,
        s.subject_name_ru::varchar                                            as subject_name,
        m.grade::integer                                                      as grade,
        m.participants::bigint                                                as participants,
        m.n_with_journal_mark::bigint                                         as n_with_journal_mark,
        {{ marts_suppress('m.participants', 'm.pct_lowered') }}::double       as pct_lowered,
        {{ marts_suppress('m.participants', 'm.pct_confirmed') }}::double     as pct_confirmed,
        {{ marts_suppress('m.participants', 'm.pct_raised') }}::double        as pct_raised,
        {{ marts_suppress('m.participants', 'm.pct_gap_2plus') }}::double     as pct_gap_2plus,
        m.boundary_score::integer                                             as boundary_score,
        {{ marts_suppress('m.participants', 'm.boundary_peak_ratio') }}::double as boundary_peak_ratio,
        {{ marts_suppress('m.participants', 'm.mean_primary_score') }}::double  as mean_primary_score,
        {{ marts_suppress('m.participants', 'm.z_vs_region') }}::double       as z_vs_region,
        m.region_p90_pct_raised::double                                       as region_p90_pct_raised,
        m.region_mean_of_school_means::double                                 as region_mean_of_school_means,
        m.region_sd_of_school_means::double                                   as region_sd_of_school_means,
        m.marker_raised::boolean                                              as marker_raised,
        m.marker_boundary::boolean                                            as marker_boundary,
        m.marker_high_vs_region::boolean                                      as marker_high_vs_region,
        {{ marts_suppress('m.participants', 'm.bpv_minus_basic') }}::double   as bpv_minus_basic,
        m.marker_task_inversion::boolean                                      as marker_task_inversion,
        m.oge_results::bigint                                                 as oge_results,
        {{ marts_suppress('m.participants', 'm.oge_z_same_subject') }}::double as oge_z_same_subject,
        m.marker_not_confirmed::boolean                                       as marker_not_confirmed,
        (case when m.markers_computed then {{ n_markers }} end)::integer      as n_markers,
        coalesce(m.markers_computed and {{ n_markers }} >= {{ min_markers }}, false)::boolean
                                                                              as is_flagged,
        {{ marts_is_suppressed('m.participants') }}::boolean                  as is_suppressed
    from markers as m
    left join {{ ref('dim_school') }} as d
        on d.academic_year = m.academic_year and d.school_code = m.school_code
    left join {{ ref('dim_procedure') }} as p on p.procedure = 'VPR'
    left join {{ ref('dim_subject') }} as s on s.subject_code = m.subject_code

)

select * from final
