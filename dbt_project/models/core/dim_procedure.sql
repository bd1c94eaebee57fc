{{ config(materialized='table', schema='core') }}

with procedures as (

    select * from {{ ref('ref_procedures') }}

),

sample_rules as (

    select * from {{ ref('ref_sample_rules') }}

),

final as (

    select
        procedure::varchar                  as procedure,
        procedure_name_ru::varchar          as procedure_name_ru,
        procedure_name_en::varchar          as procedure_name_en,
        case procedure
            when 'EGE' then 'ГИА' when 'OGE' then 'ГИА' when 'GVE9' then 'ГИА'
            when 'VPR' then 'ВПР' when 'RPR' then 'РПР' when 'NIKO' then 'НИКО'
        end::varchar                        as procedure_family,
        case procedure
            when 'EGE' then 'РИС ГИА' when 'OGE' then 'РИС ГИА' when 'GVE9' then 'РИС ГИА'
            else 'ФИС ОКО'
        end::varchar                        as source_system,
        case procedure when 'EGE' then 11 when 'OGE' then 9 when 'GVE9' then 9 end::integer
                                            as fixed_grade,
        -- sample studies (НИКО): published by the rules of reference.ref_sample_rules
        (sample_rules.procedure is not null)::boolean
                                            as is_sample,
        sample_rules.min_participants_municipality::integer
                                            as sample_min_participants_municipality,
        coalesce(sample_rules.school_level_published, true)::boolean
                                            as school_level_published
    from procedures
    left join sample_rules using (procedure)

)

select * from final
