{{ config(materialized='table', schema='core') }}

-- One row per academic_year × school_code: the registry of that year with the three
-- identifier systems, context variables, status and the reorganisation roll-up. A year without
-- its own registry (every source is optional) carries the registry of registry_year
-- (intermediate.int_registry_year: the latest earlier one, else the earliest later one).

with schools as (

    select
        registry_year.academic_year,
        registry_year.registry_year,
        stg_schools.* exclude (academic_year)
    from {{ ref('stg_schools') }} as stg_schools
    join {{ ref('int_registry_year') }} as registry_year
        on registry_year.registry_year = stg_schools.academic_year

),

rollup as (

    select * from {{ ref('int_school_rollup') }}

),

kinds as (

    select * from {{ ref('ref_school_kinds') }}

),

-- A display name unique within the region in each academic year: the name plus the
-- municipality (five «СОШ с. Садовое» in one region are usual), plus the code where two
-- schools of the same name share a municipality.
display as (

    select
        school_code,
        academic_year,
        coalesce(school_name, 'ОО ' || school_code) || ' (' || coalesce(msu_name, msu_code, '?')
            || case when count(*) over (partition by academic_year, school_name, msu_name) > 1
                    then ', код ' || school_code else '' end
            || ')'                                              as school_display_name
    from schools

),

final as (

    select
        schools.academic_year::integer                          as academic_year,
        schools.registry_year::integer                          as registry_year,
        schools.school_code::varchar                            as school_code,
        schools.school_name::varchar                            as school_name,
        display.school_display_name::varchar                    as school_display_name,
        schools.msu_code::varchar                               as msu_code,
        schools.msu_name::varchar                               as msu_name,
        schools.gia_school_code::varchar                        as gia_school_code,
        schools.fis_login::varchar                              as fis_login,
        schools.school_kind::varchar                            as school_kind,
        coalesce(kinds.is_advanced::boolean, false)             as is_advanced,
        schools.settlement::varchar                             as settlement,
        schools.n_students::integer                             as n_students,
        schools.n_students_4_11::integer                        as n_students_4_11,
        schools.n_teachers::integer                             as n_teachers,
        schools.pct_ovz::double                                 as pct_ovz,
        schools.pct_nonnative::double                           as pct_nonnative,
        schools.pct_lowincome::double                           as pct_lowincome,
        schools.pct_singleparent::double                        as pct_singleparent,
        schools.pct_parents_higher_ed::double                   as pct_parents_higher_ed,
        schools.pct_vacancies::double                           as pct_vacancies,
        schools.status::varchar                                 as status,
        schools.status_code::varchar                            as status_code,
        schools.successor_code::varchar                         as successor_code,
        coalesce(rollup.current_school_code, schools.school_code)::varchar
                                                                as current_school_code,
        coalesce(rollup.rollup_depth, 0)::integer               as rollup_depth,
        schools._file_id::varchar                               as _file_id,
        schools._source_line::integer                           as _source_line
    from schools
    left join rollup on rollup.school_code = schools.school_code
    left join kinds on kinds.school_kind = schools.school_kind
    left join display
        on display.academic_year = schools.academic_year
       and display.school_code = schools.school_code

)

select * from final
