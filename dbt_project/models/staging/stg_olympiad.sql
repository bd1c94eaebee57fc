{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- ВсОШ participations. The status is delivered as `призёр` or `призер`: one spelling
-- (`призёр`) plus an English code; stages get a code and their order.

with source as (

    select * from {{ released_rows('olympiad') }}
    where {{ in_build_scope() }}

),

subjects as (

    select * from {{ ref('ref_olympiad_subjects') }}

),

renamed as (

    select
        source.academic_year,
        lower({{ clean_text('source.stage') }})            as stage,
        case lower({{ clean_text('source.stage') }})
            when 'школьный'       then 'school'
            when 'муниципальный'  then 'municipal'
            when 'региональный'   then 'regional'
            when 'заключительный' then 'final'
        end                                                as stage_code,
        case lower({{ clean_text('source.stage') }})
            when 'школьный'       then 1
            when 'муниципальный'  then 2
            when 'региональный'   then 3
            when 'заключительный' then 4
        end                                                as stage_order,
        {{ clean_text('source.subject_name') }}            as subject_name,
        subjects.subject_code,
        {{ clean_code('source.school_code') }}             as school_code,
        {{ clean_code('source.participant_id') }}          as participant_id,
        source.grade,
        source.participation_grade,
        source.score,
        source.max_score,
        case replace(lower({{ clean_text('source.status') }}), 'ё', 'е')
            when 'участник'   then 'участник'
            when 'призер'     then 'призёр'
            when 'победитель' then 'победитель'
        end                                                as status,
        case replace(lower({{ clean_text('source.status') }}), 'ё', 'е')
            when 'участник'   then 'participant'
            when 'призер'     then 'prize_winner'
            when 'победитель' then 'winner'
        end                                                as status_code,
        source._file_id,
        source._source_line,
        source._slice

    from source
    left join subjects
        on lower(subjects.subject_name_ru) = lower({{ clean_text('source.subject_name') }})

)

select * from renamed
