{{ config(materialized='table', schema='core') }}

with subjects as (

    select * from {{ ref('ref_subjects') }}

),

final as (

    select
        subject_code::varchar      as subject_code,
        subject_name_ru::varchar   as subject_name_ru,
        subject_name_en::varchar   as subject_name_en,
        ege_code::varchar          as ege_code,
        oge_code::varchar          as oge_code,
        vpr_subject::varchar       as vpr_subject
    from subjects

)

select * from final
