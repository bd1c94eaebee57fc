{{ config(materialized='table', schema='core') }}

-- Every academic year present in any loaded source (staging keeps all years).

with years as (

    select academic_year from {{ ref('stg_schools') }}
    union select academic_year from {{ ref('stg_ege') }}
    union select academic_year from {{ ref('stg_oge') }}
    union select academic_year from {{ ref('stg_vpr') }}
    union select academic_year from {{ ref('stg_rpr') }}
    union select academic_year from {{ ref('stg_olympiad') }}
    union select academic_year from {{ ref('stg_literacy') }}
    union select academic_year from {{ ref('stg_measures') }}     -- issue 19

),

final as (

    select
        academic_year::integer                                   as academic_year,
        {{ academic_year_label('academic_year') }}::varchar      as academic_year_label,
        make_date(academic_year - 1, 9, 1)::date                 as start_date,
        make_date(academic_year, 8, 31)::date                    as end_date,
        (academic_year = max(academic_year) over ())::boolean    as is_latest
    from years
    where academic_year is not null

)

select * from final
