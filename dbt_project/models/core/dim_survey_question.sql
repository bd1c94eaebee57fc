{{ config(materialized='table', schema='core') }}

-- The survey question catalogue (seed reference.ref_survey_questions): one row per
-- questionnaire × question, its options in scale order and the positive ones, the indicator
-- it serves and whether that indicator feeds the climate index / satisfaction.

with questions as (

    select * from {{ ref('ref_survey_questions') }}

),

indicators as (

    select * from {{ ref('ref_survey_indicators') }}

),

final as (

    select
        questions.questionnaire::varchar                                        as questionnaire,
        questions.question_code::varchar                                        as question_code,
        questions.question_text::varchar                                        as question_text,
        questions.indicator::varchar                                            as indicator,
        indicators.indicator_name_ru::varchar                                   as indicator_name,
        coalesce(indicators.is_climate, false)::boolean                         as is_climate,
        coalesce(indicators.is_satisfaction, false)::boolean                    as is_satisfaction,
        list_transform(string_split(questions.options, '|'),
                       lambda x: trim(x))::varchar[]                            as options,
        list_transform(string_split(questions.positive_options, '|'),
                       lambda x: trim(x))::varchar[]                            as positive_options,
        len(string_split(questions.options, '|'))::integer                      as n_options
    from questions
    left join indicators using (indicator)

)

select * from final
