{#-
  Condition macros of the recommendation rules (seed ref_recommendation_rules, column
  `condition`; model marts/recommendations.sql calls `recommendation_condition__<condition>`
  once per rule). Adding a rule with an existing condition is a seed row; a new kind of
  condition is one macro here.

  A condition macro gets the rule (a row of the seed: mart, level, scope, param_min,
  param_max, min_participants) and returns a SELECT with one row per target that meets the
  condition:
      academic_year, level ('school' | 'municipality'), municipality_code, school_code
  plus the figures its rules' texts use as {placeholders} (recommendation_ru, evidence_ru),
  already worded as Russian text (ru_number / ru_percent: decimal comma). Every macro reads
  the mart named by the rule (`ref(rule['mart'])`), so the seed says what is tested; the
  model lists those marts in `-- depends_on` lines (dbt cannot see refs made from a seed).

  Helpers: rule_number(rule, column) — a numeric parameter of the rule as an SQL literal
  (compile error when missing); rule_text(rule, column) — a text parameter as an SQL literal;
  ru_plural(n, one, few, many) — the Russian plural form for a count.
-#}

{% macro rule_number(rule, column) -%}
    {%- set value = rule[column] -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error("recommendation rule " ~ rule['rule_code'] ~ ": " ~ column ~ " is required by condition " ~ rule['condition']) }}
    {%- endif -%}
    {{- value | float -}}
{%- endmacro %}

{% macro rule_text(rule, column) -%}
    '{{ (rule[column] or '') | replace("'", "''") }}'
{%- endmacro %}

{% macro ru_plural(n, one, few, many) -%}
    (case when ({{ n }}) % 10 = 1 and ({{ n }}) % 100 <> 11 then '{{ one }}'
          when ({{ n }}) % 10 between 2 and 4 and ({{ n }}) % 100 not between 12 and 14 then '{{ few }}'
          else '{{ many }}' end)
{%- endmacro %}


{#- Direction 1. A procedure's results by subject (and grade) at a school: the share of
    failing results ≥ param_min % with ≥ min_participants, at a school that is not a
    low-results school that year (those get the direction 2 rules). -#}
{% macro recommendation_condition__subject_fail_share(rule) %}
    with results as (
        select * from {{ ref(rule['mart']) }}
    ),
    failing as (
        select
            s.academic_year, s.municipality_code, s.school_code, s.procedure_name,
            s.subject_name, s.grade, s.participants, s.pct_failed,
            r.pct_failed                                          as region_pct_failed
        from results as s
        left join results as r
            on  r.level = 'region' and r.academic_year = s.academic_year
            and r.procedure = s.procedure and r.subject_code = s.subject_code
            and r.grade = s.grade
        where s.level = 'school'
          and s.procedure = {{ rule_text(rule, 'scope') }}
          and s.participants >= {{ rule_number(rule, 'min_participants') }}
          and s.pct_failed >= {{ rule_number(rule, 'param_min') }}
          and not exists (
              select 1 from {{ ref('low_results_schools') }} as l
              where l.academic_year = s.academic_year and l.school_code = s.school_code
                and l.is_low_results)
    )
    select
        academic_year,
        'school'                                                  as level,
        municipality_code,
        school_code,
        string_agg(subject_name
                   || case when procedure_name in ('ВПР', 'РПР') then ', ' || grade || ' класс' else '' end
                   || ' — ' || {{ ru_percent('pct_failed') }}
                   || ' (' || participants || ' ' || {{ ru_plural('participants', 'участник', 'участника', 'участников') }}
                   || '; по региону — ' || coalesce({{ ru_percent('region_pct_failed') }}, 'нет данных') || ')',
                   '; ' order by pct_failed desc, subject_name, grade) as failed_list,
        string_agg(distinct subject_name, ', ' order by subject_name) as subjects,
        count(*)                                                  as n_subjects
    from failing
    group by academic_year, municipality_code, school_code
{% endmacro %}


{#- Direction 2. Low-results schools (is_low_results) whose context quartile lies in
    [param_min, param_max]. -#}
{% macro recommendation_condition__low_results_context(rule) %}
    select
        l.academic_year,
        'school'                                                  as level,
        l.municipality_code,
        l.school_code,
        coalesce(nullif(concat_ws(', ',
            'ЕГЭ — ' || {{ ru_percent('l.pct_failed_ege') }},
            'ОГЭ — ' || {{ ru_percent('l.pct_failed_oge') }},
            'ВПР — ' || {{ ru_percent('l.pct_failed_vpr') }}), ''), 'нет данных')
                                                                  as failed_list,
        l.n_procedures_failing,
        case when l.repeat_failing
             then '; неудовлетворительные результаты повторяются второй год подряд'
             else '' end                                          as repeat_text,
        {{ ru_number('l.social_index', 2) }}                      as social_index,
        l.context_quartile,
        coalesce(c.context_cluster, 'кластер не определён')       as context_cluster
    from {{ ref(rule['mart']) }} as l
    left join {{ ref('school_context') }} as c
        on c.academic_year = l.academic_year and c.school_code = l.school_code
    where l.is_low_results
      and l.context_quartile between {{ rule_number(rule, 'param_min') }}
                                 and {{ rule_number(rule, 'param_max') }}
{% endmacro %}


{#- Direction 5. ВПР objectivity flagged param_min or more years running; the evidence
    lists the flagged subject-grades of the year (vpr_objectivity). -#}
{% macro recommendation_condition__vpr_flagged_years(rule) %}
    select
        s.academic_year,
        'school'                                                  as level,
        s.municipality_code,
        s.school_code,
        s.consecutive_flagged_years,
        s.consecutive_flagged_years || ' '
            || {{ ru_plural('s.consecutive_flagged_years', 'год', 'года', 'лет') }}  as n_years_text,
        array_to_string(list_transform(
            range(s.academic_year - s.consecutive_flagged_years + 1, s.academic_year + 1),
            lambda y: (y - 1)::varchar || '/' || lpad((y % 100)::varchar, 2, '0')), ', ')
                                                                  as years_list,
        s.works_flagged,
        s.works_total,
        (select string_agg(w.subject_name || ', ' || w.grade || ' класс', '; '
                           order by w.subject_name, w.grade)
           from {{ ref('vpr_objectivity') }} as w
          where w.academic_year = s.academic_year and w.school_code = s.school_code
            and w.is_flagged)                                     as flagged_works
    from {{ ref(rule['mart']) }} as s
    where s.consecutive_flagged_years >= {{ rule_number(rule, 'param_min') }}
{% endmacro %}


{#- Direction 8 (methodical work). Basic-level (Б) tasks with is_deficit in task_mastery,
    at the rule's level, for procedure `scope`: at least param_min deficit tasks in one
    subject-grade with ≥ min_participants; the evidence lists the tasks by their labels. -#}
{% macro recommendation_condition__basic_deficit_tasks(rule) %}
    with deficit_tasks as (
        select academic_year, municipality_code, school_code, subject_name, grade, task,
               task_order, pct_mastered
        from {{ ref(rule['mart']) }}
        where level = {{ rule_text(rule, 'level') }}
          and procedure = {{ rule_text(rule, 'scope') }}
          and task_level = 'Б'
          and is_deficit
          and participants >= {{ rule_number(rule, 'min_participants') }}
    ),
    per_form as (
        select
            academic_year, municipality_code, school_code, subject_name, grade,
            count(*)                                              as n_tasks,
            string_agg('№ ' || task || ' (' || {{ ru_percent('pct_mastered') }} || ')', ', '
                       order by task_order)                       as tasks
        from deficit_tasks
        group by academic_year, municipality_code, school_code, subject_name, grade
        having count(*) >= {{ rule_number(rule, 'param_min') }}
    )
    select
        academic_year,
        {{ rule_text(rule, 'level') }}                            as level,
        municipality_code,
        school_code,
        string_agg(subject_name || ', ' || grade || ' класс: ' || tasks, '; '
                   order by subject_name, grade)                  as deficit_list,
        string_agg(distinct subject_name, ', ' order by subject_name) as subjects,
        sum(n_tasks)                                              as n_tasks
    from per_form
    group by academic_year, municipality_code, school_code
{% endmacro %}
