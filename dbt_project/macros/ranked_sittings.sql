{#- The CTEs `repeated_keys`, `marked` and `ranked` that rank the sittings of one key (a
    participant's results of one subject): `ranked` is every row of `source_cte` with
    sitting_rank (1 = the latest by `order_by`) and n_sittings, both NULL where reject_reason
    is set. Usage, inside a `with`:  {{ ranked_sittings('attached', [...], '...') }},

    Re-sittings are a small share of the rows, so only the rows whose key occurs more than
    once go through the window; every other attachable row is its key's only sitting. One
    window over all 42M ВПР works of tier F took 450 s, spilling the wide rows (task cells
    included) to disk; on tier M this way is 6× faster. Keys are compared by a 64-bit
    hash; a collision only sends a few more rows through the window, which partitions by the
    real columns, so the result is exact. `source_cte` should be NOT MATERIALIZED (it is read
    twice; recomputing its joins is cheaper than storing its rows).
-#}
{% macro ranked_sittings(source_cte, key_columns, order_by) -%}
{%- set keys = key_columns | join(', ') -%}
repeated_keys as materialized (

    select hash({{ keys }}) as sitting_key_hash
    from {{ source_cte }}
    where reject_reason is null
    group by sitting_key_hash
    having count(*) > 1

),

marked as not materialized (

    select
        *,
        reject_reason is null
        and hash({{ keys }}) in (select sitting_key_hash from repeated_keys) as is_repeated
    from {{ source_cte }}

),

ranked as (

    select
        * exclude (is_repeated),
        case when reject_reason is null then 1::bigint end  as sitting_rank,
        case when reject_reason is null then 1::bigint end  as n_sittings
    from marked
    where not is_repeated

    union all by name

    select
        * exclude (is_repeated),
        row_number() over (partition by {{ keys }} order by {{ order_by }}) as sitting_rank,
        count(*) over (partition by {{ keys }})                            as n_sittings
    from marked
    where is_repeated

)
{%- endmacro %}
