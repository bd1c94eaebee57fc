{#- Staging bodies shared by twin sources: ЕГЭ/ОГЭ result sheets have one layout, and so
    have ВПР/РПР/НИКО forms and their task tables. Each stg_* model keeps its own config and
    calls one of these with its source and procedure. -#}

{#- The subject names of a ФИС ОКО procedure's titles (vpr_subject → subject_code): ВПР and
    РПР use ref_subjects.vpr_subject, НИКО its own list ref_niko_subjects (subjects outside
    the ВПР list occur). -#}
{% macro staging_check_subjects(procedure) -%}
{%- if procedure == 'NIKO' -%}
    select subject_code, niko_subject as vpr_subject from {{ ref('ref_niko_subjects') }}
{%- else -%}
    select subject_code, vpr_subject from {{ ref('ref_subjects') }}
    where vpr_subject is not null
{%- endif -%}
{%- endmacro %}

{% macro staging_gia_results(source_name, procedure, grade, has_test_score) %}
with source as (

    select * from {{ released_rows(source_name) }}
    where {{ in_build_scope() }}

),

gia_subjects as (

    select * from {{ ref('ref_gia_subjects') }}
    where procedure = '{{ procedure }}'

),

renamed as (

    select
        source.academic_year,
        '{{ procedure }}'                                      as source_procedure,
        gia_subjects.exam_kind                             as procedure,
        {{ clean_code('source.source_subject_code') }}     as source_subject_code,
        gia_subjects.subject_code,
        gia_subjects.result_kind,
        {{ clean_text('source.subject_name') }}            as subject_name,
        source.exam_date,
        {{ grade }}                                       as grade,
        {{ clean_code('source.row_no') }}                  as row_no,
        {{ clean_code('source.msu_code') }}                as msu_code,
        {{ clean_code('source.gia_school_code') }}         as gia_school_code,
        upper({{ clean_text('source.class_name') }})       as class_name,
        {{ clean_code('source.ppe_code') }}                as ppe_code,
        {{ clean_code('source.room') }}                    as room,
        source.participant_key,
        nullif(replace(trim(source.short_answers), ' ', ''), '')    as short_answers,
        nullif(replace(trim(source.extended_answers), ' ', ''), '') as extended_answers,
        source.primary_score_written,
        source.primary_score_oral,
        source.primary_score,
        {{ 'source.test_score' if has_test_score else 'null::integer' }} as test_score,
        source.mark,
        {{ clean_text('source.status') }}                  as status_raw,
        case
            when {{ clean_text('source.status') }} is null then 'ok'
            when lower(replace(trim(source.status), 'ё', 'е')) like 'удал%' then 'removed'
            when lower(trim(source.status)) like 'аннул%' then 'annulled'
            else 'unknown'
        end                                                as result_status,
        source._file_id,
        source._source_line,
        source._slice

    from source
    left join gia_subjects
        on gia_subjects.source_subject_code = {{ clean_code('source.source_subject_code') }}

)

select * from renamed
{% endmacro %}


{% macro staging_check_works(source_name, procedure, has_journal_mark=true) %}
with source as (

    select * from {{ released_rows(source_name) }}
    where {{ in_build_scope() }}

),

subjects as (

    {{ staging_check_subjects(procedure) }}

),

renamed as (

    select
        source.academic_year,
        '{{ procedure }}'                                      as procedure,
        {{ clean_text('source.subject_name') }}            as subject_name,
        subjects.subject_code,
        source.grade,
        source.max_primary_score,
        {{ clean_text('source.msu_name') }}                as msu_name,
        lower({{ clean_code('source.fis_login') }})        as fis_login,
        {{ clean_text('source.school_name') }}             as school_name,
        {{ clean_code('source.participant_code') }}        as participant_code,
        upper({{ clean_text('source.class_name') }})       as class_name,
        source.variant,
        list_transform(source.task_scores,
            lambda x: nullif(upper(replace(trim(x), 'Х', 'X')), ''))  as task_scores,
        source.primary_score,
        source.mark,
{%- if has_journal_mark %}
        source.journal_mark,
        {{ clean_text('source.journal_mark_raw') }}        as journal_mark_raw,
{%- else %}
        null::integer                                      as journal_mark,
        null::varchar                                      as journal_mark_raw,
{%- endif %}
        'ok'                                               as result_status,
        source._file_id,
        source._source_line,
        source._slice

    from source
    left join subjects
        on lower(subjects.vpr_subject) = lower({{ clean_text('source.subject_name') }})

)

select * from renamed
{% endmacro %}


{% macro staging_check_tasks(source_name, procedure) %}
with source as (

    select * from {{ released_rows(source_name) }}
    where {{ in_build_scope() }}

),

subjects as (

    {{ staging_check_subjects(procedure) }}

),

renamed as (

    select
        source.academic_year,
        '{{ procedure }}'                                      as procedure,
        {{ clean_text('source.subject_name') }}            as subject_name,
        subjects.subject_code,
        source.grade,
        source.task_order,
        {{ clean_code('source.task') }}                    as task,
        source.max_points,
        upper({{ clean_code('source.task_level') }})       as task_level,
        source.source_header,
        source._file_id,
        source._source_line,
        source._slice

    from source
    left join subjects
        on lower(subjects.vpr_subject) = lower({{ clean_text('source.subject_name') }})

)

select * from renamed
{% endmacro %}
