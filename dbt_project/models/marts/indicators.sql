{{ config(materialized='table', schema='marts') }}

-- The regional scorecard in long format: one row per indicator_code × academic_year ×
-- level × territory. Definitions (name, direction, formula, unit, desired direction,
-- target) come from the seed indicator_catalogue; every code of the catalogue is computed
-- below (the test marts_indicators_cover_catalogue fails on a code without rows).
-- Result-based indicators exist at region, municipality and school level; school-share
-- indicators (ШНОР, resilient, ВПР flags) and VPR_DEFICIT_TASKS_PCT at region and
-- municipality level. Participant-based values are suppressed below rsoko:min_cell_size
-- (value and numerator NULL, denominator kept); school-based shares are not (schools are
-- not persons).

{#- The parts, one ephemeral model per topic under models/marts/indicators/, each with the
    columns indicator_code, academic_year, level, municipality_code, school_code, numerator,
    denominator, value (unsuppressed) and cell_n (the group size of the small-cell rule; NULL
    when the value is not participant-based). A new indicator: a catalogue row and its part. -#}
{%- set parts = [
    'indicators__results',
    'indicators__literacy',
    'indicators__olympiad',
    'indicators__school_shares',
    'indicators__tasks',
    'indicators__niko',
    'indicators__graduates',
    'indicators__career',
    'indicators__additional_ed',
    'indicators__survey',
] %}

with computed as (
{% for part in parts %}
    select indicator_code, academic_year, level, municipality_code, school_code,
           numerator, denominator, value, cell_n
    from {{ ref(part) }}
{%- if not loop.last %}
    union all
{%- endif %}
{% endfor %}
),

catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

final as (

    select
        c.indicator_code::varchar                                             as indicator_code,
        cat.name_ru::varchar                                                  as indicator_name,
        cat.name_en::varchar                                                  as indicator_name_en,
        cat.direction::integer                                                as direction,
        c.academic_year::integer                                              as academic_year,
        {{ academic_year_label('c.academic_year') }}::varchar                 as academic_year_label,
        c.level::varchar                                                      as level,
        c.municipality_code::varchar                                          as municipality_code,
        c.school_code::varchar                                                as school_code,
        {{ marts_territory_names('c') }},
        (case when c.cell_n is null then c.value
              else {{ marts_suppress('c.cell_n', 'c.value') }} end)::double   as value,
        (case when c.cell_n is null or cat.unit = 'count' then c.numerator
              else {{ marts_suppress('c.cell_n', 'c.numerator') }} end)::double as numerator,
        c.denominator::double                                                 as denominator,
        cat.unit::varchar                                                     as unit,
        cat.desired_direction::varchar                                        as desired_direction,
        cat.target::double                                                    as target,
        (case
            when cat.target is null or c.value is null
                 or (c.cell_n is not null and {{ marts_is_suppressed('c.cell_n') }}) then null
            when cat.desired_direction = 'down' then c.value <= cat.target
            when cat.desired_direction = 'up' then c.value >= cat.target
        end)::boolean                                                         as meets_target,
        c.cell_n::bigint                                                      as participants,
        coalesce(c.cell_n is not null and {{ marts_is_suppressed('c.cell_n') }}, false)::boolean
                                                                              as is_suppressed
    from computed as c
    join catalogue as cat on cat.indicator_code = c.indicator_code

)

select * from final
