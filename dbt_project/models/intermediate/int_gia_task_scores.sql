{{ config(materialized='view', schema='intermediate') }}

-- ГИА task scores parsed from the two answer strings of each attachable result line
-- (pure DuckDB: regexp_extract_all + unnest + generate_subscripts):
--   short answers  «+-2+…»: one character per task, `+` = the task's full marks from
--                  reference.ref_gia_task_spec, `-` = 0, a digit = points;
--   extended       «1(2)0(3)2(2)»: points(max) per task, numbered after the short tasks.
-- Tasks are numbered 1…n in sheet order (short first), as task_no in ref_gia_task_spec; only
-- tasks of the spec get a row.
-- Removed/annulled results give no task rows: their answer strings may still hold what was
-- scanned before the removal, and they count for nothing (extracts.md, `Статус`).
-- The result's attributes (procedure, subject, grade, school, result of record) come along,
-- so that core.fct_task_score needs no join back to the fact.

with results as (

    select * from {{ ref('int_gia_results') }}
    where reject_reason is null
      and result_status = 'ok'          -- removed/annulled: the strings count for nothing

),

spec as (

    select * from {{ ref('ref_gia_task_spec') }}

),

short_cells as (

    select
        result_id, _slice,
        academic_year, source_procedure, source_subject_code,
        procedure, subject_code, grade, school_code, is_result_of_record,
        'short'                                         as answer_part,
        unnest(cells)                                   as raw_value,
        generate_subscripts(cells, 1)                   as task_no,
        null::integer                                   as declared_max_points
    from (
        select
            result_id, _slice,
            academic_year, source_procedure, source_subject_code,
            procedure, subject_code, grade, school_code, is_result_of_record,
            regexp_extract_all(short_answers, '.')      as cells
        from results
        where short_answers is not null
    )

),

extended_cells as (

    select
        result_id, _slice,
        academic_year, source_procedure, source_subject_code,
        procedure, subject_code, grade, school_code, is_result_of_record,
        'extended'                                      as answer_part,
        unnest(points)                                  as raw_value,
        n_short + generate_subscripts(points, 1)        as task_no,
        unnest(maxes)::integer                          as declared_max_points
    from (
        select
            result_id, _slice,
            academic_year, source_procedure, source_subject_code,
            procedure, subject_code, grade, school_code, is_result_of_record,
            coalesce(length(short_answers), 0)          as n_short,
            regexp_extract_all(extended_answers, '(\d+)\((\d+)\)', 1) as points,
            regexp_extract_all(extended_answers, '(\d+)\((\d+)\)', 2) as maxes
        from results
        where extended_answers is not null
    )

),

cells as (

    select * from short_cells
    union all
    select * from extended_cells

),

scored as (

    select
        cells.result_id,
        cells._slice,
        cells.academic_year,
        cells.source_procedure,
        cells.source_subject_code,
        cells.procedure,
        cells.subject_code,
        cells.grade,
        cells.school_code,
        cells.is_result_of_record,
        cells.task_no,
        cells.answer_part,
        cells.raw_value,
        spec.max_points,
        cells.declared_max_points,
        case
            when cells.answer_part = 'extended' then cells.raw_value::integer
            when cells.raw_value = '+' then spec.max_points
            when cells.raw_value = '-' then 0
            when regexp_full_match(cells.raw_value, '\d') then cells.raw_value::integer
        end                                             as points
    from cells
    -- only the tasks the year's specification knows: a year × subject without a spec gives no
    -- task cells (the ingest warns: GX ege/oge.task_spec_in_seed), and a string longer than
    -- the spec is a finding (assert_gia_task_points_sum_to_primary_score)
    join spec
        on  spec.procedure = cells.source_procedure
        and spec.academic_year = cells.academic_year
        and spec.source_subject_code = cells.source_subject_code
        and spec.task_no = cells.task_no

)

select * from scored
