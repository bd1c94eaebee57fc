{{ config(materialized='table', schema='core') }}

-- Municipalities (МСУ) of the registry; the name is the one of the latest registry year.

with schools as (

    select * from {{ ref('stg_schools') }}
    where msu_code is not null

),

final as (

    select
        msu_code::varchar                                  as msu_code,
        arg_max(msu_name, academic_year)::varchar          as msu_name,
        min(academic_year)::integer                        as first_academic_year,
        max(academic_year)::integer                        as last_academic_year
    from schools
    group by msu_code

)

select * from final
