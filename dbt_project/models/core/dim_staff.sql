{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- One row per person (pseudonymous staff key) and academic year: the person's attributes of
-- that year's register, over all their rows (positions, schools): the main position (the
-- highest of ref_staff_positions.sort_order among the main-job rows), the highest category,
-- the longest experience, age and their bands (seed ref_staff_bands).

with assignments as (

    select * from {{ ref('fct_staff_assignment') }}
    where {{ academic_year_filter() }}

),

positions as (

    select position, sort_order from {{ ref('ref_staff_positions') }}

),

bands as (

    select * from {{ ref('ref_staff_bands') }}

),

persons as (

    select
        a.academic_year,
        a.staff_key,
        arg_min(a.position, (not a.is_main_job, p.sort_order))       as main_position,
        arg_min(a.school_code, (not a.is_main_job, p.sort_order, a.school_code))
                                                                     as main_school_code,
        arg_min(a.msu_code, (not a.is_main_job, p.sort_order, a.school_code))
                                                                     as main_msu_code,
        bool_or(a.is_teacher)                                        as is_teacher,
        bool_or(a.is_head)                                           as is_head,
        bool_or(a.is_deputy)                                         as is_deputy,
        arg_max(a.category, (a.category_rank, a.category))           as category,
        arg_max(a.category_group, (a.category_rank, a.category))     as category_group,
        max(a.category_rank)                                         as category_rank,
        max(a.experience_years)                                      as experience_years,
        max(a.birth_year)                                            as birth_year,
        count(distinct a.school_code)                                as n_schools,
        count(*)                                                     as n_assignments,
        sum(a.rate)                                                  as total_rate
    from assignments as a
    left join positions as p on p.position = a.position
    group by a.academic_year, a.staff_key

),

final as (

    select
        persons.academic_year::integer                               as academic_year,
        persons.staff_key::varchar                                    as staff_key,
        persons.main_position::varchar                                as main_position,
        persons.main_school_code::varchar                             as main_school_code,
        persons.main_msu_code::varchar                                as main_msu_code,
        persons.is_teacher::boolean                                   as is_teacher,
        persons.is_head::boolean                                      as is_head,
        persons.is_deputy::boolean                                    as is_deputy,
        persons.category::varchar                                     as category,
        persons.category_group::varchar                               as category_group,
        persons.category_rank::integer                                as category_rank,
        persons.experience_years::integer                             as experience_years,
        (select b.band from bands as b
          where b.band_kind = 'experience'
            and persons.experience_years >= b.min_value
            and persons.experience_years < b.max_value)::varchar     as experience_band,
        persons.birth_year::integer                                   as birth_year,
        (persons.academic_year - 1 - persons.birth_year)::integer     as age,
        (select b.band from bands as b
          where b.band_kind = 'age'
            and persons.academic_year - 1 - persons.birth_year >= b.min_value
            and persons.academic_year - 1 - persons.birth_year < b.max_value)::varchar
                                                                      as age_band,
        ((persons.birth_year // 10) * 10)::integer                    as birth_decade,
        persons.n_schools::integer                                    as n_schools,
        persons.n_assignments::integer                                as n_assignments,
        persons.total_rate::double                                    as total_rate
    from persons

)

select * from final
