{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='academic_year',
    on_schema_change='sync_all_columns', schema='staging',
    pre_hook="{{ delete_partition_rows() }}"
) }}

-- The element columns declared in each diagnostic file's header (row 3 block, row 4 header):
-- element_order is the position of the cell in stg_deficits.element_scores.

with source as (

    select * from {{ source('raw', 'deficits_elements') }}
    where {{ academic_year_filter() }}

),

renamed as (

    select
        academic_year,
        {{ clean_text('diagnostic') }}       as diagnostic,
        element_order,
        {{ clean_text('element') }}          as element,
        max_points,
        {{ clean_code('block') }}            as block,
        source_header,
        _file_id

    from source

)

select * from renamed
