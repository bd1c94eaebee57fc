{{ config(materialized='table', schema='marts') }}

-- Objectivity of the ВсОШ school stage per academic_year × school: the subjects of its school
-- stage, those assessed (enough participants) and those flagged in olympiad_objectivity;
-- is_flagged = any subject flagged. participants: unique students of the school at the
-- school stage, all subjects.

with subjects as (

    select
        academic_year, school_code,
        any_value(municipality_code)                                          as municipality_code,
        count(*)                                                              as subjects_total,
        count(*) filter (where is_assessed)                                   as subjects_assessed,
        count(*) filter (where is_flagged)                                    as subjects_flagged
    from {{ ref('olympiad_objectivity') }}
    group by academic_year, school_code

),

students as (

    select academic_year, school_code, count(distinct participant_id) as participants
    from {{ ref('fct_olympiad_result') }}
    where stage_code = 'school'
    group by academic_year, school_code

),

final as (

    select
        s.academic_year::integer                                              as academic_year,
        {{ academic_year_label('s.academic_year') }}::varchar                 as academic_year_label,
        s.municipality_code::varchar                                          as municipality_code,
        s.school_code::varchar                                                as school_code,
        d.school_name::varchar                                                as school_name,
        st.participants::bigint                                               as participants,
        s.subjects_total::bigint                                              as subjects_total,
        s.subjects_assessed::bigint                                           as subjects_assessed,
        s.subjects_flagged::bigint                                            as subjects_flagged,
        (s.subjects_flagged > 0)::boolean                                     as is_flagged,
        {{ marts_is_suppressed('st.participants') }}::boolean                 as is_suppressed
    from subjects as s
    join students as st using (academic_year, school_code)
    left join {{ ref('dim_school') }} as d
        on d.academic_year = s.academic_year and d.school_code = s.school_code

)

select * from final
