{{ config(materialized='table', schema='marts') }}

-- Survey results (directions 6 and 9) per academic_year × level × territory × questionnaire ×
-- question, from the respondent × question rows of core.fct_survey_answer: respondents who
-- answered (a skipped question is not an answer), the share of positive answers (the
-- question's positive options, reference.ref_survey_questions). The share of every option is
-- in survey_answers. Rates are suppressed below rsoko:min_cell_size respondents.

with answers as (

    select * from {{ ref('fct_survey_answer') }}

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        questionnaire,
        question_code,
        count(*) filter (where not is_skipped)                                as respondents,
        count(*) filter (where is_skipped)                                    as skipped,
        count(*) filter (where is_positive)                                   as n_positive
    from answers
    group by {{ marts_level_grouping_sets(['academic_year', 'questionnaire', 'question_code']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.questionnaire::varchar                                            as questionnaire,
        agg.question_code::varchar                                            as question_code,
        q.question_text::varchar                                              as question_text,
        q.indicator::varchar                                                  as indicator,
        agg.respondents::bigint                                               as respondents,
        agg.skipped::bigint                                                   as skipped,
        {{ marts_suppress('agg.respondents', 'agg.n_positive') }}::bigint     as n_positive,
        {{ marts_suppress('agg.respondents', marts_pct('agg.n_positive', 'agg.respondents')) }}::double
                                                                              as pct_positive,
        {{ marts_is_suppressed('agg.respondents') }}::boolean                 as is_suppressed
    from agg
    left join {{ ref('dim_survey_question') }} as q
        on q.questionnaire = agg.questionnaire and q.question_code = agg.question_code

)

select * from final
