{{ config(materialized='ephemeral') }}

-- One row per enrolled child × focus it counts in: «все» (focus_code 'all') for every child,
-- and one row per направленность it is enrolled in. A child is one row of
-- int_enrolled_children per year (its tested grain) with one municipality, one school and
-- distinct focus codes, so counting rows of a group counts unique children, at any level.
-- (count(distinct child_key) gave the same numbers but held every key per group: over 23 GB
-- of spill at tier F.) Shared by additional_ed_coverage and additional_ed_schools.

with children as (

    select * from {{ ref('int_enrolled_children') }}

)

select academic_year, msu_code, school_code, age, is_ovz,
       'all' as focus_code, is_certificate_funded
from children
union all
select academic_year, msu_code, school_code, age, is_ovz,
       f.focus_code, list_contains(certificate_focus_codes, f.focus_code)
from children, unnest(focus_codes) as f(focus_code)
