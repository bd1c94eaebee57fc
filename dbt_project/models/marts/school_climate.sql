{{ config(materialized='table', schema='marts') }}

-- School climate (directions 6 and 9) per academic_year × level × territory × questionnaire
-- (обучающиеся, родители, педагоги, and «все» for the three together):
--   climate_index      mean, over the climate and safety questions (reference.
--                      ref_survey_indicators.is_climate), of each question's share of
--                      positive answers in the territory (0–100; marts.md);
--   safety_index       the same over the safety questions only;
--   bullying_free_pct  the same over the bullying questions (positive = «никогда»);
--   respondents        respondents who answered at least one climate or safety question;
--   is_poor_climate    climate_index below the var rsoko:poor_climate_index_below (school and
--                      municipality rows).
-- The question shares are computed from the respondent rows of the territory (every level
-- from core.fct_survey_answer, never from school values). Rows with fewer respondents than
-- rsoko:min_cell_size expose no index. The per-school index for direction 6
-- (school_heads.climate_index) is climate_index of level = 'school', questionnaire = 'все'.

with answers as (

    select a.*, q.indicator, q.is_climate,
           a.questionnaire || ':' || a.school_code || ':' || a.respondent_key as respondent_id
    from {{ ref('fct_survey_answer') }} as a
    join {{ ref('dim_survey_question') }} as q
        on q.questionnaire = a.questionnaire and q.question_code = a.question_code
    where not a.is_skipped and (q.is_climate or q.indicator = 'bullying')

),

-- each answer counts in its questionnaire and in «все»
scoped as (

    select *, questionnaire as scope from answers
    union all
    select *, 'все' as scope from answers

),

per_question as (

    select
        academic_year,
        {{ marts_level_columns() }},
        scope, questionnaire, question_code, any_value(indicator) as indicator,
        any_value(is_climate) as is_climate,
        100.0 * count(*) filter (where is_positive) / count(*)                as pct_positive
    from scoped
    group by {{ marts_level_grouping_sets(['academic_year', 'scope', 'questionnaire',
                                           'question_code']) }}

),

-- respondent_id names the school, and a school is in one municipality a year: one row per
-- respondent × scope, counted, is the distinct respondents of every level (count(distinct)
-- per grouping set held every respondent's key three times over at tier F)
climate_respondents as (

    select distinct academic_year, msu_code, school_code, scope, respondent_id
    from scoped
    where is_climate

),

respondents as (

    select
        academic_year,
        {{ marts_level_columns() }},
        scope,
        count(*)                                                              as respondents
    from climate_respondents
    group by {{ marts_level_grouping_sets(['academic_year', 'scope']) }}

),

indices as (

    select
        academic_year, level, municipality_code, school_code, scope,
        {{ exact_avg('pct_positive', where='is_climate') }}                   as climate_index,
        {{ exact_avg('pct_positive', where="indicator = 'safety'") }}         as safety_index,
        {{ exact_avg('pct_positive', where="indicator = 'bullying'") }}       as bullying_free_pct,
        count(*) filter (where is_climate)                                    as climate_questions
    from per_question
    group by all

),

agg as (

    select indices.*, coalesce(respondents.respondents, 0) as respondents
    from indices
    left join respondents
        on respondents.academic_year = indices.academic_year
        and respondents.level = indices.level
        and respondents.municipality_code is not distinct from indices.municipality_code
        and respondents.school_code is not distinct from indices.school_code
        and respondents.scope = indices.scope

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.scope::varchar                                                    as questionnaire,
        agg.respondents::bigint                                               as respondents,
        agg.climate_questions::bigint                                         as climate_questions,
        {{ marts_suppress('agg.respondents', 'agg.climate_index') }}::double  as climate_index,
        {{ marts_suppress('agg.respondents', 'agg.safety_index') }}::double   as safety_index,
        {{ marts_suppress('agg.respondents', 'agg.bullying_free_pct') }}::double
                                                                              as bullying_free_pct,
        (case when agg.level <> 'region' and not {{ marts_is_suppressed('agg.respondents') }}
              -- rounded: the exact mean carries up to ~1e-10 of decimal rounding, and an index
              -- of exactly the threshold is not below it
              then round(agg.climate_index, 6) < {{ var('rsoko:poor_climate_index_below') }}
         end)::boolean                                                        as is_poor_climate,
        {{ marts_is_suppressed('agg.respondents') }}::boolean                 as is_suppressed
    from agg

)

select * from final
