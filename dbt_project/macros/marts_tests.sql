{#- Small-cell rule of the marts (marts.md «Small cells»): every row whose group has fewer
    than `rsoko:min_cell_size` participants (`count_column`) exposes none of `columns`
    (rates and means: all NULL) and has is_suppressed = true; rows at or above the size are
    not marked suppressed. Every returned row is a violation. Usage:
      data_tests:
        - marts_small_cells_suppressed:
            arguments:
              columns: [mean_score, pct_below_level_2]
-#}
{% test marts_small_cells_suppressed(model, columns, count_column='participants') %}
select *
from {{ model }}
where ({{ marts_is_suppressed(count_column) }}
       and (not is_suppressed
            {%- for c in columns %} or {{ c }} is not null{% endfor %}))
   or (not {{ marts_is_suppressed(count_column) }} and is_suppressed)
{% endtest %}

{#- Territory level consistency: `level` region/municipality/school with municipality_code
    and school_code NULL exactly above their level. -#}
{% test marts_level_codes(model) %}
select *
from {{ model }}
where not (
       (level = 'region' and municipality_code is null and school_code is null)
    or (level = 'municipality' and municipality_code is not null and school_code is null)
    or (level = 'school' and municipality_code is not null and school_code is not null)
)
{% endtest %}
