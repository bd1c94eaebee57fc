{{ config(materialized='table', schema='intermediate') }}

-- Which year's registry of schools serves each academic year. The registry is per academic
-- year, but every source is optional in every year (extracts.md), the registry included:
-- a year without its own registry is served by the latest earlier registry, else by the
-- earliest later one (school codes are stable across years; a school new in that year stays
-- unknown until its registry arrives). One row per academic year present in any source.

with registries as (

    select distinct academic_year from {{ ref('stg_schools') }}

),

years as (

    select academic_year from {{ ref('dim_academic_year') }}

),

final as (

    select
        years.academic_year::integer                                          as academic_year,
        coalesce(
            (select max(r.academic_year) from registries as r
              where r.academic_year <= years.academic_year),
            (select min(r.academic_year) from registries as r
              where r.academic_year > years.academic_year))::integer          as registry_year
    from years

)

select * from final where registry_year is not null
