{{ config(materialized='table', schema='intermediate') }}

-- Measures as applied, across the yearly registers: a measure still running is often listed
-- again in the next year's register (with the same or another code), so one application =
-- one kind × target × start date × target indicator; the latest register's row wins (its
-- end date may have been filled in since). Codes are unique only within a file, so they do
-- not identify a measure across years.

with measures as (

    select * from {{ ref('fct_measure') }}

),

final as (

    select
        measure_kind::varchar                                    as measure_kind,
        any_value(kind_code)::varchar                            as kind_code,
        level::varchar                                           as level,
        municipality_code::varchar                               as municipality_code,
        school_code::varchar                                     as school_code,
        start_date::date                                         as start_date,
        target_indicator::varchar                                as target_indicator,
        any_value(start_academic_year)::integer                  as start_academic_year,
        arg_max(measure_code, academic_year)::varchar            as measure_code,
        arg_max(end_date, academic_year)::date                   as end_date,
        arg_max(direction, academic_year)::integer               as direction,
        arg_max(basis, academic_year)::varchar                   as basis,
        min(academic_year)::integer                              as first_register_year,
        max(academic_year)::integer                              as last_register_year
    from measures
    group by measure_kind, level, municipality_code, school_code, start_date, target_indicator

)

select * from final
