{{ config(materialized='table', schema='intermediate') }}

-- The registry is the only place that links the three school identifier systems. One row per
-- academic_year × school_code for every academic year present in any source: a year without
-- its own registry is served by the registry of int_registry_year.registry_year.

with schools as (

    select
        registry_year.academic_year,
        registry_year.registry_year,
        stg_schools.* exclude (academic_year)
    from {{ ref('stg_schools') }} as stg_schools
    join {{ ref('int_registry_year') }} as registry_year
        on registry_year.registry_year = stg_schools.academic_year

),

crosswalk as (

    select
        academic_year,
        registry_year,
        school_code,
        msu_code,
        gia_school_code,
        case when gia_school_code is not null then msu_code || '/' || gia_school_code end
                                                     as gia_school_id,
        fis_login,
        status_code,
        _file_id,
        _source_line
    from schools

)

select * from crosswalk
