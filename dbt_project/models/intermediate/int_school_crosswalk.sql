{{ config(materialized='table', schema='intermediate') }}

-- The registry is the only place that links the three school identifier systems. One row per
-- academic_year × school_code (all years: staging keeps every loaded year).

with schools as (

    select * from {{ ref('stg_schools') }}

),

crosswalk as (

    select
        academic_year,
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
