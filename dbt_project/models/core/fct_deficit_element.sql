{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- One row per diagnostic result × element: the person's points on one element, its mastery
-- and whether it is a deficit by the rule of the seed ref_deficit_rule (mastery below
-- threshold_pct; below threshold_small_pct when the element's max is ≤ small_max_points).
-- An empty cell is «not answered» and counts 0 points (and so does 'X'); '-' (not assessed)
-- leaves the element out. Persons at schools of that year's registry; when two files of a
-- year hold the same person's diagnostic, the latest loaded file wins.

with results as (

    select * from {{ ref('stg_deficits') }}
    where {{ academic_year_filter() }}
      and staff_key is not null

),

elements as (

    select * from {{ ref('stg_deficits_elements') }}
    where {{ academic_year_filter() }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

diagnostics as (

    select diagnostic, subject_code, is_managerial from {{ ref('ref_deficit_diagnostics') }}

),

named as (

    select
        results.*,
        coalesce(diagnostics.diagnostic, results.diagnostic)        as diagnostic_name,
        diagnostics.subject_code                                    as diagnostic_subject_code,
        coalesce(diagnostics.is_managerial, false)                  as is_managerial,
        row_number() over (
            partition by results.academic_year, lower(results.diagnostic), results.staff_key
            order by files.loaded_at desc nulls last, results._file_id desc,
                     results._source_line desc)                     as file_rank
    from results
    left join diagnostics on lower(diagnostics.diagnostic) = lower(results.diagnostic)
    left join files on files.file_id = results._file_id

),

schools as (

    select academic_year, school_code, msu_code from {{ ref('dim_school') }}

),

rule as (

    select * from {{ ref('ref_deficit_rule') }}

),

cells as (

    select
        named.*,
        elements.element_order,
        elements.element,
        elements.max_points,
        elements.block,
        trim(named.element_scores[elements.element_order])         as cell
    from named
    join elements on elements._file_id = named._file_id
    where named.file_rank = 1

),

scored as (

    select
        cells.*,
        schools.msu_code,
        case
            when cells.cell in ('-', '–', '—') then null
            when coalesce(cells.cell, '') = '' or upper(cells.cell) in ('X', 'Х') then 0
            else try_cast(replace(cells.cell, ',', '.') as double)
        end                                                         as points,
        coalesce(cells.cell, '') = ''                               as is_empty,
        coalesce(cells.cell in ('-', '–', '—'), false)              as is_not_assessed,
        case when cells.max_points <= rule.small_max_points then rule.threshold_small_pct
             else rule.threshold_pct end                            as threshold_pct,
        rule.no_deficit_mastery_pct
    from cells
    join schools
        on  schools.academic_year = cells.academic_year
        and schools.school_code = cells.school_code
    cross join rule

),

final as (

    select
        md5('deficits:' || _file_id || ':' || _source_line::varchar || ':'
            || element_order::varchar)::varchar                           as deficit_element_id,
        academic_year::integer                                            as academic_year,
        staff_key::varchar                                                as staff_key,
        school_code::varchar                                              as school_code,
        msu_code::varchar                                                 as msu_code,
        position::varchar                                                 as position,
        diagnostic_name::varchar                                          as diagnostic,
        diagnostic_subject_code::varchar                                  as diagnostic_subject_code,
        is_managerial::boolean                                            as is_managerial,
        diagnostic_date::date                                             as diagnostic_date,
        element_order::integer                                            as element_order,
        element::varchar                                                  as element,
        block::varchar                                                    as block,
        max_points::integer                                               as max_points,
        points::double                                                    as points,
        is_empty::boolean                                                 as is_not_answered,
        (100.0 * points / max_points)::double                             as mastery_pct,
        (100.0 * points / max_points < threshold_pct)::boolean            as is_deficit,
        (100.0 * points / max_points >= no_deficit_mastery_pct)::boolean  as is_mastered_high,
        _file_id::varchar                                                 as _file_id,
        _source_line::integer                                             as _source_line
    from scored
    where not is_not_assessed

)

select * from final
