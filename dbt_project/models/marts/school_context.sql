{{ config(materialized='table', schema='marts') }}

-- The registry's context variables per academic_year × school, with the social index
-- (ИСБШ), its quartile and the context cluster. ИСБШ = mean of z(parents with higher
-- education), −z(low-income), −z(single-parent), −z(non-native Russian); z over the
-- region's active schools of that year (population SD, as the demo generator's
-- rsoko_pipelines.demo.region.social_index). Reorganised and liquidated rows stay with
-- their status and a NULL index. No participants here, hence no small-cell suppression.

with schools as (

    select * from {{ ref('dim_school') }}

),

active as (

    select
        academic_year, school_code,
        (pct_parents_higher_ed - {{ exact_avg('pct_parents_higher_ed', over='w') }})
            / coalesce(nullif({{ exact_stddev('pct_parents_higher_ed', kind='pop', over='w') }}, 0), 1) as z_higher_ed,
        (pct_lowincome - {{ exact_avg('pct_lowincome', over='w') }})
            / coalesce(nullif({{ exact_stddev('pct_lowincome', kind='pop', over='w') }}, 0), 1)         as z_lowincome,
        (pct_singleparent - {{ exact_avg('pct_singleparent', over='w') }})
            / coalesce(nullif({{ exact_stddev('pct_singleparent', kind='pop', over='w') }}, 0), 1)      as z_singleparent,
        (pct_nonnative - {{ exact_avg('pct_nonnative', over='w') }})
            / coalesce(nullif({{ exact_stddev('pct_nonnative', kind='pop', over='w') }}, 0), 1)         as z_nonnative
    from schools
    where status_code = 'active'
      and pct_parents_higher_ed is not null and pct_lowincome is not null
      and pct_singleparent is not null and pct_nonnative is not null
    window w as (partition by academic_year)

),

indexed as (

    select
        active.*,
        (z_higher_ed - z_lowincome - z_singleparent - z_nonnative) / 4.0      as social_index
    from active

),

quartiles as (

    select
        indexed.*,
        ntile(4) over (partition by academic_year order by social_index, school_code) as context_quartile
    from indexed

),

final as (

    select
        s.academic_year::integer                                              as academic_year,
        {{ academic_year_label('s.academic_year') }}::varchar                 as academic_year_label,
        s.msu_code::varchar                                                   as municipality_code,
        s.msu_name::varchar                                                   as municipality_name,
        s.school_code::varchar                                                as school_code,
        s.school_name::varchar                                                as school_name,
        s.school_display_name::varchar                                        as school_display_name,
        s.school_kind::varchar                                                as school_kind,
        s.is_advanced::boolean                                                as is_advanced,
        s.settlement::varchar                                                 as settlement,
        s.status::varchar                                                     as status,
        s.status_code::varchar                                                as status_code,
        s.current_school_code::varchar                                        as current_school_code,
        s.n_students::integer                                                 as n_students,
        s.n_students_4_11::integer                                            as n_students_4_11,
        s.n_teachers::integer                                                 as n_teachers,
        s.pct_ovz::double                                                     as pct_ovz,
        s.pct_nonnative::double                                               as pct_nonnative,
        s.pct_lowincome::double                                               as pct_lowincome,
        s.pct_singleparent::double                                            as pct_singleparent,
        s.pct_parents_higher_ed::double                                       as pct_parents_higher_ed,
        s.pct_vacancies::double                                               as pct_vacancies,
        q.z_higher_ed::double                                                 as z_parents_higher_ed,
        q.z_lowincome::double                                                 as z_lowincome,
        q.z_singleparent::double                                              as z_singleparent,
        q.z_nonnative::double                                                 as z_nonnative,
        q.social_index::double                                                as social_index,
        q.context_quartile::integer                                           as context_quartile,
        (case when s.status_code = 'active' and s.settlement is not null and s.n_students is not null then
            s.settlement || ', ' || case when s.n_students < 100 then '<100'
                                         when s.n_students <= 500 then '100–500'
                                         else '>500' end
        end)::varchar                                                         as context_cluster
    from schools as s
    left join quartiles as q
        on q.academic_year = s.academic_year and q.school_code = s.school_code

)

select * from final
