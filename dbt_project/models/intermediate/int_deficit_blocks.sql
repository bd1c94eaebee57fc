{{ config(materialized='table', schema='intermediate') }}

-- A diagnostic result per block (and `все` for all blocks): elements, deficits, mastery,
-- «без дефицитов», the person's next diagnosis in the same diagnostic (re-diagnosis), and
-- whether a deficit was followed by targeted ДПО: a document of record whose first issue is
-- within rsoko:targeted_dpo_months after the diagnostic date (after it, not on the day) and
-- whose programme addresses the block — its blocks (ref_dpo_programmes.blocks) include it
-- and it is a programme of that diagnostic or of none in particular. For `все`: targeted ДПО
-- for at least one of the person's deficit blocks. Built over all years at once (the
-- re-diagnosis and the 12-month window cross academic years), so a full table.

with elements as (

    select * from {{ ref('fct_deficit_element') }}

),

rule as (

    select * from {{ ref('ref_deficit_rule') }}

),

per_block as (

    select
        academic_year, staff_key, school_code, msu_code, position, diagnostic,
        diagnostic_subject_code, is_managerial, diagnostic_date,
        coalesce(block, 'все')                                      as block,
        count(*)                                                    as n_elements,
        count(*) filter (where is_deficit)                          as n_deficit_elements,
        count(*) filter (where is_mastered_high)                    as n_mastered_high,
        sum(points)                                                 as points,
        sum(max_points)                                             as max_points
    from elements
    group by grouping sets (
        (academic_year, staff_key, school_code, msu_code, position, diagnostic,
         diagnostic_subject_code, is_managerial, diagnostic_date, block),
        (academic_year, staff_key, school_code, msu_code, position, diagnostic,
         diagnostic_subject_code, is_managerial, diagnostic_date))

),

documents as (

    select d.staff_key, d.first_issue_date, d.programme_diagnostic,
           unnest(string_split(d.programme_blocks, ' '))            as block
    from {{ ref('fct_dpo_document') }} as d
    where d.is_classified

),

targeted_blocks as (

    select b.academic_year, b.staff_key, b.diagnostic, b.block,
           min(documents.first_issue_date)                          as first_targeted_dpo_date
    from per_block as b
    join documents
        on  documents.staff_key = b.staff_key
        and documents.block = b.block
        and (documents.programme_diagnostic is null
             or documents.programme_diagnostic = b.diagnostic)
        and documents.first_issue_date > b.diagnostic_date
        and documents.first_issue_date
            <= (b.diagnostic_date + to_months({{ staff_var('targeted_dpo_months') }}))::date
    where b.block <> 'все' and b.n_deficit_elements > 0
    group by all

),

targeted as (

    select * from targeted_blocks
    union all
    select academic_year, staff_key, diagnostic, 'все', min(first_targeted_dpo_date)
    from targeted_blocks
    group by all

),

final as (

    select
        b.academic_year::integer                                    as academic_year,
        b.staff_key::varchar                                        as staff_key,
        b.school_code::varchar                                      as school_code,
        b.msu_code::varchar                                         as msu_code,
        b.position::varchar                                         as position,
        b.diagnostic::varchar                                       as diagnostic,
        b.diagnostic_subject_code::varchar                          as diagnostic_subject_code,
        b.is_managerial::boolean                                    as is_managerial,
        b.diagnostic_date::date                                     as diagnostic_date,
        b.block::varchar                                            as block,
        b.n_elements::integer                                       as n_elements,
        b.n_deficit_elements::integer                               as n_deficit_elements,
        (b.n_deficit_elements > 0)::boolean                         as has_deficit,
        (b.n_deficit_elements = 0
         and b.n_mastered_high > rule.no_deficit_min_share * b.n_elements)::boolean
                                                                    as is_no_deficit,
        b.points::double                                            as points,
        b.max_points::double                                        as max_points,
        (100.0 * b.points / nullif(b.max_points, 0))::double        as mastery_pct,
        (case when b.n_deficit_elements > 0
              then t.first_targeted_dpo_date is not null end)::boolean as has_targeted_dpo,
        t.first_targeted_dpo_date::date                             as first_targeted_dpo_date,
        (lead(b.academic_year) over next_diagnosis)::integer        as next_academic_year,
        (lead(b.n_deficit_elements) over next_diagnosis)::integer   as next_n_deficit_elements
    from per_block as b
    cross join rule
    left join targeted as t
        on  t.academic_year = b.academic_year
        and t.staff_key = b.staff_key
        and t.diagnostic = b.diagnostic
        and t.block = b.block
    window next_diagnosis as (partition by b.staff_key, b.diagnostic, b.block
                              order by b.academic_year)

)

select * from final
