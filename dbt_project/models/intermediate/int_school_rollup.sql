{{ config(materialized='table', schema='intermediate') }}

-- Reorganisation roll-up: every school code ever seen → the school that currently carries
-- its results, following `successor_code` transitively (A → B → C gives A ↦ C). The
-- successor link of a school is taken from the latest registry year that names one.
-- A chain is followed for at most 50 steps (cycles in the registry stop there and are
-- reported by the test on `is_cycle`); a successor that is in no registry is not followed.

with recursive schools as (

    select * from {{ ref('stg_schools') }}

),

nodes as (

    select distinct school_code from schools where school_code is not null

),

edges as (

    -- a successor that is in no registry (the ingest warns: schools.successor_known_in_registry)
    -- is not followed: results roll up only to a school the registries know
    select
        school_code,
        arg_max(successor_code, academic_year) as successor_code
    from schools
    where status_code = 'reorganised' and successor_code is not null
      and successor_code <> school_code
      and successor_code in (select school_code from nodes)
    group by school_code

),

chain as (

    select school_code, school_code as current_school_code, 0 as depth,
           [school_code] as path
    from nodes

    union all

    select chain.school_code, edges.successor_code, chain.depth + 1,
           list_append(chain.path, edges.successor_code)
    from chain
    join edges on edges.school_code = chain.current_school_code
    where chain.depth < 50
      and not list_contains(chain.path, edges.successor_code)

),

resolved as (

    select
        school_code,
        arg_max(current_school_code, depth)   as current_school_code,
        max(depth)                            as rollup_depth,
        arg_max(path, depth)                  as rollup_path
    from chain
    group by school_code

),

final as (

    select
        resolved.school_code,
        resolved.current_school_code,
        resolved.rollup_depth,
        array_to_string(resolved.rollup_path, ' → ')      as rollup_path,
        -- the end of the chain still names a successor: the chain loops back
        (edges.successor_code is not null)                 as is_cycle
    from resolved
    left join edges on edges.school_code = resolved.current_school_code

)

select * from final
