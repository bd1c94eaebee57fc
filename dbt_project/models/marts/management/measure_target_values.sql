{{ config(materialized='ephemeral') }}

-- The value of a scorecard indicator for one target (a school or a municipality) and year:
-- what measure_effects compares before and after a measure. The values are those of
-- marts.indicators at school and municipality level, read from its parts (the mart itself
-- reads measure_effects for MEASURE_EFFECT_POSITIVE_PCT, so reading it here would be a
-- cycle), with the same small-cell rule: a value below rsoko:min_cell_size participants is
-- NULL, so such a target has no value. An indicator of a new part becomes a possible target
-- indicator once its part is listed here. The school-share indicators
-- (LOW_RESULTS_SCHOOLS_PCT, …) exist only at municipality and region level in the scorecard;
-- for one school their value is the school's own share: 100 when the school is counted
-- (low results, flagged …), else 0.
-- target_key = school_code for a school, municipality_code for a municipality.

{%- set parts = [
    'indicators__results',
    'indicators__literacy',
    'indicators__olympiad',
    'indicators__school_shares',
    'indicators__tasks',
] %}

with scorecard as (

    select * from (
    {%- for part in parts %}
        select indicator_code, academic_year, level, municipality_code, school_code,
               (case when cell_n is null then value
                     else {{ marts_suppress('cell_n', 'value') }} end)::double as value
        from {{ ref(part) }}
        where level in ('school', 'municipality')
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    )
    where value is not null

),

school_shares as (

    select 'LOW_RESULTS_SCHOOLS_PCT' as indicator_code, academic_year, municipality_code,
           school_code, case when is_low_results then 100.0 else 0.0 end as value
    from {{ ref('low_results_schools') }}
    union all
    select 'RESILIENT_SCHOOLS_PCT', academic_year, municipality_code, school_code,
           case when results_group = 'резильентная' then 100.0 else 0.0 end
    from {{ ref('low_results_schools') }}
    where results_group is not null
    union all
    select 'VPR_FLAGGED_SCHOOLS_PCT', academic_year, municipality_code, school_code,
           case when is_flagged then 100.0 else 0.0 end
    from {{ ref('vpr_objectivity_schools') }}
    union all
    select 'VPR_FLAGGED_REPEAT_PCT', academic_year, municipality_code, school_code,
           case when consecutive_flagged_years >= 2 then 100.0 else 0.0 end
    from {{ ref('vpr_objectivity_schools') }}

),

final as (

    select indicator_code, academic_year, level, municipality_code, school_code,
           coalesce(school_code, municipality_code) as target_key, value::double as value
    from scorecard
    union all
    select indicator_code, academic_year, 'school', municipality_code, school_code,
           school_code, value
    from school_shares

)

select * from final
