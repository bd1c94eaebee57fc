{{ config(materialized='table', schema='marts') }}

-- Direction 6: the head of each school in post on 20 September (the staff register's state
-- date) per academic_year × school_code, with the school's results around the appointment:
-- results_z (marts.low_results_schools) in the academic year before the appointment's
-- academic year and now; the managerial diagnostic of the last rsoko:recent_years years; the
-- latest НОКУОД assessment up to this year; the share of teachers with recent ДПО
-- (marts.staff_profile, suppressed like there) and the school climate index
-- (marts.school_climate, all questionnaires). No staff key is exposed. A change of head
-- shows as a new head_since (and head_changed = true in the first year of the new head).

with heads as (

    select * from {{ ref('fct_staff_assignment') }}
    where is_head

),

previous_heads as (

    select academic_year + 1 as academic_year, school_code, staff_key as previous_staff_key
    from heads

),

results as (

    select academic_year, school_code, results_z, is_low_results
    from {{ ref('low_results_schools') }}

),

-- the school's climate index over every questionnaire (NULL below the cell size, as there)
climate as (

    select academic_year, school_code, climate_index from {{ ref('school_climate') }}
    where level = 'school' and questionnaire = 'все'

),

flags as (

    select academic_year, school_code, is_flagged from {{ ref('vpr_objectivity_schools') }}

),

managerial as (

    select academic_year, staff_key, diagnostic_date,
           count(*) filter (where block <> 'все' and has_deficit)                  as deficit_blocks
    from {{ ref('int_deficit_blocks') }}
    where is_managerial
    group by all

),

nokuod as (

    select academic_year, school_code, total_score from {{ ref('fct_nokuod') }}

),

profile as (

    select academic_year, school_code, pct_dpo_3y
    from {{ ref('staff_profile') }}
    where level = 'school'

),

appointed as (

    select
        heads.*,
        {{ academic_year_of_date('heads.appointment_date') }}                      as appointment_year,
        {{ staff_state_date('heads.academic_year') }}                              as state_date
    from heads

),

final as (

    select
        a.academic_year::integer                                                   as academic_year,
        {{ academic_year_label('a.academic_year') }}::varchar                      as academic_year_label,
        a.msu_code::varchar                                                        as municipality_code,
        a.school_code::varchar                                                     as school_code,
        (select m.msu_name from {{ ref('dim_municipality') }} as m
          where m.msu_code = a.msu_code)::varchar                                  as municipality_name,
        (select s.school_name from {{ ref('dim_school') }} as s
          where s.academic_year = a.academic_year
            and s.school_code = a.school_code)::varchar                            as school_name,
        a.appointment_date::date                                                   as head_since,
        (date_diff('month', a.appointment_date, a.state_date) // 12)::integer      as tenure_years,
        a.appointment_year::integer                                                as appointment_academic_year,
        (p.previous_staff_key is not null
         and p.previous_staff_key <> a.staff_key)::boolean                         as head_changed,
        a.category::varchar                                                        as head_category,
        a.experience_years::integer                                                as head_experience_years,
        (select count(*) > 0 from managerial as d
          where d.staff_key = a.staff_key
            and d.academic_year between a.academic_year - {{ staff_var('recent_years') }} + 1
                                    and a.academic_year)::boolean                 as head_diagnosed_3y,
        (select arg_max(d.deficit_blocks, d.diagnostic_date) from managerial as d
          where d.staff_key = a.staff_key
            and d.academic_year between a.academic_year - {{ staff_var('recent_years') }} + 1
                                    and a.academic_year)::integer                 as head_deficit_blocks,
        before.results_z::double                                                   as results_z_before,
        now.results_z::double                                                      as results_z_now,
        (now.results_z - before.results_z)::double                                 as results_z_change,
        now.is_low_results::boolean                                                as is_low_results_now,
        before.is_low_results::boolean                                             as was_low_results_at_appointment,
        flags.is_flagged::boolean                                                  as vpr_flagged_now,
        (select arg_max(n.total_score, n.academic_year) from nokuod as n
          where n.school_code = a.school_code
            and n.academic_year <= a.academic_year)::double                        as nokuod_total,
        (select max(n.academic_year) from nokuod as n
          where n.school_code = a.school_code
            and n.academic_year <= a.academic_year)::integer                       as nokuod_year,
        climate.climate_index::double                                              as climate_index,
        profile.pct_dpo_3y::double                                                 as staff_dpo_3y_pct
    from appointed as a
    left join previous_heads as p
        on p.academic_year = a.academic_year and p.school_code = a.school_code
    left join results as before
        on before.academic_year = a.appointment_year - 1 and before.school_code = a.school_code
    left join results as now
        on now.academic_year = a.academic_year and now.school_code = a.school_code
    left join flags
        on flags.academic_year = a.academic_year and flags.school_code = a.school_code
    left join profile
        on profile.academic_year = a.academic_year and profile.school_code = a.school_code
    left join climate
        on climate.academic_year = a.academic_year and climate.school_code = a.school_code

)

select * from final
