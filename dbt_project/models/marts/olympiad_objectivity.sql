{{ config(materialized='table', schema='marts') }}

-- Objectivity of the ВсОШ school stage (direction 5) per academic_year × school × subject:
-- a generous school stage whose winners do not hold up one stage higher.
--   school_stage_participants / school_stage_awarded: unique students of the school at the
--     school stage in the subject / those whose best status there is победитель or призёр;
--   pct_awarded = awarded ÷ participants × 100; z_awarded: its z over the region's schools
--     with ≥ 10 school-stage participants in the same subject and year (sample SD; NULL
--     below 10);
--   sent_to_municipal / municipal_awarded: the school's students at the municipal stage in the
--     subject / those awarded there; municipal_success_pct = awarded ÷ sent × 100;
--   region_p10_municipal_success: the 10th percentile (quantile_cont) of municipal_success_pct
--     over the region's schools with ≥ 5 sent, same subject and year;
--   is_flagged: ≥ 10 school-stage participants, z_awarded ≥ 2 and municipal_success_pct ≤
--     region_p10_municipal_success (a school that sent nobody has no success rate: not flagged).
-- Every number above is a threshold of reference.ref_methodology_thresholds. Rates are shown
-- from rsoko:min_cell_size of their own denominator (municipal_success_pct: of sent); the
-- flag is computed from the unsuppressed values.

{%- set min_participants = methodology_threshold('oly_min_school_stage_participants') %}
{%- set z_min = methodology_threshold('oly_awarded_z_min') %}
{%- set success_quantile = methodology_threshold('oly_municipal_success_region_quantile') %}
{%- set min_sent = methodology_threshold('oly_percentile_min_sent') %}

with students as (

    select
        academic_year, stage_code, subject_name, school_code, participant_id,
        any_value(subject_code)                                               as subject_code,
        any_value(msu_code)                                                   as msu_code,
        max(case status_code when 'winner' then 3 when 'prize_winner' then 2 else 1 end) as best
    from {{ ref('fct_olympiad_result') }}
    where stage_code in ('school', 'municipal')
    group by academic_year, stage_code, subject_name, school_code, participant_id

),

school_stage as (

    select
        academic_year, subject_name, school_code,
        any_value(subject_code)                                               as subject_code,
        any_value(msu_code)                                                   as msu_code,
        count(*)                                                              as participants,
        count(*) filter (where best >= 2)                                     as awarded
    from students
    where stage_code = 'school'
    group by academic_year, subject_name, school_code

),

municipal_stage as (

    select
        academic_year, subject_name, school_code,
        count(*)                                                              as sent,
        count(*) filter (where best >= 2)                                     as municipal_awarded
    from students
    where stage_code = 'municipal'
    group by academic_year, subject_name, school_code

),

rates as (

    select
        s.*,
        coalesce(m.sent, 0)                                                   as sent,
        coalesce(m.municipal_awarded, 0)                                      as municipal_awarded,
        {{ marts_pct('s.awarded', 's.participants') }}                        as pct_awarded,
        {{ marts_pct('m.municipal_awarded', 'm.sent') }}                      as municipal_success_pct,
        s.participants >= {{ min_participants }}                              as is_assessed
    from school_stage as s
    left join municipal_stage as m using (academic_year, subject_name, school_code)

),

region as (

    select
        rates.*,
        {{ exact_avg('pct_awarded', where='is_assessed', over='w') }}         as region_mean_pct_awarded,
        {{ exact_stddev('pct_awarded', where='is_assessed', over='w') }}      as region_sd_pct_awarded,
        quantile_cont(case when sent >= {{ min_sent }} then municipal_success_pct end,
                      {{ success_quantile }}) over w                          as region_p10_municipal_success
    from rates
    window w as (partition by academic_year, subject_name)

),

scored as (

    select
        region.*,
        case when is_assessed then
            (pct_awarded - region_mean_pct_awarded) / nullif(region_sd_pct_awarded, 0)
        end                                                                   as z_awarded
    from region

),

final as (

    select
        o.academic_year::integer                                              as academic_year,
        {{ academic_year_label('o.academic_year') }}::varchar                 as academic_year_label,
        o.msu_code::varchar                                                   as municipality_code,
        o.school_code::varchar                                                as school_code,
        d.school_name::varchar                                                as school_name,
        o.subject_name::varchar                                               as subject,
        o.subject_code::varchar                                               as subject_code,
        o.participants::bigint                                                as participants,
        o.participants::bigint                                                as school_stage_participants,
        o.awarded::bigint                                                     as school_stage_awarded,
        {{ marts_suppress('o.participants', 'o.pct_awarded') }}::double       as pct_awarded,
        {{ marts_suppress('o.participants', 'o.z_awarded') }}::double         as z_awarded,
        o.region_mean_pct_awarded::double                                     as region_mean_pct_awarded,
        o.region_sd_pct_awarded::double                                       as region_sd_pct_awarded,
        o.sent::bigint                                                        as sent_to_municipal,
        o.municipal_awarded::bigint                                           as municipal_awarded,
        (case when not {{ marts_is_suppressed('o.participants') }} then
            {{ marts_suppress('o.sent', 'o.municipal_success_pct') }} end)::double
                                                                              as municipal_success_pct,
        o.region_p10_municipal_success::double                                as region_p10_municipal_success,
        o.is_assessed::boolean                                                as is_assessed,
        coalesce(o.is_assessed and o.z_awarded >= {{ z_min }}
                 and o.municipal_success_pct <= o.region_p10_municipal_success, false)::boolean
                                                                              as is_flagged,
        {{ marts_is_suppressed('o.participants') }}::boolean                  as is_suppressed
    from scored as o
    left join {{ ref('dim_school') }} as d
        on d.academic_year = o.academic_year and d.school_code = o.school_code

)

select * from final
