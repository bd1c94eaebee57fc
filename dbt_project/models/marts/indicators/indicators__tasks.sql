{{ config(materialized='ephemeral') }}

-- Deficit tasks of basic level in ВПР.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value).

with deficit_tasks as (

    select
        academic_year, level, municipality_code, null::varchar as school_code,
        count(*) filter (where is_deficit)                                                    as deficit,
        count(*) filter (where is_deficit is not null)                                        as tasks
    from {{ ref('task_mastery') }}
    where procedure = 'VPR' and task_level = 'Б' and level in ('region', 'municipality')
    group by all

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'VPR_DEFICIT_TASKS_PCT', academic_year, level, municipality_code, school_code,
           deficit, tasks, {{ marts_pct('deficit', 'tasks') }}, null
    from deficit_tasks

)

select * from final
