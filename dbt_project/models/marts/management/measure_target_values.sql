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

{#- Only the years some measure compares (t − 1 and t + 1 of every start year t) that are
    loaded: a deployment without a register, or with one year only (tiers M, F), computes
    nothing here (the scorecard parts are not aggregated a second time). -#}
{%- set applications = ref('int_measure_applications') %}
{%- set loaded_years = ref('dim_academic_year') %}
{%- set years = [] %}
{%- if execute %}
    {%- set years = run_query(
        "select distinct y from (select start_academic_year - 1 as y from " ~ applications
        ~ " union select start_academic_year + 1 from " ~ applications ~ ") "
        ~ "where y in (select academic_year from " ~ loaded_years ~ ") order by y"
    ).columns[0].values() | list %}
{%- endif %}
{%- set year_filter = ('academic_year in (' ~ (years | join(', ')) ~ ')') if years else 'false' %}

with scorecard as (

    select * from (
    {%- for part in parts %}
        select indicator_code, academic_year, level, municipality_code, school_code,
               (case when cell_n is null then value
                     else {{ marts_suppress('cell_n', 'value') }} end)::double as value
        from {{ ref(part) }}
        where level in ('school', 'municipality') and {{ year_filter }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    )
    where value is not null

),

school_shares as (

    select 'LOW_RESULTS_SCHOOLS_PCT' as indicator_code, academic_year, municipality_code,
           school_code, case when is_low_results then 100.0 else 0.0 end as value
    from {{ ref('low_results_schools') }}
    where {{ year_filter }}
    union all
    select 'RESILIENT_SCHOOLS_PCT', academic_year, municipality_code, school_code,
           case when results_group = 'резильентная' then 100.0 else 0.0 end
    from {{ ref('low_results_schools') }}
    where results_group is not null and {{ year_filter }}
    union all
    select 'VPR_FLAGGED_SCHOOLS_PCT', academic_year, municipality_code, school_code,
           case when is_flagged then 100.0 else 0.0 end
    from {{ ref('vpr_objectivity_schools') }}
    where {{ year_filter }}
    union all
    select 'VPR_FLAGGED_REPEAT_PCT', academic_year, municipality_code, school_code,
           case when consecutive_flagged_years >= 2 then 100.0 else 0.0 end
    from {{ ref('vpr_objectivity_schools') }}
    where {{ year_filter }}

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
