{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Survey answers, one row per respondent × question (school × questionnaire × respondent ×
-- question) of the loaded exports; when two files cover the same school and questionnaire,
-- the latest loaded file wins for that pair. respondent_key is the platform's respondent code
-- hashed again with our key at landing (no mart exposes it). An empty answer is a skipped
-- question (is_skipped; no option). option_order and is_positive come from the question
-- catalogue (core.dim_survey_question), matching case-, ё- and space-insensitively.

with answers as (

    select * from {{ ref('stg_survey') }}
    where {{ in_build_scope() }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

latest_file as (

    select academic_year, school_code, questionnaire,
           arg_max(_file_id, struct_pack(loaded_at := files.loaded_at, file_id := _file_id))
               as file_id
    from answers
    left join files on files.file_id = answers._file_id
    group by all

),

options as (

    select q.questionnaire, q.question_code, q.options[s.i] as option_text, s.i as option_order,
           {{ survey_answer_key('q.options[s.i]') }} as answer_key,
           list_contains(list_transform(q.positive_options,
                                        lambda x: {{ survey_answer_key('x') }}),
                         {{ survey_answer_key('q.options[s.i]') }})     as is_positive
    from {{ ref('dim_survey_question') }} as q,
         unnest(generate_series(1, q.n_options)) as s(i)

),

schools as (

    select academic_year, school_code, msu_code from {{ ref('dim_school') }}

),

final as (

    select
        {{ result_id("'survey'", 'a._file_id', 'a._source_line') }}::varchar as answer_id,
        a.academic_year::integer                                         as academic_year,
        a.school_code::varchar                                           as school_code,
        schools.msu_code::varchar                                        as msu_code,
        a.questionnaire::varchar                                         as questionnaire,
        a.respondent_key::varchar                                        as respondent_key,
        a.class_name::varchar                                            as class_name,
        a.grade::integer                                                 as grade,
        a.question_code::varchar                                         as question_code,
        options.option_text::varchar                                     as answer,
        options.option_order::integer                                    as option_order,
        (a.answer is null)::boolean                                      as is_skipped,
        (case when a.answer is not null then coalesce(options.is_positive, false) end)::boolean
                                                                         as is_positive,
        a._file_id::varchar                                              as _file_id,
        a._source_line::integer                                          as _source_line,
        a._slice::varchar                                                 as _slice
    from answers as a
    join latest_file
        on latest_file.academic_year = a.academic_year
        and latest_file.school_code is not distinct from a.school_code
        and latest_file.questionnaire is not distinct from a.questionnaire
        and latest_file.file_id = a._file_id
    left join options
        on options.questionnaire = a.questionnaire
        and options.question_code = a.question_code
        and options.answer_key = a.answer_key
    -- at schools of the year's registry (ingest quarantines a file naming another school when
    -- the registry is loaded; without a registry nothing can be attached, as for results)
    join schools
        on schools.academic_year = a.academic_year and schools.school_code = a.school_code

)

select * from final
