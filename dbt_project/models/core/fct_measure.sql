{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- One row per register year × measure: a measure of a known kind applied to a school of
-- that year's registry (level school) or to a municipality of it (level municipality).
-- The GX suite quarantines a register with unknown kinds, indicators or targets, so the
-- joins below only drop what a future relaxation of the suite would let through.

with measures as (

    select * from {{ ref('stg_measures') }}
    where {{ in_build_scope() }}
      and measure_kind is not null
      and start_date is not null

),

schools as (

    select academic_year, school_code, msu_code from {{ ref('dim_school') }}

),

municipalities as (

    select distinct academic_year, msu_code from {{ ref('dim_school') }}

),

targeted as (

    select measures.*, schools.msu_code as target_msu_code
    from measures
    join schools
        on  schools.academic_year = measures.academic_year
        and schools.school_code = measures.school_code
    where measures.level = 'school'

    union all

    select measures.*, municipalities.msu_code as target_msu_code
    from measures
    join municipalities
        on  municipalities.academic_year = measures.academic_year
        and municipalities.msu_code = measures.msu_code
    where measures.level = 'municipality'

),

final as (

    select
        {{ result_id("'measures'") }}::varchar                   as measure_id,
        academic_year::integer                                   as academic_year,
        measure_code::varchar                                    as measure_code,
        measure_kind::varchar                                    as measure_kind,
        kind_code::varchar                                       as kind_code,
        direction::integer                                       as direction,
        level::varchar                                           as level,
        target_msu_code::varchar                                 as municipality_code,
        (case when level = 'school' then school_code end)::varchar as school_code,
        start_date::date                                         as start_date,
        end_date::date                                           as end_date,
        start_academic_year::integer                             as start_academic_year,
        target_indicator::varchar                                as target_indicator,
        basis::varchar                                           as basis,
        _file_id::varchar                                        as _file_id,
        _source_line::integer                                    as _source_line,
        _slice::varchar                                          as _slice
    from targeted

)

select * from final
