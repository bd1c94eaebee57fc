{{ config(materialized='ephemeral') }}

-- Functional literacy.
-- One part of marts.indicators (see indicators.sql): indicator_code, territory, numerator,
-- denominator, value (unsuppressed) and cell_n, the group size of the small-cell rule (NULL:
-- not a participant-based value).

with literacy_counts as (

    select
        academic_year,
        {{ marts_level_columns() }},
        count(*)                                                                              as lit_n,
        count(*) filter (where is_below_level_2)                                              as lit_below2
    from {{ ref('fct_literacy_result') }}
    group by {{ marts_level_grouping_sets(['academic_year']) }}

),

final (indicator_code, academic_year, level, municipality_code, school_code,
       numerator, denominator, value, cell_n) as (

    select 'LIT_BELOW2_PCT', academic_year, level, municipality_code, school_code,
           lit_below2, lit_n, {{ marts_pct('lit_below2', 'lit_n') }}, lit_n
    from literacy_counts where lit_n > 0

)

select * from final
