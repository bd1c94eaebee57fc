{{ config(materialized='ephemeral') }}

-- Shares of schools: low results, resilient, ВПР objectivity flags.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value).

with school_shares as (

    select
        lr.academic_year,
        (case when grouping(lr.municipality_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        lr.municipality_code::varchar                                                         as municipality_code,
        null::varchar                                                                         as school_code,
        count(*)                                                                              as schools,
        count(*) filter (where lr.is_low_results)                                             as low_results,
        count(*) filter (where lr.was_low_results_last_year)                                  as was_low,
        count(*) filter (where lr.was_low_results_last_year and not lr.is_low_results)        as exited_low,
        count(*) filter (where lr.results_group is not null)                                  as grouped,
        count(*) filter (where lr.results_group = 'резильентная')                             as resilient,
        -- LOW_RESULTS_EXIT_PCT needs the previous year in the mart
        bool_or(lr.academic_year - 1 in (select academic_year from {{ ref('low_results_schools') }}))
                                                                                              as has_previous_year
    from {{ ref('low_results_schools') }} as lr
    group by grouping sets ((lr.academic_year), (lr.academic_year, lr.municipality_code))

),

vpr_school_shares as (

    select
        v.academic_year,
        (case when grouping(v.municipality_code) = 0 then 'municipality' else 'region' end)::varchar as level,
        v.municipality_code::varchar                                                          as municipality_code,
        null::varchar                                                                         as school_code,
        count(*)                                                                              as vpr_schools,
        count(*) filter (where v.is_flagged)                                                  as flagged,
        count(*) filter (where v.consecutive_flagged_years >= 2)                              as flagged_repeat
    from {{ ref('vpr_objectivity_schools') }} as v
    group by grouping sets ((v.academic_year), (v.academic_year, v.municipality_code))

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'LOW_RESULTS_SCHOOLS_PCT', academic_year, level, municipality_code, school_code,
           low_results, schools, {{ marts_pct('low_results', 'schools') }}, null
    from school_shares where schools > 0
    union all
    select 'LOW_RESULTS_EXIT_PCT', academic_year, level, municipality_code, school_code,
           exited_low, was_low, {{ marts_pct('exited_low', 'was_low') }}, null
    from school_shares where has_previous_year
    union all
    select 'RESILIENT_SCHOOLS_PCT', academic_year, level, municipality_code, school_code,
           resilient, grouped, {{ marts_pct('resilient', 'grouped') }}, null
    from school_shares where schools > 0
    union all
    select 'VPR_FLAGGED_SCHOOLS_PCT', academic_year, level, municipality_code, school_code,
           flagged, vpr_schools, {{ marts_pct('flagged', 'vpr_schools') }}, null
    from vpr_school_shares where vpr_schools > 0
    union all
    select 'VPR_FLAGGED_REPEAT_PCT', academic_year, level, municipality_code, school_code,
           flagged_repeat, vpr_schools, {{ marts_pct('flagged_repeat', 'vpr_schools') }}, null
    from vpr_school_shares where vpr_schools > 0

)

select * from final
