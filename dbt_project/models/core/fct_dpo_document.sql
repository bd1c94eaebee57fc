{{ config(materialized='table', schema='core') }}

-- One row per ДПО document of record: a person (staff key) × registration number. A
-- duplicate (`Дубликат`) replaces its original — the same registration number issued to the
-- same person — and may arrive years later in another year's file, so this fact is built
-- over all years at once (a full table, not incremental by year like the other facts). The
-- row of record is the latest duplicate (else the original); `first_issue_date` is the
-- original's issue date (the duplicate's when the original was never loaded): the training
-- happened then, so every time window (the last three years, 12 months after a diagnostic)
-- uses it. The same document delivered in two files counts once (the latest loaded file).
-- Programmes are classified by their normalised name against the seed ref_dpo_programmes;
-- an unknown name is `не классифицирована`, kept and listed in marts.dpo_unclassified_programmes.

with documents as (

    select * from {{ ref('stg_dpo') }}
    where staff_key is not null and registration_number is not null

),

files as (

    select file_id, loaded_at from {{ ref('stg_file_registry') }}

),

programmes as (

    select
        {{ dpo_programme_key('programme_name') }}           as programme_name_key,
        min(programme_code)                                 as programme_code,
        min(diagnostic)                                     as programme_diagnostic,
        min(subject_code)                                   as programme_subject_code,
        min(blocks)                                         as programme_blocks
    from {{ ref('ref_dpo_programmes') }}
    group by all

),

versions as (

    select
        documents.*,
        files.loaded_at as file_loaded_at,
        row_number() over (
            partition by documents.staff_key, documents.registration_number
            order by documents.is_duplicate desc, documents.issue_date desc,
                     files.loaded_at desc nulls last, documents._file_id desc,
                     documents._source_line desc)                          as version_rank,
        coalesce(
            min(documents.issue_date) filter (where not documents.is_duplicate) over (
                partition by documents.staff_key, documents.registration_number),
            min(documents.issue_date) over (
                partition by documents.staff_key, documents.registration_number))
                                                                              as first_issue_date,
        count(distinct coalesce(documents.document_key, '') || documents.document_status) over (
            partition by documents.staff_key, documents.registration_number) as n_versions,
        bool_or(documents.is_duplicate) over (
            partition by documents.staff_key, documents.registration_number) as has_duplicate
    from documents
    left join files on files.file_id = documents._file_id

),

final as (

    select
        md5('dpo:' || v.staff_key || ':' || v.registration_number)::varchar   as dpo_document_id,
        {{ academic_year_of_date('v.first_issue_date') }}::integer             as academic_year,
        v.staff_key::varchar                                                   as staff_key,
        v.registration_number::varchar                                         as registration_number,
        v.first_issue_date::date                                               as first_issue_date,
        v.issue_date::date                                                     as issue_date,
        v.document_status::varchar                                             as document_status,
        v.has_duplicate::boolean                                               as has_duplicate,
        v.n_versions::integer                                                  as n_versions,
        v.document_kind::varchar                                               as document_kind,
        v.programme_kind::varchar                                              as programme_kind,
        v.programme_name::varchar                                              as programme_name,
        v.programme_name_key::varchar                                          as programme_name_key,
        coalesce(p.programme_code, 'не классифицирована')::varchar             as programme_code,
        (p.programme_code is not null)::boolean                                as is_classified,
        p.programme_diagnostic::varchar                                        as programme_diagnostic,
        p.programme_subject_code::varchar                                      as programme_subject_code,
        coalesce(p.programme_blocks, 'не классифицирована')::varchar           as programme_blocks,
        v.hours::integer                                                       as hours,
        v.start_year::integer                                                  as start_year,
        v.end_year::integer                                                    as end_year,
        v.birth_year::integer                                                  as birth_year,
        v.sex::varchar                                                         as sex,
        v.study_form::varchar                                                  as study_form,
        v.funding_source::varchar                                              as funding_source,
        v._file_id::varchar                                                    as _file_id,
        v._source_line::integer                                                as _source_line
    from versions as v
    left join programmes as p on p.programme_name_key = v.programme_name_key
    where v.version_rank = 1

)

select * from final
