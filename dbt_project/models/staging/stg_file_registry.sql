{{ config(materialized='view', schema='staging') }}

-- The file registry as a view: small, and every model that needs it reads all of it.

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
        loaded_at,
        coalesce(released, false)                          as released,
        released_at,
        coalesce(build_slice, source || '|' || academic_year) as build_slice,
        resolved_at,
        resolution

    from source

)

select * from renamed
