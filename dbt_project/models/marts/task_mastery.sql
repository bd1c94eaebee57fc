{{ config(materialized='table', schema='marts') }}

-- Task mastery per academic_year × level × territory × procedure × subject × grade × task,
-- from the task cells of the results of record (core.fct_task_score): ВПР/РПР task columns,
-- ЕГЭ/ОГЭ/ГВЭ short- and extended-answer strings. Not attempted (X) = 0 points; not
-- assessed ('-', empty) is excluded. is_deficit: pct_mastered below the threshold of the task's
-- level (reference.ref_methodology_thresholds: task_deficit_pct_basic for Б, 57 by default;
-- task_deficit_pct_advanced for П and В, 28.5; a ФИОКО rule of thumb); ГИА tasks have no
-- level, so is_deficit is NULL for them.
-- НИКО is a sample (is_sample): region rows, municipality rows whose works of record in the
-- subject and grade reach the threshold of reference.ref_sample_rules, never school rows.

{%- set deficit_basic = methodology_threshold('task_deficit_pct_basic') -%}
{%- set deficit_advanced = methodology_threshold('task_deficit_pct_advanced') -%}

{#- The procedure × subject slices present, read when the model runs (see school_tasks). -#}
{%- set slices = [] -%}
{%- if execute -%}
    {%- set slices = run_query("select distinct procedure, subject_code from "
                               ~ ref('fct_task_score') ~ " order by all").rows -%}
{%- endif %}

with tasks as not materialized (

    select
        t.academic_year, t.procedure, t.subject_code, t.grade, t.task_order, t.task,
        t.task_level, t.max_points, t.points, t.school_code, d.msu_code
    from {{ ref('fct_task_score') }} as t
    join {{ ref('dim_school') }} as d
        on d.academic_year = t.academic_year and d.school_code = t.school_code
    where t.is_result_of_record
      and t.points is not null          -- not assessed ('-', empty cell): excluded

),

-- Aggregated twice: first per school × task, then the three territory levels from those
-- sums; the mean stays exact (decimal sums added up, divided once). The first step runs per
-- procedure × subject slice (UNION ALL): tier F has 850M cells in no useful order and 33M
-- school × task groups, and one GROUP BY over them spilled until the disk was full; a slice
-- has at most ~3M groups and aggregates in memory (each slice scans the cells again, ~2 s).
school_tasks as (
{% for procedure, subject_code in slices %}
    select
        academic_year, procedure, subject_code, grade, task_order, task, msu_code, school_code,
        max(task_level)                   as task_level,
        max(max_points)                   as max_points,
        count(*)                          as participants,
        sum(points::decimal(38, 10))      as sum_points,
        count(points)                     as n_points
    from tasks
    where procedure = '{{ procedure }}'
      and subject_code {{ "= '" ~ subject_code ~ "'" if subject_code is not none else "is null" }}
    group by all
    {% if not loop.last %}union all{% endif %}
{%- else %}
    select
        academic_year, procedure, subject_code, grade, task_order, task, msu_code, school_code,
        max(task_level) as task_level, max(max_points) as max_points, count(*) as participants,
        sum(points::decimal(38, 10)) as sum_points, count(points) as n_points
    from tasks
    group by all
{%- endfor %}
),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        procedure,
        subject_code,
        grade,
        task_order,
        task,
        max(task_level)                   as task_level,
        max(max_points)                   as max_points,
        sum(participants)                 as participants,
        (sum(sum_points)::double / nullif(sum(n_points), 0)) as mean_points
    from school_tasks
    group by {{ marts_level_grouping_sets(['academic_year', 'procedure', 'subject_code', 'grade',
                                           'task_order', 'task']) }}

),

-- works of record of the sample procedures per municipality × subject × grade: the count the
-- publication threshold applies to (a task's own count excludes its '-' cells)
sample_works as (

    select r.academic_year, r.procedure, r.subject_code, r.grade, r.msu_code,
           count(*) as participants
    from {{ ref('fct_assessment_result') }} as r
    join {{ ref('dim_procedure') }} as sp on sp.procedure = r.procedure and sp.is_sample
    where r.is_result_of_record
    group by all

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.procedure::varchar                                                as procedure,
        p.procedure_name_ru::varchar                                          as procedure_name,
        agg.subject_code::varchar                                             as subject_code,
        s.subject_name_ru::varchar                                            as subject_name,
        agg.grade::integer                                                    as grade,
        agg.task::varchar                                                     as task,
        agg.task_order::integer                                               as task_order,
        agg.task_level::varchar                                               as task_level,
        td.content_element::varchar                                           as task_content_element,
        td.skill::varchar                                                     as task_skill,
        (td.content_element || '. ' || td.skill)::varchar                     as task_description,
        agg.max_points::integer                                               as max_points,
        agg.participants::bigint                                              as participants,
        {{ marts_suppress('agg.participants', 'agg.mean_points') }}::double   as mean_points,
        {{ marts_suppress('agg.participants', marts_pct('agg.mean_points', 'agg.max_points')) }}::double
                                                                              as pct_mastered,
        {{ marts_suppress('agg.participants', "case agg.task_level
            when 'Б' then " ~ marts_pct('agg.mean_points', 'agg.max_points') ~ " < " ~ deficit_basic ~ "
            when 'П' then " ~ marts_pct('agg.mean_points', 'agg.max_points') ~ " < " ~ deficit_advanced ~ "
            when 'В' then " ~ marts_pct('agg.mean_points', 'agg.max_points') ~ " < " ~ deficit_advanced ~ " end") }}::boolean
                                                                              as is_deficit,
        {{ marts_is_suppressed('agg.participants') }}::boolean                as is_suppressed,
        coalesce(p.is_sample, false)::boolean                                 as is_sample
    from agg
    left join {{ ref('dim_procedure') }} as p on p.procedure = agg.procedure
    left join {{ ref('dim_subject') }} as s on s.subject_code = agg.subject_code
    left join {{ ref('ref_task_descriptions') }} as td
        on  td.procedure = agg.procedure and td.academic_year = agg.academic_year
        and td.subject_code = agg.subject_code and td.grade = agg.grade and td.task = agg.task
    left join sample_works as w
        on  agg.level = 'municipality'
        and w.academic_year = agg.academic_year and w.procedure = agg.procedure
        and w.subject_code = agg.subject_code and w.grade = agg.grade
        and w.msu_code = agg.municipality_code
    where {{ marts_sample_published('agg', 'p', 'w.participants') }}

)

select * from final
