"""One landing asset per raw source, partitioned by academic year.

Each materialisation ingests the new or changed files of `<inbox>/<source>/<year>/`
(rsoko_pipelines.ingest.landing) and reports a **blocking** Great Expectations check:
it fails when a file of this run was quarantined, so nothing downstream runs on a night
with a broken extract, while what was loaded and published before stays as it was.
"""


import dagster as dg
from dagster import AssetExecutionContext

from rsoko_pipelines.partitions import ACADEMIC_YEARS, WAREHOUSE_POOL
from rsoko_pipelines.settings import SOURCES

SOURCE_SYSTEMS = {
    "schools": "Региональный реестр ОО / regional school registry",
    "ege": "РИС ГИА: ведомости ЕГЭ / regional exam system, ЕГЭ result sheets",
    "oge": "РИС ГИА: ведомости ОГЭ и ГВЭ / regional exam system, ОГЭ and ГВЭ result sheets",
    "vpr": "ФИС ОКО: индивидуальные результаты ВПР / federal system, ВПР results",
    "rpr": "ФИС ОКО (региональные работы): РПР / regional check works",
    "olympiad": "Региональная система ВсОШ / olympiad system",
    "literacy": "Региональная оценка функциональной грамотности / literacy assessment",
    # directions 4 and 9, НИКО and surveys (issue 18)
    "niko": "ФИС ОКО: индивидуальные результаты НИКО (выборка) / federal system, НИКО sample study results",
    "population": "Росстат: численность детей по возрасту и МСУ / Rosstat, children by age and municipality",
    "career": "Профориентация и профильное обучение по ОО / career guidance and profile classes per school",
    "survey": "Региональная платформа анкетирования / regional survey platform",
    "graduates": "МСУ: продолжение образования выпускников 9 и 11 классов / municipalities, graduate destinations",
    "additional_ed": "Навигатор дополнительного образования детей / regional additional-education navigator",
}
CHECK_NAME = "great_expectations"


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def build_raw_asset(source: str) -> dg.AssetsDefinition:
    key = raw_key(source)

    @dg.asset(
        key=key,
        partitions_def=ACADEMIC_YEARS,
        pool=WAREHOUSE_POOL,
        group_name="raw",
        kinds={"duckdb", "python"},
        deps=[] if source == "schools" else [raw_key("schools")],
        description=f"Landing table(s) `raw.{source}*` from `<inbox>/{source}/<year>/`. "
                    f"Source system: {SOURCE_SYSTEMS[source]}.",
        metadata={"source_system": SOURCE_SYSTEMS[source]},
        check_specs=[dg.AssetCheckSpec(
            CHECK_NAME, asset=key, blocking=True,
            description=f"Great Expectations suite expectations/{source}.json on every new "
                        "file; a failing file is quarantined and this check fails.")],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
        backfill_policy=dg.BackfillPolicy.multi_run(1),
    )
    def _raw_asset(context: AssetExecutionContext):
        from rsoko_pipelines.ingest.dagster_io import materialize_partition

        return materialize_partition(context, source, int(context.partition_key))

    return _raw_asset


def build_raw_assets() -> list[dg.AssetsDefinition]:
    return [build_raw_asset(source) for source in SOURCES]
