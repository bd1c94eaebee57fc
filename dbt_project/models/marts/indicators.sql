{{ config(materialized='table', schema='marts') }}

-- The regional scorecard in long format: one row per indicator_code × academic_year ×
-- level × territory. Definitions (name, direction, formula, unit, desired direction,
-- target) come from the seed indicator_catalogue; every code of the catalogue is computed
-- below, and has a region row in every academic year with data: its value, or value NULL
-- with missing_reason (a source not loaded, or nothing to compute from that year).
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
    'indicators__staff',
    'indicators__olympiad_objectivity',
    'indicators__management_cycle',
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

-- An indicator cannot be computed for a year when a source it needs was not delivered (or
-- is held back with no good data yet): its region row has value NULL and says which.
-- `sources` in the catalogue: space-separated requirements, `a|b` = either will do.
requirements as (

    select indicator_code, unnest(string_split(trim(sources), ' ')) as requirement
    from catalogue

),

data_status as (

    select source, academic_year, is_loaded from {{ ref('data_status') }}

),

unmet as (

    select
        r.indicator_code,
        y.academic_year,
        'источник не загружен / source not loaded: ' || string_agg(
            replace(r.requirement, '|', ' или ') || ' ' || y.academic_year, ', '
            order by r.requirement)                                             as missing_reason
    from requirements as r
    cross join (select distinct academic_year from data_status) as y
    where not exists (
        select 1 from data_status as d
        where d.academic_year = y.academic_year and d.is_loaded
          and list_contains(string_split(r.requirement, '|'), d.source)
    )
    group by all

),

with_missing as (

    select c.*, null::varchar as missing_reason
    from computed as c
    where not exists (select 1 from unmet as u
                      where u.indicator_code = c.indicator_code
                        and u.academic_year = c.academic_year)
    union all
    select u.indicator_code, u.academic_year, 'region', null, null,
           null, null, null, null, u.missing_reason
    from unmet as u
    union all
    -- its sources are loaded but the year gives no value (a formula over the years before
    -- and after, no eligible rows): a region row that says so, never a silent gap
    select cat.indicator_code, y.academic_year, 'region', null, null,
           null, null, null, null,
           'не вычисляется за этот год (нет данных, которых требует формула) / not computable '
           || 'for this year (the formula''s data are not there, e.g. the years around it)'
    from catalogue as cat
    cross join (select distinct academic_year from data_status) as y
    where not exists (select 1 from unmet as u
                      where u.indicator_code = cat.indicator_code
                        and u.academic_year = y.academic_year)
      and not exists (select 1 from computed as c
                      where c.indicator_code = cat.indicator_code
                        and c.academic_year = y.academic_year and c.level = 'region')

),

final as (

    select
        c.indicator_code::varchar                                             as indicator_code,
        cat.name_ru::varchar                                                  as indicator_name,
        cat.name_en::varchar                                                  as indicator_name_en,
        cat.direction::integer                                                as direction,
        dir.direction_name_ru::varchar                                        as direction_name,
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
                                                                              as is_suppressed,
        (case
            when c.missing_reason is not null then c.missing_reason
            when c.cell_n is not null and {{ marts_is_suppressed('c.cell_n') }}
                then 'группа меньше порога / group below the cell size: ' || c.cell_n
                     || ' < {{ marts_min_cell_size() }}'
            when c.value is null then 'знаменатель равен нулю / the denominator is zero'
        end)::varchar                                                         as missing_reason
    from with_missing as c
    join catalogue as cat on cat.indicator_code = c.indicator_code
    left join {{ ref('ref_directions') }} as dir on dir.direction = cat.direction

)

select * from final
