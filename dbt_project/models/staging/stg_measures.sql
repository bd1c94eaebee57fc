{{ config(
    materialized='incremental', incremental_strategy='append',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_build_scope_rows() }}"
) }}

-- The register of measures as delivered, with the kind spelled as in ref_measure_kinds
-- (case, spaces and ё/е do not matter), the level in the marts' words (school /
-- municipality), the target code that goes with it, and the academic year the measure
-- started in. A region that keeps no register has an empty raw.measures: no rows, no error.

with source as (

    select * from {{ released_rows('measures') }} as landed
    where {{ in_build_scope() }}

),

kinds as (

    select
        measure_kind,
        kind_code,
        regexp_replace(lower(replace(trim(measure_kind), 'ё', 'е')), '\s+', ' ', 'g') as kind_key
    from {{ ref('ref_measure_kinds') }}

),

renamed as (

    select
        source.academic_year,
        {{ clean_code('source.measure_code') }}                as measure_code,
        {{ clean_text('source.measure_kind') }}                as measure_kind_raw,
        kinds.measure_kind,
        kinds.kind_code,
        source.direction,
        {{ clean_code('source.target_level') }}                as target_level_raw,
        case upper({{ clean_code('source.target_level') }})
            when 'ОО' then 'school'
            when 'МСУ' then 'municipality'
        end                                                    as level,
        {{ clean_code('source.school_code') }}                 as school_code,
        {{ clean_code('source.msu_code') }}                    as msu_code,
        source.start_date,
        source.end_date,
        {{ academic_year_of('source.start_date') }}            as start_academic_year,
        upper({{ clean_code('source.target_indicator') }})     as target_indicator,
        {{ clean_text('source.basis') }}                       as basis,
        source._file_id,
        source._source_line,
        source._slice

    from source
    left join kinds
        on kinds.kind_key = regexp_replace(lower(replace(trim(source.measure_kind), 'ё', 'е')),
                                           '\s+', ' ', 'g')

)

select * from renamed
