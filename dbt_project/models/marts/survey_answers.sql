{{ config(materialized='table', schema='marts') }}

-- The share of every answer option (survey_results in long form) per academic_year × level ×
-- territory × questionnaire × question × answer: every option of the question catalogue has
-- a row (0 answers included); pct = answers with that option / respondents who answered × 100.
-- Rates and option counts are suppressed below rsoko:min_cell_size respondents.

with answers as (

    select * from {{ ref('fct_survey_answer') }}
    where not is_skipped

),

per_option as (

    select
        academic_year,
        {{ marts_level_columns() }},
        questionnaire, question_code, option_order,
        count(*)                                                              as answers
    from answers
    group by {{ marts_level_grouping_sets(['academic_year', 'questionnaire', 'question_code',
                                           'option_order']) }}

),

results as (

    select academic_year, level, municipality_code, school_code, questionnaire,
           question_code, respondents
    from {{ ref('survey_results') }}

),

options as (

    select q.questionnaire, q.question_code, s.i as option_order, q.options[s.i] as answer,
           list_contains(q.positive_options, q.options[s.i]) as is_positive
    from {{ ref('dim_survey_question') }} as q,
         unnest(generate_series(1, q.n_options)) as s(i)

),

agg as (

    select results.*, options.option_order, options.answer, options.is_positive,
           coalesce(per_option.answers, 0) as answers
    from results
    join options
        on options.questionnaire = results.questionnaire
        and options.question_code = results.question_code
    left join per_option
        on per_option.academic_year = results.academic_year
        and per_option.level = results.level
        and per_option.municipality_code is not distinct from results.municipality_code
        and per_option.school_code is not distinct from results.school_code
        and per_option.questionnaire = results.questionnaire
        and per_option.question_code = results.question_code
        and per_option.option_order = options.option_order

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.questionnaire::varchar                                            as questionnaire,
        agg.question_code::varchar                                            as question_code,
        agg.option_order::integer                                             as option_order,
        agg.answer::varchar                                                   as answer,
        agg.is_positive::boolean                                              as is_positive,
        agg.respondents::bigint                                               as respondents,
        {{ marts_suppress('agg.respondents', 'agg.answers') }}::bigint        as answers,
        {{ marts_suppress('agg.respondents', marts_pct('agg.answers', 'agg.respondents')) }}::double
                                                                              as pct,
        {{ marts_is_suppressed('agg.respondents') }}::boolean                 as is_suppressed
    from agg

)

select * from final
