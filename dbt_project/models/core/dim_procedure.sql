{{ config(materialized='table', schema='core') }}

with procedures as (

    select * from {{ ref('ref_procedures') }}

),

final as (

    select
        procedure::varchar                  as procedure,
        procedure_name_ru::varchar          as procedure_name_ru,
        procedure_name_en::varchar          as procedure_name_en,
        case procedure
            when 'EGE' then 'ГИА' when 'OGE' then 'ГИА' when 'GVE9' then 'ГИА'
            when 'VPR' then 'ВПР' when 'RPR' then 'РПР'
        end::varchar                        as procedure_family,
        case procedure
            when 'EGE' then 'РИС ГИА' when 'OGE' then 'РИС ГИА' when 'GVE9' then 'РИС ГИА'
            else 'ФИС ОКО'
        end::varchar                        as source_system,
        case procedure when 'EGE' then 11 when 'OGE' then 9 when 'GVE9' then 9 end::integer
                                            as fixed_grade
    from procedures

)

select * from final
