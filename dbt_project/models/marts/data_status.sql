{{ config(materialized='table', schema='marts') }}

-- What the published marts are built from, per source × academic year: the files in use
-- (released by the night's release step), when they were loaded, and what is held back and
-- why. A held-back source × year keeps its last good data in every mart (the models read only
-- released files): the marts are never a mix of a checked and an unchecked version.
-- Every source of ref_sources appears for every academic year that has data in any source,
-- so an absent source reads `не загружен` instead of being silently missing.

with files as (

    select * from {{ ref('stg_file_registry') }}

),

status as (

    select * from {{ source('raw', '_slice_status') }}

),

sources as (

    select * from {{ ref('ref_sources') }}

),

years as (

    select distinct academic_year from files

),

per_slice as (

    select
        source,
        academic_year,
        count(*) filter (where released and status <> 'quarantined')                as files_in_use,
        coalesce(sum(rows) filter (where released and status <> 'quarantined'), 0)  as rows_in_use,
        max(loaded_at) filter (where released and status <> 'quarantined')          as loaded_at,
        max(released_at) filter (where released and status <> 'quarantined')        as released_at,
        count(*) filter (where status = 'loaded' and not released)                  as files_pending,
        count(*) filter (where status = 'quarantined' and resolved_at is null)      as files_quarantined
    from files
    group by all

),

grid as (

    select sources.source, sources.source_name_ru, years.academic_year
    from sources cross join years

),

final as (

    select
        grid.source::varchar                                                   as source,
        grid.source_name_ru::varchar                                           as source_name,
        grid.academic_year::integer                                            as academic_year,
        {{ academic_year_label('grid.academic_year') }}::varchar               as academic_year_label,
        (case
            when status.state = 'held_back' and coalesce(p.files_in_use, 0) > 0
                then 'задержаны новые данные: используются последние проверенные'
            when status.state = 'held_back' then 'задержаны: проверенных данных ещё нет'
            when coalesce(p.files_in_use, 0) > 0 then 'актуальны'
            else 'не загружен'
        end)::varchar                                                          as state,
        (coalesce(p.files_in_use, 0) > 0)::boolean                             as is_loaded,
        coalesce(status.state = 'held_back', false)::boolean                  as is_held_back,
        status.reason::varchar                                                 as held_back_reason,
        status.held_since::timestamp                                           as held_since,
        coalesce(p.files_in_use, 0)::bigint                                    as files_in_use,
        coalesce(p.rows_in_use, 0)::bigint                                     as rows_in_use,
        p.loaded_at::timestamp                                                 as loaded_at,
        coalesce(p.released_at, p.loaded_at)::timestamp                        as version_in_use,
        coalesce(p.files_pending, 0)::bigint                                   as files_pending,
        coalesce(p.files_quarantined, 0)::bigint                               as files_quarantined
    from grid
    left join per_slice as p
        on p.source = grid.source and p.academic_year = grid.academic_year
    left join status
        on status.source = grid.source and status.academic_year = grid.academic_year

)

select * from final
