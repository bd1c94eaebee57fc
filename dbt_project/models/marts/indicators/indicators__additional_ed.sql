{{ config(materialized='ephemeral') }}

-- Direction 9: coverage of children aged 5–18 by additional education, each child once, by
-- residence (marts.additional_ed_coverage, age band 5-18, «все»); region and municipality.
-- One part of marts.indicators (see indicators.sql).

with coverage as (

    select academic_year, level, municipality_code, school_code, children_enrolled, population
    from {{ ref('additional_ed_coverage') }}
    where age_band = '5-18' and focus_code = 'all' and population > 0

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'ADDED_COVERAGE_5_18_PCT', academic_year, level, municipality_code, school_code,
           children_enrolled, population, {{ marts_pct('children_enrolled', 'population') }},
           children_enrolled
    from coverage

)

select * from final
