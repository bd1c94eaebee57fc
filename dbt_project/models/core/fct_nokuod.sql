{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- One row per school assessed by НОКУОД in an academic year, at schools of that year's
-- registry (a corrected file of the year replaces the earlier one at landing).

with results as (

    select * from {{ ref('stg_nokuod') }}
    where {{ academic_year_filter() }}

),

schools as (

    select academic_year, school_code, msu_code from {{ ref('dim_school') }}

),

final as (

    select
        {{ result_id("'nokuod'", 'results._file_id', 'results._source_line') }}::varchar as nokuod_id,
        results.academic_year::integer                                 as academic_year,
        results.school_code::varchar                                   as school_code,
        schools.msu_code::varchar                                      as msu_code,
        results.openness::double                                       as openness,
        results.comfort::double                                        as comfort,
        results.accessibility::double                                  as accessibility,
        results.courtesy::double                                       as courtesy,
        results.satisfaction::double                                   as satisfaction,
        results.total_score::double                                    as total_score,
        ((results.openness + results.comfort + results.accessibility + results.courtesy
          + results.satisfaction) / 5.0)::double                      as criteria_mean,
        results.n_respondents::integer                                 as n_respondents,
        results._file_id::varchar                                      as _file_id,
        results._source_line::integer                                  as _source_line
    from results
    join schools
        on  schools.academic_year = results.academic_year
        and schools.school_code = results.school_code

)

select * from final
