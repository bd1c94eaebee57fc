{{ config(materialized='ephemeral') }}

-- Direction 9: surveys.
-- SURVEY_SATISFIED_PCT: positive answers / answers to the satisfaction questions
-- (reference.ref_survey_indicators.is_satisfaction) of parents and students, from the
-- respondent rows (cell_n: those respondents);
-- SCHOOL_CLIMATE_INDEX: climate_index of marts.school_climate for the three questionnaires
-- together («все»; cell_n: its respondents).
-- One part of marts.indicators (see indicators.sql).

-- one row per respondent of a satisfaction question, with their answers counted: a respondent
-- (questionnaire × school × respondent_key) is in one school and so one municipality a year,
-- so counting these rows counts distinct respondents at every level without holding every
-- respondent's key per group (count(distinct) over 116M answers at tier F)
with respondents as (

    select
        a.academic_year, a.msu_code, a.school_code, a.questionnaire, a.respondent_key,
        count(*)                                                              as answers,
        count(*) filter (where a.is_positive)                                 as positive
    from {{ ref('fct_survey_answer') }} as a
    join {{ ref('dim_survey_question') }} as q
        on q.questionnaire = a.questionnaire and q.question_code = a.question_code
    where q.is_satisfaction and not a.is_skipped
      and a.questionnaire in ('обучающиеся', 'родители')
    group by all

),

satisfaction as (

    select
        academic_year,
        {{ marts_level_columns() }},
        sum(answers)::bigint                                                  as answers,
        sum(positive)::bigint                                                 as positive,
        count(*)                                                              as respondents
    from respondents
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

climate as (

    select academic_year, level, municipality_code, school_code, climate_index, respondents,
           climate_questions
    from {{ ref('school_climate') }}
    where questionnaire = 'все'

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'SURVEY_SATISFIED_PCT', academic_year, level, municipality_code, school_code,
           positive, answers, {{ marts_pct('positive', 'answers') }}, respondents
    from satisfaction where answers > 0
    union all
    -- the mart's index is already suppressed below the cell size; numerator/denominator: none
    select 'SCHOOL_CLIMATE_INDEX', academic_year, level, municipality_code, school_code,
           null, climate_questions, climate_index, respondents
    from climate where climate_questions > 0

)

select * from final
