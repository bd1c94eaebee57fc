{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='fail', schema='core',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- Children by age and municipality (Росстат) per academic year: the denominator of the
-- additional-education coverage. If two loaded files cover the same municipality and age,
-- the most recently loaded one counts.

with population as (

    select * from {{ ref('stg_population') }}
    where {{ in_build_scope() }}

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

ranked as (

    select
        population.*,
        row_number() over (
            partition by population.academic_year, population.msu_code, population.age
            order by files.loaded_at desc nulls last, population._file_id desc
        ) as file_rank
    from population
    left join files on files.file_id = population._file_id
    where population.msu_code is not null and population.age is not null

),

final as (

    select
        academic_year::integer                     as academic_year,
        msu_code::varchar                          as msu_code,
        msu_name::varchar                          as msu_name,
        age::integer                               as age,
        population::integer                        as population,
        _file_id::varchar                          as _file_id,
        _source_line::integer                      as _source_line,
        _slice::varchar                             as _slice
    from ranked
    where file_rank = 1

)

select * from final
