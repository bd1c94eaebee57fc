{{ config(materialized='table', schema='marts') }}

-- Did the measures work? One row per academic_year t (the year the measures started) ×
-- measure_kind × target_indicator × level: a difference in differences with exact matching
-- on the context cell. The method and its limits are in measure_effects.yml (persisted as
-- the table's description) and docs/management_cycle.md.
--
--   treated      targets (schools or municipalities) with a measure of the kind and target
--                indicator starting in t, with the indicator's value in t−1 and t+1 and at
--                least one comparison target in their cell;
--   comparison   targets of the same cell (schools: context_cluster × context_quartile of
--                school_context in t−1; municipalities: all in one cell) with both values
--                and not under any measure of that kind in t−1…t+1 (started before the end
--                of t+1 and not ended before the start of t−1), whatever their other measures;
--   change       value(t+1) − value(t−1) (year t itself is skipped: the measure runs then);
--   effect       mean change of the treated − mean over the treated of their cell's mean
--                comparison change (= the comparison change weighted like the treated);
--   interval     95 % percentile bootstrap over targets: rsoko:measure_effect_replicates
--                replicates, each redrawing the treated (n_T of n_T) and every cell's
--                comparison targets (n_c of n_c) with replacement; draw j of a stratum picks
--                the target numbered hash(seed, replicate, group, stratum, j) mod n, so two
--                builds on the same data give identical tables (sums are exact decimals).

{%- set replicates = var('rsoko:measure_effect_replicates', 1000) | int %}
{%- set seed = var('rsoko:measure_effect_seed', 20250607) | int %}
{%- set min_group = var('rsoko:measure_effect_min_group', 10) | int %}
{%- set group_keys = 't, measure_kind, target_indicator, level' %}

with applications as (

    select *, coalesce(school_code, municipality_code) as target_key
    from {{ ref('int_measure_applications') }}

),

target_values as (

    select * from {{ ref('measure_target_values') }}

),

cells as (

    select academic_year, school_code,
           context_cluster || ', квартиль ' || context_quartile       as cell
    from {{ ref('school_context') }}
    where context_cluster is not null and context_quartile is not null

),

groups as (

    select distinct start_academic_year as t, measure_kind, target_indicator, level
    from applications

),

treated_targets as (

    select distinct start_academic_year as t, measure_kind, target_indicator, level, target_key
    from applications

),

-- targets under a measure of the group's kind at any time in t−1 … t+1
exposed as (

    select distinct g.t, g.measure_kind, g.level, a.target_key
    from (select distinct t, measure_kind, level from groups) as g
    join applications as a
        on a.measure_kind = g.measure_kind and a.level = g.level
    where a.start_date < {{ academic_year_start('g.t + 2') }}
      and (a.end_date is null or a.end_date >= {{ academic_year_start('g.t - 1') }})

),

years_with_values as (

    select distinct indicator_code, level, academic_year from target_values

),

changes as (

    select
        g.t, g.measure_kind, g.target_indicator, g.level,
        before.target_key,
        before.value                                                    as value_before,
        after.value                                                     as value_after,
        after.value - before.value                                      as change,
        case when g.level = 'school' then cells.cell else 'все МСУ' end as cell
    from groups as g
    join target_values as before
        on  before.indicator_code = g.target_indicator and before.level = g.level
        and before.academic_year = g.t - 1
    join target_values as after
        on  after.indicator_code = g.target_indicator and after.level = g.level
        and after.academic_year = g.t + 1 and after.target_key = before.target_key
    left join cells
        on g.level = 'school' and cells.academic_year = g.t - 1
        and cells.school_code = before.target_key
    where g.level = 'municipality' or cells.cell is not null

),

treated_changes as (

    select changes.*
    from changes
    join treated_targets using ({{ group_keys }}, target_key)

),

comparison_changes as (

    select changes.*
    from changes
    where not exists (
        select 1 from exposed as e
        where e.t = changes.t and e.measure_kind = changes.measure_kind
          and e.level = changes.level and e.target_key = changes.target_key)

),

matched_cells as (

    select distinct {{ group_keys }}, cell from treated_changes
    intersect
    select distinct {{ group_keys }}, cell from comparison_changes

),

treated_used as (

    select treated_changes.* from treated_changes join matched_cells using ({{ group_keys }}, cell)

),

comparison_used as (

    select comparison_changes.* from comparison_changes join matched_cells using ({{ group_keys }}, cell)

),

cell_means as (

    select {{ group_keys }}, cell, {{ exact_avg('change') }} as cell_mean
    from comparison_used
    group by all

),

point_estimates as (

    select
        {{ group_keys }},
        count(*)                                                       as treated,
        count(distinct tu.cell)                                        as cells,
        {{ exact_avg('tu.value_before') }}                             as mean_before_treated,
        {{ exact_avg('tu.value_after') }}                              as mean_after_treated,
        {{ exact_avg('tu.change') }}                                   as mean_change_treated,
        {{ exact_avg('cm.cell_mean') }}                                as mean_change_comparison
    from treated_used as tu
    join cell_means as cm using ({{ group_keys }}, cell)
    group by all

),

comparison_counts as (

    select {{ group_keys }}, count(*) as comparison
    from comparison_used
    group by all

),

-- the bootstrap: strata are the treated of a group and the comparison of each matched cell
units as (

    select {{ group_keys }}, 'T' as arm, '' as stratum, target_key, cell, change from treated_used
    union all
    select {{ group_keys }}, 'C', cell, target_key, cell, change from comparison_used

),

numbered as (

    select
        units.*,
        row_number() over (partition by {{ group_keys }}, arm, stratum order by target_key) - 1 as k,
        count(*) over (partition by {{ group_keys }}, arm, stratum)                             as n
    from units

),

strata as (

    select distinct {{ group_keys }}, arm, stratum, n from numbered

),

draws as (

    select
        s.t, s.measure_kind, s.target_indicator, s.level, s.arm, s.stratum, r.replicate,
        (hash({{ seed }}, r.replicate, s.t, s.measure_kind, s.target_indicator, s.level,
              s.arm, s.stratum, s.j) % s.n::ubigint)::bigint           as k
    from (select strata.*, unnest(range(n)) as j from strata) as s
    cross join range({{ replicates }}) as r(replicate)

),

drawn as (

    select d.t, d.measure_kind, d.target_indicator, d.level, d.arm, d.replicate,
           n.cell, n.change
    from draws as d
    join numbered as n using ({{ group_keys }}, arm, stratum, k)

),

replicate_cells as (

    select {{ group_keys }}, replicate, cell, {{ exact_avg('change') }} as cell_mean
    from drawn
    where arm = 'C'
    group by all

),

replicate_effects as (

    select {{ group_keys }}, replicate,
           {{ exact_avg('drawn.change - replicate_cells.cell_mean') }} as effect
    from drawn
    join replicate_cells using ({{ group_keys }}, replicate, cell)
    where drawn.arm = 'T'
    group by all

),

intervals as (

    select {{ group_keys }},
           quantile_cont(effect, 0.025)                                 as ci_low,
           quantile_cont(effect, 0.975)                                 as ci_high
    from replicate_effects
    group by all

),

group_status as (

    select
        g.*,
        (select count(*) from treated_targets as tt
          where tt.t = g.t and tt.measure_kind = g.measure_kind
            and tt.target_indicator = g.target_indicator and tt.level = g.level) as targets,
        exists (select 1 from years_with_values as y
                 where y.indicator_code = g.target_indicator and y.level = g.level
                   and y.academic_year = g.t + 1)                       as has_after,
        exists (select 1 from years_with_values as y
                 where y.indicator_code = g.target_indicator and y.level = g.level
                   and y.academic_year = g.t - 1)                       as has_before
    from groups as g

),

joined as (

    select
        gs.*,
        coalesce(p.treated, 0)                                          as treated,
        coalesce(cc.comparison, 0)                                      as comparison,
        coalesce(p.cells, 0)                                            as cells,
        -- rounded to 1e-9: the exact sums leave ~1e-11 residues, which must not decide
        -- whether an interval excludes 0
        round(p.mean_before_treated, 9)                                 as mean_before_treated,
        round(p.mean_after_treated, 9)                                  as mean_after_treated,
        round(p.mean_change_treated, 9)                                 as mean_change_treated,
        round(p.mean_change_comparison, 9)                              as mean_change_comparison,
        round(p.mean_change_treated, 9) - round(p.mean_change_comparison, 9) as effect,
        round(i.ci_low, 9)                                              as ci_low,
        round(i.ci_high, 9)                                             as ci_high,
        case
            when not gs.has_after then 'ожидает данных t+1'
            when not gs.has_before then 'нет данных t−1'
            when p.treated is null then 'нет сопоставимых целей'
            else 'рассчитан'
        end                                                             as status,
        cat.name_ru                                                     as indicator_name,
        cat.desired_direction
    from group_status as gs
    left join point_estimates as p using ({{ group_keys }})
    left join comparison_counts as cc using ({{ group_keys }})
    left join intervals as i using ({{ group_keys }})
    left join {{ ref('indicator_catalogue') }} as cat on cat.indicator_code = gs.target_indicator

),

final as (

    select
        t::integer                                                      as academic_year,
        {{ academic_year_label('t') }}::varchar                         as academic_year_label,
        measure_kind::varchar                                           as measure_kind,
        target_indicator::varchar                                       as target_indicator,
        indicator_name::varchar                                         as indicator_name,
        level::varchar                                                  as level,
        {{ marts_level_name('level') }}                                  as level_name,
        status::varchar                                                 as status,
        targets::bigint                                                 as targets,
        treated::bigint                                                 as treated,
        comparison::bigint                                              as comparison,
        cells::bigint                                                   as cells,
        (case when status = 'рассчитан' then mean_before_treated end)::double   as mean_before_treated,
        (case when status = 'рассчитан' then mean_after_treated end)::double    as mean_after_treated,
        (case when status = 'рассчитан' then mean_change_treated end)::double   as mean_change_treated,
        (case when status = 'рассчитан' then mean_change_comparison end)::double as mean_change_comparison,
        (case when status = 'рассчитан' then effect end)::double        as effect,
        (case when status = 'рассчитан' then ci_low end)::double        as ci_low,
        (case when status = 'рассчитан' then ci_high end)::double       as ci_high,
        desired_direction::varchar                                      as desired_direction,
        (status = 'рассчитан' and treated >= {{ min_group }} and comparison >= {{ min_group }}
            and (ci_low > 0 or ci_high < 0))::boolean                   as is_conclusive,
        (status = 'рассчитан' and treated >= {{ min_group }} and comparison >= {{ min_group }}
            and coalesce(case desired_direction when 'up' then ci_low > 0
                                                when 'down' then ci_high < 0 end, false))::boolean
                                                                        as is_improvement,
        (case
            when status <> 'рассчитан' then status
            when treated < {{ min_group }} or comparison < {{ min_group }}
                then 'мало целей для вывода (нужно не менее {{ min_group }} в каждой группе)'
            when (ci_low > 0 or ci_high < 0)
                 and ((desired_direction = 'up') = (effect > 0))
                then 'показатель улучшился сильнее, чем у сопоставимых'
            when (ci_low > 0 or ci_high < 0)
                then 'показатель ухудшился сильнее, чем у сопоставимых'
            else 'отличие от сопоставимых не установлено (интервал включает 0)'
        end)::varchar                                                   as conclusion,
        {{ replicates }}::integer                                       as bootstrap_replicates,
        {{ seed }}::bigint                                              as bootstrap_seed
    from joined

)

select * from final
