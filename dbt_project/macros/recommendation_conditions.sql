{#-
  Condition macros of the recommendation rules (seed ref_recommendation_rules, column
  `condition`; model marts/recommendations.sql calls `recommendation_condition__<condition>`
  once per rule). Adding a rule with an existing condition is a seed row; a new kind of
  condition is one macro here.

  A condition macro gets the rule (a row of the seed: mart, level, scope, param_min,
  param_max, min_participants, max_vs_region) and returns a SELECT with one row per target that meets the
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
            s.academic_year, s.municipality_code, s.school_code, s.procedure,
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
                   || case when procedure in ('VPR', 'RPR') then ', ' || grade || ' класс' else '' end
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
        (select string_agg(subject_name || ' (' || grades || ')', '; ' order by subject_name)
           from (select w.subject_name,
                        string_agg(w.grade::varchar, ', ' order by w.grade)
                            || case when count(*) = 1 then ' класс' else ' классы' end as grades
                   from {{ ref('vpr_objectivity') }} as w
                  where w.academic_year = s.academic_year and w.school_code = s.school_code
                    and w.is_flagged
                  group by w.subject_name))                       as flagged_works
    from {{ ref(rule['mart']) }} as s
    where s.consecutive_flagged_years >= {{ rule_number(rule, 'param_min') }}
{% endmacro %}


{#- Direction 7. Teachers with a deficit in a block of a subject diagnostic who got no ДПО
    addressing that block within 12 months (teacher_deficits per block, `все` and the
    managerial diagnostic of heads excluded): with_deficit − targeted_dpo ≥ param_min at the
    rule's level. The blocks are named (block_name: «методический» …). -#}
{% macro recommendation_condition__untargeted_deficits(rule) %}
    with blocks as (
        select
            academic_year, municipality_code, school_code, diagnostic, with_deficit,
            coalesce(block_name, block)                           as block,
            with_deficit - coalesce(targeted_dpo, 0)              as without_dpo
        from {{ ref(rule['mart']) }}
        where level = {{ rule_text(rule, 'level') }}
          and block <> 'все'
          and not coalesce(is_managerial, false)
          and with_deficit - coalesce(targeted_dpo, 0) >= {{ rule_number(rule, 'param_min') }}
    )
    select
        academic_year,
        {{ rule_text(rule, 'level') }}                            as level,
        municipality_code,
        school_code,
        string_agg(diagnostic || ', блок «' || block || '»: ' || without_dpo || ' из '
                   || with_deficit, '; ' order by diagnostic, block) as deficit_list,
        case when count(distinct block) = 1 then 'блок ' else 'блоки ' end
            || string_agg(distinct '«' || block || '»', ', ' order by '«' || block || '»')
                                                                  as blocks,
        sum(without_dpo)                                          as teachers_without_dpo
    from blocks
    group by academic_year, municipality_code, school_code
{% endmacro %}


{#- Direction 8 (methodical work). Basic-level (Б) tasks with is_deficit in task_mastery,
    at the rule's level, for procedure `scope`, where the target's mastery is at least
    −max_vs_region percentage points below the region's: at least param_min such tasks in
    one subject-grade with ≥ min_participants, at a target that is not a low-results school
    that year; the evidence lists the tasks by their labels with the target's and the
    region's mastery (the five weakest of a subject-grade, then how many more). A task below
    57 % everywhere is a regional deficit, not this school's: the gap keeps the
    recommendation targeted. -#}
{% macro recommendation_condition__basic_deficit_tasks(rule) %}
    with mastery as (
        select * from {{ ref(rule['mart']) }}
        where procedure = {{ rule_text(rule, 'scope') }} and task_level = 'Б'
    ),
    deficit_tasks as (
        select t.academic_year, t.municipality_code, t.school_code, t.subject_name, t.grade,
               t.task, t.task_order, t.pct_mastered, r.pct_mastered as region_pct_mastered
        from mastery as t
        join mastery as r
            on  r.level = 'region' and r.academic_year = t.academic_year
            and r.subject_code = t.subject_code and r.grade = t.grade
            and r.task_order = t.task_order
        where t.level = {{ rule_text(rule, 'level') }}
          and t.is_deficit
          and t.participants >= {{ rule_number(rule, 'min_participants') }}
          and t.pct_mastered - r.pct_mastered <= {{ rule_number(rule, 'max_vs_region') }}
          and not exists (   -- low-results schools get the direction 2 rules instead
              select 1 from {{ ref('low_results_schools') }} as l
              where l.academic_year = t.academic_year and l.school_code = t.school_code
                and l.is_low_results)
    ),
    ranked as (
        select *, row_number() over (
            partition by academic_year, municipality_code, school_code, subject_name, grade
            order by pct_mastered, task_order)                    as weakness
        from deficit_tasks
    ),
    per_form as (
        -- the five weakest tasks of a subject-grade by label (in task order), then the count
        select
            academic_year, municipality_code, school_code, subject_name, grade,
            count(*)                                              as n_tasks,
            string_agg('№ ' || task || ' (' || {{ ru_percent('pct_mastered') }} || ', по региону '
                       || {{ ru_percent('region_pct_mastered') }} || ')', ', '
                       order by task_order) filter (where weakness <= 5)
                || case when count(*) > 5
                        then ' и ещё ' || (count(*) - 5) || ' ' || {{ ru_plural('count(*) - 5', 'задание', 'задания', 'заданий') }}
                        else '' end                               as tasks
        from ranked
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
