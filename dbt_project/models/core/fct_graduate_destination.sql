{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Where graduates went: one row per school × cohort × destination (long), the destinations
-- of the cohort listed in reference.ref_graduate_destinations (the other cohort's columns are
-- not rows; an empty cell of the cohort's own destination counts 0). graduates_total repeats the school × cohort's «Всего выпускников» on each of its
-- rows (the denominator; sum it over school × cohort, not over destinations). When a region
-- file and a municipality file both list a school × cohort, the latest loaded file wins.

with graduates as (

    select * from {{ ref('stg_graduates') }}
    where {{ in_build_scope() }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

ranked as (

    select
        graduates.*,
        row_number() over (
            partition by graduates.academic_year, graduates.school_code, graduates.cohort
            order by files.loaded_at desc nulls last, graduates._file_id desc
        ) as file_rank
    from graduates
    left join files on files.file_id = graduates._file_id
    where graduates.school_code is not null and graduates.cohort is not null

),

current_rows as (

    select * exclude (file_rank) from ranked where file_rank = 1

),

long as (

    select * from current_rows
    unpivot include nulls (graduates for destination in (
        to_10_own_school, to_10_other_school, spo_budget, spo_paid, vuz_region_budget,
        vuz_region_paid, vuz_other_budget, vuz_other_paid, spo, army, vocational_training,
        working, neet, other, unknown))

),

destinations as (

    select * from {{ ref('ref_graduate_destinations') }}

),

schools as (

    select academic_year, school_code, msu_code from {{ ref('dim_school') }}

),

final as (

    select
        long.academic_year::integer                                  as academic_year,
        long.school_code::varchar                                    as school_code,
        schools.msu_code::varchar                                    as msu_code,
        long.cohort::integer                                         as cohort,
        destinations.destination::varchar                            as destination,
        destinations.destination_name_ru::varchar                    as destination_name,
        destinations.destination_group::varchar                      as destination_group,
        destinations.destination_order::integer                      as destination_order,
        coalesce(long.graduates, 0)::integer                         as graduates,
        long.graduates_total::integer                                as graduates_total,
        long._file_id::varchar                                       as _file_id,
        long._source_line::integer                                   as _source_line,
        long._slice::varchar                                          as _slice
    from long
    join destinations
        on destinations.destination = long.destination
        and destinations.cohort = long.cohort
    -- at schools of the year's registry (ingest quarantines a file naming another school when
    -- the registry is loaded; without a registry nothing can be attached, as for results)
    join schools
        on schools.academic_year = long.academic_year
        and schools.school_code = long.school_code

)

select * from final
