-- Shown in Dagster as a check of ref_mark_boundaries (a singular test reading several models needs one).
{{ config(meta={'dagster': {'ref': {'name': 'ref_mark_boundaries'}}}) }}
-- Cross-seed consistency of the reference data. Every returned row is a violation.
-- 1. mark boundaries cover 0..max without gaps or overlaps, marks ascending with scores;
-- 2. ВПР/РПР task spec sums equal the boundary maximum (and every form has boundaries);
-- 3. ЕГЭ task spec sums equal the conversion scale maximum; scale is 0→0, max→100, monotone;
-- 4. ОГЭ/ГВЭ-9 task spec sums equal the boundary maximum.
with b as (
    select *,
        lag(max_primary_score) over w as prev_max,
        row_number() over w as rn,
        count(*) over (partition by procedure, academic_year, subject_code, grade) as n
    from {{ ref('ref_mark_boundaries') }}
    window w as (partition by procedure, academic_year, subject_code, grade order by mark)
),
boundary_gaps as (
    select 'boundary gap/overlap' as problem, procedure, academic_year, subject_code as subject, grade,
           mark::varchar as detail
    from b
    where (rn = 1 and (min_primary_score <> 0 or mark <> 2))
       or (rn > 1 and min_primary_score <> prev_max + 1)
       or min_primary_score > max_primary_score
       or n <> 4
),
bmax as (
    select procedure, academic_year, subject_code, grade, max(max_primary_score) as max_score
    from {{ ref('ref_mark_boundaries') }}
    group by all
),
vpr_sum as (
    select procedure, academic_year, subject_code, grade, sum(max_points) as total
    from {{ ref('ref_vpr_task_spec') }}
    group by all
),
vpr_mismatch as (
    select 'vpr spec sum <> boundary max', v.procedure, v.academic_year, v.subject_code, v.grade,
           v.total::varchar || ' vs ' || coalesce(bm.max_score::varchar, 'none')
    from vpr_sum v
    left join bmax bm using (procedure, academic_year, subject_code, grade)
    where bm.max_score is distinct from v.total
),
gia_sum as (
    select t.procedure, t.academic_year, t.source_subject_code, s.subject_code, s.exam_kind, s.result_kind,
           sum(t.max_points) as total
    from {{ ref('ref_gia_task_spec') }} t
    join {{ ref('ref_gia_subjects') }} s using (procedure, source_subject_code)
    group by all
),
scale as (
    select academic_year, ege_subject_code, max(primary_score) as max_primary,
           count(*) as n, min(primary_score) as min_primary,
           max(test_score) filter (where primary_score = 0) as t0,
           max(test_score) as tmax,
           arg_max(test_score, primary_score) as t_at_max
    from {{ ref('ref_ege_score_scale') }}
    group by all
),
scale_bad as (
    select 'ege scale shape', 'EGE', academic_year, ege_subject_code, 11, 'n/0/max'
    from scale
    where n <> max_primary + 1 or min_primary <> 0 or t0 <> 0 or t_at_max <> 100 or tmax <> 100
    union all
    select 'ege scale not monotone', 'EGE', academic_year, ege_subject_code, 11, primary_score::varchar
    from (
        select *, lag(test_score) over (partition by academic_year, ege_subject_code order by primary_score) as prev
        from {{ ref('ref_ege_score_scale') }}
    ) where test_score < prev
),
ege_mismatch as (
    select 'ege spec sum <> scale max', 'EGE', g.academic_year, g.source_subject_code, 11,
           g.total::varchar || ' vs ' || coalesce(s.max_primary::varchar, 'none')
    from gia_sum g
    left join scale s on s.academic_year = g.academic_year and s.ege_subject_code = g.source_subject_code
    where g.exam_kind = 'EGE' and g.result_kind = 'test_score' and s.max_primary is distinct from g.total
),
mark_mismatch as (
    select 'gia spec sum <> boundary max', g.exam_kind, g.academic_year, g.source_subject_code,
           case when g.exam_kind = 'EGE' then 11 else 9 end,
           g.total::varchar || ' vs ' || coalesce(bm.max_score::varchar, 'none')
    from gia_sum g
    left join bmax bm
      on bm.procedure = g.exam_kind and bm.academic_year = g.academic_year
     and bm.subject_code = g.subject_code and bm.grade = case when g.exam_kind = 'EGE' then 11 else 9 end
    where g.result_kind = 'mark' and bm.max_score is distinct from g.total
),
min_score_bad as (
    select 'ege min score not on scale', 'EGE', m.academic_year, m.ege_subject_code, 11, m.min_test_score::varchar
    from {{ ref('ref_ege_min_scores') }} m
    where m.min_test_score is not null
      and not exists (
        select 1 from {{ ref('ref_ege_score_scale') }} s
        where s.academic_year = m.academic_year and s.ege_subject_code = m.ege_subject_code
          and s.test_score = m.min_test_score)
)
select * from boundary_gaps
union all select * from vpr_mismatch
union all select * from scale_bad
union all select * from ege_mismatch
union all select * from mark_mismatch
union all select * from min_score_bad
