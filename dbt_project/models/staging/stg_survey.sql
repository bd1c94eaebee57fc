{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Survey answers, one row per landing line (respondent × question). The answer is matched to
-- its question's options with case, ё/е and spaces ignored (answer_key); an empty answer is a
-- skipped question. The grade is the leading number of the class (students and parents).

with source as (

    select * from {{ released_rows('survey') }}
    where {{ in_build_scope() }}

),

renamed as (

    select
        academic_year,
        {{ clean_code('school_code') }}                                  as school_code,
        lower({{ clean_text('questionnaire') }})                         as questionnaire,
        respondent_key,
        upper({{ clean_text('class_name') }})                            as class_name,
        try_cast(regexp_extract({{ clean_text('class_name') }}, '^\d{1,2}') as integer)
                                                                         as grade,
        {{ clean_code('question_code') }}                                as question_code,
        {{ clean_text('answer') }}                                       as answer,
        {{ survey_answer_key(clean_text('answer')) }}                    as answer_key,
        _file_id,
        _source_line,
        _slice

    from source

)

select * from renamed
