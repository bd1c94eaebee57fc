{{ config(materialized='table', schema='marts') }}

-- ВсОШ coverage per academic_year × level × territory × stage × subject («Все предметы» =
-- all subjects of the stage). Participants, winners and prize-winners are unique students
-- (participant_id) at that stage: a student's best status decides (победитель over призёр
-- over участник). students_4_11 is the registry's number of students of grades 4–11 of the
-- territory (active schools of that year). Rows exist where the stage × subject has
-- participants in the territory.

with participations as (

    select academic_year, stage, stage_code, stage_order, subject_name, subject_code,
           school_code, msu_code, participant_id, status_code
    from {{ ref('fct_olympiad_result') }}

),

by_subject as (

    select academic_year, stage, stage_code, stage_order,
           subject_name as subject, subject_code, school_code, msu_code, participant_id,
           max(case status_code when 'winner' then 3 when 'prize_winner' then 2 else 1 end) as best
    from participations
    group by all

    union all

    select academic_year, stage, stage_code, stage_order,
           'Все предметы' as subject, null::varchar as subject_code, school_code, msu_code,
           participant_id,
           max(case status_code when 'winner' then 3 when 'prize_winner' then 2 else 1 end) as best
    from participations
    group by all

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        stage, stage_code, stage_order, subject,
        any_value(subject_code)                                               as subject_code,
        count(distinct participant_id)                                        as participants,
        count(distinct participant_id) filter (where best = 3)                as winners,
        count(distinct participant_id) filter (where best = 2)                as prize_winners,
        count(distinct school_code) filter (where best >= 2)                  as schools_with_prize
    from by_subject
    group by {{ marts_level_grouping_sets(['academic_year', 'stage', 'stage_code', 'stage_order',
                                           'subject']) }}

),

students as (

    select
        academic_year,
        {{ marts_level_columns() }},
        sum(n_students_4_11)                                                  as students_4_11
    from {{ ref('dim_school') }}
    where status_code = 'active'
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.stage::varchar                                                    as stage,
        agg.stage_code::varchar                                               as stage_code,
        agg.stage_order::integer                                              as stage_order,
        agg.subject::varchar                                                  as subject,
        agg.subject_code::varchar                                             as subject_code,
        students.students_4_11::bigint                                        as students_4_11,
        agg.participants::bigint                                              as participants,
        {{ marts_suppress('agg.participants', marts_pct('agg.participants', 'students.students_4_11')) }}::double
                                                                              as coverage_pct,
        agg.winners::bigint                                                   as winners,
        agg.prize_winners::bigint                                             as prize_winners,
        {{ marts_suppress('agg.participants',
            '(1000.0 * (agg.winners + agg.prize_winners) / nullif(students.students_4_11, 0))') }}::double
                                                                              as winners_and_prize_per_1000,
        agg.schools_with_prize::bigint                                        as schools_with_prize,
        {{ marts_is_suppressed('agg.participants') }}::boolean                as is_suppressed
    from agg
    left join students
        on  students.academic_year = agg.academic_year
        and students.level = agg.level
        and students.municipality_code is not distinct from agg.municipality_code
        and students.school_code is not distinct from agg.school_code

)

select * from final
