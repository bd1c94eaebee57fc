{{ config(materialized='table', schema='marts') }}

-- Targeted recommendations («адресные рекомендации») per academic_year × level × territory
-- × rule_code, by the rules of the seed ref_recommendation_rules: for every rule the model
-- calls its condition macro (macros/recommendation_conditions.sql), which reads the mart the
-- rule names and returns the targets that meet the condition with the figures the rule's
-- texts use; {placeholders} of the recommendation and evidence texts are filled with them.
--
-- acted_on: a measure of the suggested kind for the same target (int_measure_applications)
-- started within rsoko:recommendation_window_months months after academic year t ends
-- (from 1 September of year t). NULL while the registers of measures of the window's
-- academic years are not all loaded and no such measure is known yet.

-- The marts the rules read (dbt cannot see refs made from seed rows):
-- depends_on: {{ ref('assessment_results') }}
-- depends_on: {{ ref('low_results_schools') }}
-- depends_on: {{ ref('school_context') }}
-- depends_on: {{ ref('vpr_objectivity') }}
-- depends_on: {{ ref('vpr_objectivity_schools') }}
-- depends_on: {{ ref('task_mastery') }}
-- depends_on: {{ ref('teacher_deficits') }}
{#- A rule whose mart is not a model of the project is skipped (a line in the dbt log). -#}

{%- set rules = [] -%}
{%- if execute -%}
    {%- for rule in run_query("select * from " ~ ref('ref_recommendation_rules')
                              ~ " order by rule_code").rows -%}
        {%- if ('model.rsoko.' ~ rule['mart']) in graph.nodes -%}
            {%- do rules.append(rule) -%}
        {%- else -%}
            {%- do log("recommendations: rule " ~ rule['rule_code'] ~ " skipped, its mart "
                       ~ rule['mart'] ~ " is not a model of this project", info=true) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

with triggered as (
{% for rule in rules %}
    {%- set condition = context.get('recommendation_condition__' ~ rule['condition']) -%}
    {%- if condition is none -%}
        {{ exceptions.raise_compiler_error("recommendation rule " ~ rule['rule_code'] ~ ": no macro recommendation_condition__" ~ rule['condition'] ~ " (macros/recommendation_conditions.sql)") }}
    {%- endif -%}
    {%- set params = {} -%}
    {%- for column in ('param_min', 'param_max', 'min_participants', 'max_vs_region') -%}
        {%- if rule[column] is not none -%}
            {%- do params.update({column: ('%g' % (rule[column] | float)) | replace('.', ',')}) -%}
        {%- endif -%}
    {%- endfor %}
    select
        '{{ rule['rule_code'] }}'                                as rule_code,
        c.academic_year,
        c.level,
        c.municipality_code,
        c.school_code,
        {{ render_template(rule['recommendation_ru'], 'c') }}    as recommendation,
        {{ render_template(rule['evidence_ru'], 'c') }}          as evidence
    from (
        select
            cond.*,
            {{ academic_year_label('cond.academic_year') }}      as academic_year_label
            {%- for name, text in params.items() %},
            '{{ text }}'                                         as {{ name }}
            {%- endfor %}
        from ({{ condition(rule) }}) as cond
    ) as c
    {% if not loop.last %}union all{% endif %}
{%- else %}
    select null::varchar as rule_code, null::integer as academic_year, null::varchar as level,
           null::varchar as municipality_code, null::varchar as school_code,
           null::varchar as recommendation, null::varchar as evidence
    where false
{%- endfor %}
),

rules as (

    select * from {{ ref('ref_recommendation_rules') }}

),

windowed as (

    select
        t.*,
        {{ academic_year_start('t.academic_year + 1') }}                       as window_start,
        ({{ academic_year_start('t.academic_year + 1') }}
            + to_months({{ var('rsoko:recommendation_window_months', 12) | int }}))::date as window_end
    from triggered as t

),

measures as (

    select * from {{ ref('int_measure_applications') }}

),

registers as (

    select distinct academic_year from {{ ref('fct_measure') }}

),

acted as (

    select
        w.academic_year, w.level, w.municipality_code, w.school_code, w.rule_code,
        min(m.start_date)                                                      as acted_start_date,
        arg_min(m.measure_code, m.start_date)                                  as acted_measure_code
    from windowed as w
    join rules as r on r.rule_code = w.rule_code
    join measures as m
        on  m.measure_kind = r.measure_kind
        and m.level = w.level
        and m.municipality_code = w.municipality_code
        and m.school_code is not distinct from w.school_code
        and m.start_date >= w.window_start
        and m.start_date < w.window_end
    group by all

),

coverage as (

    -- the registers of measures the window needs (its academic years), and whether loaded
    select
        w.rule_code, w.academic_year, w.level, w.municipality_code, w.school_code,
        {{ academic_year_of('(w.window_end - 1)') }}                           as last_window_year,
        (select count(*) from registers as g
          where g.academic_year between w.academic_year + 1
                                    and {{ academic_year_of('(w.window_end - 1)') }})
            = {{ academic_year_of('(w.window_end - 1)') }} - w.academic_year   as registers_loaded
    from windowed as w

),

final as (

    select
        w.academic_year::integer                                              as academic_year,
        {{ academic_year_label('w.academic_year') }}::varchar                 as academic_year_label,
        w.level::varchar                                                      as level,
        w.municipality_code::varchar                                          as municipality_code,
        (select m.msu_name from {{ ref('dim_municipality') }} as m
          where m.msu_code = w.municipality_code)::varchar                    as municipality_name,
        w.school_code::varchar                                                as school_code,
        (select s.school_name from {{ ref('dim_school') }} as s
          where s.academic_year = w.academic_year
            and s.school_code = w.school_code)::varchar                       as school_name,
        (select s.school_display_name from {{ ref('dim_school') }} as s
          where s.academic_year = w.academic_year
            and s.school_code = w.school_code)::varchar                       as school_display_name,
        {{ marts_level_name('w.level') }}                                     as level_name,
        w.rule_code::varchar                                                  as rule_code,
        r.direction::integer                                                  as direction,
        r.condition_ru::varchar                                               as rule_condition,
        r.mart::varchar                                                       as source_mart,
        w.recommendation::varchar                                             as recommendation,
        w.evidence::varchar                                                   as evidence,
        r.responsible_level::varchar                                          as responsible_level,
        r.measure_kind::varchar                                               as suggested_measure_kind,
        r.target_indicator::varchar                                           as target_indicator,
        w.window_start::date                                                  as window_start,
        (w.window_end - 1)::date                                              as window_end,
        (case when a.acted_measure_code is not null then true
              when cv.registers_loaded then false end)::boolean               as acted_on,
        (case when a.acted_measure_code is not null
                  then 'мера принята: ' || a.acted_measure_code || ' с '
                       || strftime(a.acted_start_date, '%d.%m.%Y')
              when cv.registers_loaded then 'мера не принята'
              else 'ожидает реестра мер ' || {{ academic_year_label('cv.last_window_year') }}
        end)::varchar                                                         as acted_on_status,
        a.acted_measure_code::varchar                                         as acted_measure_code,
        a.acted_start_date::date                                              as acted_start_date
    from windowed as w
    join rules as r on r.rule_code = w.rule_code
    left join acted as a
        on  a.rule_code = w.rule_code and a.academic_year = w.academic_year
        and a.level = w.level and a.municipality_code = w.municipality_code
        and a.school_code is not distinct from w.school_code
    left join coverage as cv
        on  cv.rule_code = w.rule_code and cv.academic_year = w.academic_year
        and cv.level = w.level and cv.municipality_code = w.municipality_code
        and cv.school_code is not distinct from w.school_code

)

select * from final
