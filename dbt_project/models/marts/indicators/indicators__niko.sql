{{ config(materialized='ephemeral') }}

-- НИКО (a federal sample study): mean task mastery of the year's НИКО, region level only
-- (a sample is not published per school, and one mean over the subjects of a municipality's
-- few sampled schools says nothing about the municipality).
-- value = Σ points / Σ max points × 100 over the assessed task cells ('-' excluded, X = 0) of
-- the НИКО works of record, all subjects and grades of the year: the participant-weighted
-- mean mastery. cell_n = the works of record.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value).

with niko_cells as (

    select
        academic_year,
        sum(points)                                                     as points,
        sum(max_points)                                                 as max_points,
        count(distinct result_id)                                       as works
    from {{ ref('fct_task_score') }}
    where procedure = 'NIKO' and is_result_of_record and points is not null
    group by academic_year

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'NIKO_MASTERY_PCT', academic_year, 'region', null::varchar, null::varchar,
           points, max_points, {{ marts_pct('points', 'max_points') }}, works
    from niko_cells where max_points > 0

)

select * from final
