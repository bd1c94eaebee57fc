{#-
  Sample studies (НИКО) in the levelled marts (marts.md «procedure»): a sample is shown for
  the region, for a municipality only with at least `sample_min_participants_municipality`
  participants (reference.ref_sample_rules, via core.dim_procedure), and never for a school
  (a sample does not rank schools).

    marts_sample_published(t, p, participants)
        true when the levelled row `t` (with `t.level`) of procedure row `p` (dim_procedure)
        may be published; `participants` is the row's participant count (results of record of
        the procedure × subject × grade in the territory).
-#}
{% macro marts_sample_published(t, p, participants) -%}
    (not coalesce({{ p }}.is_sample, false)
     or {{ t }}.level = 'region'
     or ({{ t }}.level = 'municipality'
         and coalesce({{ participants }}, 0) >= {{ p }}.sample_min_participants_municipality)
     or ({{ t }}.level = 'school' and {{ p }}.school_level_published))
{%- endmacro %}
