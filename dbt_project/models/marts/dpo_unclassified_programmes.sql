{{ config(materialized='table', schema='marts') }}

-- Direction 7, for the analyst: the ДПО programme names the seed ref_dpo_programmes does not
-- classify (`не классифицирована`), per academic year of first issue, with how often they
-- occur — the list to extend the seed from (add a row with the name as written here). Names
-- are grouped by their normalised form (case, quotes, «ё», spaces, punctuation ignored).
-- The night's summary counts its rows of the latest year (see docs/sources/staff_dpo_deficits.md).

with documents as (

    select * from {{ ref('fct_dpo_document') }}
    where not is_classified

),

final as (

    select
        academic_year::integer                                                as academic_year,
        {{ academic_year_label('academic_year') }}::varchar                   as academic_year_label,
        programme_name_key::varchar                                           as programme_name_key,
        min(programme_name)::varchar                                          as programme_name_example,
        count(distinct programme_name)::bigint                                as n_spellings,
        count(*)::bigint                                                      as n_documents,
        count(distinct staff_key)::bigint                                     as n_persons,
        any_value(programme_kind)::varchar                                    as programme_kind,
        min(first_issue_date)::date                                           as first_issue_date,
        max(first_issue_date)::date                                           as last_issue_date
    from documents
    group by academic_year, programme_name_key

)

select * from final
