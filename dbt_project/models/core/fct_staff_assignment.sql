{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- One row per person × school × position of the staff register on 20 September, at schools
-- of that year's registry. The register arrives as one regional file or one file per
-- municipality; when files overlap (a regional file and later a municipality's corrected
-- file), each school's rows come from the most recently loaded file that lists the school.

with staff as (

    select * from {{ ref('stg_staff') }}
    where {{ academic_year_filter() }}
      and staff_key is not null

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

latest_file as (

    select academic_year, school_code,
           arg_max(staff._file_id, (files.loaded_at, staff._file_id)) as file_id
    from staff
    left join files on files.file_id = staff._file_id
    group by all

),

schools as (

    select academic_year, school_code, msu_code from {{ ref('dim_school') }}

),

positions as (

    select * from {{ ref('ref_staff_positions') }}

),

categories as (

    select * from {{ ref('ref_staff_categories') }}

),

final as (

    select
        {{ result_id("'staff'", 'staff._file_id', 'staff._source_line') }}::varchar as staff_assignment_id,
        staff.academic_year::integer                                  as academic_year,
        staff.staff_key::varchar                                      as staff_key,
        staff.school_code::varchar                                    as school_code,
        schools.msu_code::varchar                                     as msu_code,
        staff.position::varchar                                       as position,
        coalesce(positions.is_teacher, false)::boolean                as is_teacher,
        coalesce(positions.is_head, false)::boolean                   as is_head,
        coalesce(positions.is_deputy, false)::boolean                 as is_deputy,
        staff.subjects::varchar                                       as subjects,
        staff.category::varchar                                       as category,
        categories.category_group::varchar                            as category_group,
        categories.category_rank::integer                             as category_rank,
        staff.category_date::date                                     as category_date,
        staff.experience_years::integer                               as experience_years,
        staff.appointment_date::date                                  as appointment_date,
        staff.rate::double                                            as rate,
        staff.is_main_job::boolean                                    as is_main_job,
        staff.birth_year::integer                                     as birth_year,
        staff._file_id::varchar                                       as _file_id,
        staff._source_line::integer                                   as _source_line
    from staff
    join latest_file
        on  latest_file.academic_year = staff.academic_year
        and latest_file.school_code = staff.school_code
        and latest_file.file_id = staff._file_id
    join schools
        on  schools.academic_year = staff.academic_year
        and schools.school_code = staff.school_code
    left join positions on positions.position = staff.position
    left join categories on categories.category = staff.category

)

select * from final
