{{ config(materialized='table', schema='marts') }}

-- Direction 7 (and 6 for `Управленческие компетенции`): the diagnostics of professional
-- deficits per academic_year × level × territory × diagnostic × block (`все` for all blocks),
-- from the person-level results of intermediate.int_deficit_blocks; persons counted once per
-- territory. pct_targeted_dpo: of those with a deficit in the block, the share who received a
-- ДПО document addressing it within rsoko:targeted_dpo_months (int_deficit_blocks explains the
-- rule). pct_rediagnosed_improved: of those diagnosed again in a later year (same
-- diagnostic), the share with fewer deficit elements (in the block) at the next diagnosis.

with results as (

    select * from {{ ref('int_deficit_blocks') }}

),

agg as (

    select
        academic_year,
        {{ marts_level_columns() }},
        diagnostic,
        block,
        any_value(diagnostic_subject_code)                                        as diagnostic_subject_code,
        bool_or(is_managerial)                                                    as is_managerial,
        count(distinct staff_key)                                                 as diagnosed,
        count(distinct staff_key) filter (where has_deficit)                      as with_deficit,
        count(distinct staff_key) filter (where is_no_deficit)                    as no_deficit,
        {{ exact_avg('mastery_pct') }}                                            as mean_mastery,
        count(distinct staff_key) filter (where has_targeted_dpo)                 as targeted_dpo,
        count(distinct staff_key) filter (where next_academic_year is not null)   as rediagnosed,
        count(distinct staff_key) filter (where next_n_deficit_elements
                                           < n_deficit_elements)                  as rediagnosed_improved
    from results
    group by {{ marts_level_grouping_sets(['academic_year', 'diagnostic', 'block']) }}

),

blocks as (

    select block, block_name_ru, block_name_en from {{ ref('ref_deficit_blocks') }}

),

final as (

    select
        {{ marts_key_columns('agg') }},
        agg.diagnostic::varchar                                               as diagnostic,
        agg.diagnostic_subject_code::varchar                                  as diagnostic_subject_code,
        agg.is_managerial::boolean                                            as is_managerial,
        agg.block::varchar                                                    as block,
        coalesce(blocks.block_name_ru, 'все блоки')::varchar                  as block_name,
        agg.diagnosed::bigint                                                 as diagnosed,
        agg.with_deficit::bigint                                              as with_deficit,
        agg.no_deficit::bigint                                                as no_deficit,
        agg.targeted_dpo::bigint                                              as targeted_dpo,
        agg.rediagnosed::bigint                                               as rediagnosed,
        agg.rediagnosed_improved::bigint                                      as rediagnosed_improved,
        {{ marts_suppress('agg.diagnosed', marts_pct('agg.with_deficit', 'agg.diagnosed')) }}::double
                                                                              as pct_with_deficit,
        {{ marts_suppress('agg.diagnosed', marts_pct('agg.no_deficit', 'agg.diagnosed')) }}::double
                                                                              as pct_no_deficit,
        {{ marts_suppress('agg.diagnosed', 'agg.mean_mastery') }}::double     as mean_mastery,
        {{ marts_suppress('agg.diagnosed', marts_pct('agg.targeted_dpo', 'agg.with_deficit')) }}::double
                                                                              as pct_targeted_dpo,
        {{ marts_suppress('agg.diagnosed', marts_pct('agg.rediagnosed_improved', 'agg.rediagnosed')) }}::double
                                                                              as pct_rediagnosed_improved,
        {{ marts_is_suppressed('agg.diagnosed') }}::boolean                   as is_suppressed
    from agg
    left join blocks on blocks.block = agg.block

)

select * from final
