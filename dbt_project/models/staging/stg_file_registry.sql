{{ config(materialized='view', schema='staging') }}

-- A view without a partition filter (views must not bake the partition year in): the
-- registry is small and every model that needs it reads all of it.

with source as (

    select * from {{ source('raw', '_file_registry') }}

),

renamed as (

    select
        file_id,
        source,
        academic_year,
        inbox_path,
        file_name,
        size_bytes,
        archive_path,
        slice_key,
        rows,
        status,
        message,
        superseded_by,
        first_seen_at,
        loaded_at

    from source

)

select * from renamed
