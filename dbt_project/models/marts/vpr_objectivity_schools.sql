{{ config(materialized='table', schema='marts') }}

-- ВПР objectivity per academic_year × school: subject-grades (works) in vpr_objectivity,
-- those flagged, and the run of consecutive flagged academic years ending this year
-- (0 = not flagged this year, 1 = this year only; a year without a flag or without ВПР
-- breaks the run). A school is followed by its school_code.

with per_work as (

    select * from {{ ref('vpr_objectivity') }}

),

schools as (

    select
        academic_year,
        any_value(municipality_code)                           as municipality_code,
        school_code,
        count(*)                                               as works_total,
        count(*) filter (where is_flagged)                     as works_flagged,
        count(*) filter (where markers_computed)               as works_assessed,
        sum(participants)                                      as participants
    from (
        select *, n_markers is not null as markers_computed from per_work
    )
    group by academic_year, school_code

),

runs as (

    select
        schools.*,
        works_flagged > 0                                      as is_flagged,
        -- gaps and islands over consecutive flagged years
        academic_year - row_number() over (
            partition by school_code, works_flagged > 0 order by academic_year) as island
    from schools

),

final as (

    select
        runs.academic_year::integer                            as academic_year,
        {{ academic_year_label('runs.academic_year') }}::varchar as academic_year_label,
        runs.municipality_code::varchar                        as municipality_code,
        runs.school_code::varchar                              as school_code,
        d.school_name::varchar                                 as school_name,
        d.msu_name::varchar                                    as municipality_name,
        d.school_display_name::varchar                         as school_display_name,
        runs.participants::bigint                              as participants,
        runs.works_total::bigint                               as works_total,
        runs.works_assessed::bigint                            as works_assessed,
        runs.works_flagged::bigint                             as works_flagged,
        runs.is_flagged::boolean                               as is_flagged,
        (case when runs.is_flagged then row_number() over (
            partition by runs.school_code, runs.is_flagged, runs.island
            order by runs.academic_year) else 0 end)::integer  as consecutive_flagged_years,
        {{ marts_is_suppressed('runs.participants') }}::boolean as is_suppressed
    from runs
    left join {{ ref('dim_school') }} as d
        on d.academic_year = runs.academic_year and d.school_code = runs.school_code

)

select * from final
