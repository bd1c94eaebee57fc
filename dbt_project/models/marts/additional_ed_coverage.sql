{{ config(materialized='table', schema='marts') }}

-- Coverage of children by additional education (direction 9; the federal method, приказ
-- Минпросвещения № 170 of 15.04.2019) per academic_year × level (region, municipality) ×
-- territory × age_band × focus. children_enrolled: unique children (core via
-- intermediate.int_enrolled_children: real enrolments active in the year, applications
-- excluded) by residence, of the band's ages (age = academic_year − 1 − year of birth); a
-- child counts once in «все» and once in each направленность they are enrolled in.
-- population: the children of the band's ages living in the territory (core.fct_population,
-- Росстат); coverage_pct = children_enrolled / population × 100 (NULL without population).
-- Bands: reference.ref_age_bands; направленности: reference.ref_additional_ed_focus.
-- Rates are suppressed below rsoko:min_cell_size enrolled children (counts stay).

with children as (

    select * from {{ ref('int_enrolled_children') }}

),

bands as (

    select age_band, min_age, max_age, band_order from {{ ref('ref_age_bands') }}

),

focuses as (

    select 'все' as focus, 'all' as focus_code, 0 as focus_order
    union all
    select focus, focus_code, focus_order from {{ ref('ref_additional_ed_focus') }}

),

-- one row per child × band × focus it counts in (int_enrolled_child_focus: counting rows
-- counts unique children, at municipality and region level alike)
child_focus as (

    select cf.academic_year, cf.msu_code, cf.is_ovz, b.age_band, cf.focus_code,
           cf.is_certificate_funded
    from {{ ref('int_enrolled_child_focus') }} as cf
    join bands as b on cf.age between b.min_age and b.max_age

),

enrolled as (

    select
        academic_year, age_band, focus_code,
        (case when grouping(msu_code) = 0 then 'municipality' else 'region' end) as level,
        msu_code                                                              as municipality_code,
        count(*)                                                              as children_enrolled,
        count(*) filter (where is_ovz)                                        as children_ovz,
        count(*) filter (where is_certificate_funded)                         as children_certificate
    from child_focus
    group by grouping sets ((academic_year, age_band, focus_code),
                            (academic_year, age_band, focus_code, msu_code))

),

population as (

    select
        p.academic_year, b.age_band,
        (case when grouping(p.msu_code) = 0 then 'municipality' else 'region' end) as level,
        p.msu_code                                                            as municipality_code,
        sum(p.population)                                                     as population
    from {{ ref('fct_population') }} as p
    join bands as b on p.age between b.min_age and b.max_age
    group by grouping sets ((p.academic_year, b.age_band), (p.academic_year, b.age_band, p.msu_code))

),

-- every territory × band × focus with a population or enrolled children (a municipality
-- without enrolled children shows coverage 0, not no row)
frame as (

    select academic_year, age_band, level, municipality_code, f.focus_code
    from population, focuses as f
    where academic_year in (select academic_year from children)
    union
    select academic_year, age_band, level, municipality_code, focus_code from enrolled

),

agg as (

    select
        frame.academic_year, frame.level, frame.municipality_code,
        null::varchar                                                         as school_code,
        frame.age_band, frame.focus_code,
        coalesce(enrolled.children_enrolled, 0)                               as children_enrolled,
        coalesce(enrolled.children_ovz, 0)                                    as children_ovz,
        coalesce(enrolled.children_certificate, 0)                            as children_certificate,
        population.population
    from frame
    left join enrolled
        on enrolled.academic_year = frame.academic_year and enrolled.level = frame.level
        and enrolled.municipality_code is not distinct from frame.municipality_code
        and enrolled.age_band = frame.age_band and enrolled.focus_code = frame.focus_code
    left join population
        on population.academic_year = frame.academic_year and population.level = frame.level
        and population.municipality_code is not distinct from frame.municipality_code
        and population.age_band = frame.age_band

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.age_band::varchar                                                 as age_band,
        focuses.focus::varchar                                                as focus,
        agg.focus_code::varchar                                               as focus_code,
        agg.children_enrolled::bigint                                         as children_enrolled,
        agg.population::bigint                                                as population,
        {{ additional_ed_rates('agg', 'agg.population') }}
    from agg
    join focuses on focuses.focus_code = agg.focus_code

)

select * from final
