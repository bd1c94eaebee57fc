-- Shown in Dagster as a check of assessment_results (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'assessment_results'}}}) }}
-- The region rows of assessment_results are computed from the participant-level rows (not
-- averaged over schools): participants and the failing count of every procedure × subject
-- × grade × year equal a direct count over core.fct_assessment_result. Returns mismatches.
with direct as (
    select academic_year, procedure, subject_code, grade,
           count(*) filter (where is_result_of_record)                 as participants,
           avg(primary_score) filter (where is_result_of_record)       as mean_primary_score
    from {{ ref('fct_assessment_result') }}
    group by all
)
select d.*, m.participants as mart_participants, m.mean_primary_score as mart_mean
from direct as d
left join {{ ref('assessment_results') }} as m
    on  m.level = 'region' and m.academic_year = d.academic_year and m.procedure = d.procedure
    and m.subject_code = d.subject_code and m.grade = d.grade
where m.participants is distinct from d.participants
   or (not m.is_suppressed and abs(m.mean_primary_score - d.mean_primary_score) > 1e-9)
