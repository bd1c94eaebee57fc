{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='intermediate',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- The children enrolled in additional education, each child once per academic year (the
-- federal method, приказ Минпросвещения № 170): from the counted enrolments of
-- core.fct_enrolment (real enrolments active in the year, applications excluded). A child's
-- residence, year of birth and school are those of their latest enrolment (latest enrolment
-- date, then the latest line), so a child with two municipalities in the export still counts
-- in one. Age = academic_year − 1 − year of birth. focus_codes: every направленность the
-- child is enrolled in (a child counts once in «все» and once in each).

with enrolments as (

    select * from {{ ref('fct_enrolment') }}
    where is_counted and {{ in_build_scope() }}

),

final as (

    select
        academic_year::integer                                               as academic_year,
        child_key::varchar                                                   as child_key,
        arg_max(msu_code, struct_pack(d := enrol_date, f := _file_id, l := _source_line))::varchar
                                                                             as msu_code,
        arg_max(birth_year, struct_pack(d := enrol_date, f := _file_id, l := _source_line))::integer
                                                                             as birth_year,
        arg_max(age, struct_pack(d := enrol_date, f := _file_id, l := _source_line))::integer
                                                                             as age,
        arg_max(school_code, struct_pack(d := enrol_date, f := _file_id, l := _source_line))
            filter (where school_known)::varchar                             as school_code,
        bool_or(is_ovz)::boolean                                             as is_ovz,
        bool_or(is_certificate_funded)::boolean                              as is_certificate_funded,
        list(distinct focus_code order by focus_code)
            filter (where focus_code is not null)::varchar[]                 as focus_codes,
        list(distinct focus_code order by focus_code)
            filter (where focus_code is not null and is_certificate_funded)::varchar[]
                                                                             as certificate_focus_codes,
        count(*)::integer                                                    as n_enrolments,
        -- one slice per year (additional_ed|<year>): every enrolment of the group shares it
        min(_slice)::varchar                                                 as _slice
    from enrolments
    group by academic_year, child_key

)

select * from final
