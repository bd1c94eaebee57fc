{{ config(materialized='ephemeral') }}

-- Objectivity of the ВсОШ school stage: the share of schools running a school stage whose
-- stage is flagged (olympiad_objectivity_schools.is_flagged). School shares: not suppressed.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n (NULL: not a participant-based value).

with shares as (

    select
        o.academic_year,
        (case when grouping(o.municipality_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        o.municipality_code::varchar                                                          as municipality_code,
        null::varchar                                                                         as school_code,
        count(*)                                                                              as schools,
        count(*) filter (where o.is_flagged)                                                  as flagged
    from {{ ref('olympiad_objectivity_schools') }} as o
    group by grouping sets ((o.academic_year), (o.academic_year, o.municipality_code))

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'OLY_FLAGGED_SCHOOLS_PCT', academic_year, level, municipality_code, school_code,
           flagged, schools, {{ marts_pct('flagged', 'schools') }}, null
    from shares where schools > 0

)

select * from final
