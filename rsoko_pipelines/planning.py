"""What tonight's load has to do: which source × academic-year partitions have new or
changed files, and whether the reference data changed.

Shared by `rsoko nightly`, the 02:00 schedule and the inbox sensor, so all three request
exactly the same work. The state lives in the Dagster instance, not in the warehouse
(the warehouse may be locked by a running load): every `nightly_load` run is tagged with
a fingerprint of each inbox folder it loaded (`rsoko/inbox_<source>`) and, when it loaded
the reference seeds, with their fingerprint (`rsoko/seeds`). A folder is up to date when a
*successful* run of its year carries its current fingerprint. So:
- a quiet night (same files, same sizes and mtimes) plans nothing and materialises nothing;
- a failed run (a quarantined file, a dbt error) leaves its folders stale, and the next
  night retries them; a quarantined file has left the inbox, so the retry loads the rest;
- a file that arrives while a run is going is not in that run's fingerprint: next night.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from rsoko_pipelines.settings import SEEDS_DIR, SOURCES, Settings

NIGHTLY_JOB = "nightly_load"
PUBLISH_JOB = "publish_marts"
SEEDS_TAG = "rsoko/seeds"
PARTITION_TAG = "dagster/partition"
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
             dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
TRANSFORM_GROUPS = ("staging", "intermediate", "core")


def inbox_tag(source: str) -> str:
    return f"rsoko/inbox_{source}"


def _fingerprint(entries) -> str:
    digest = hashlib.sha256()
    for entry in sorted(entries):
        digest.update("\0".join(map(str, entry)).encode() + b"\n")
    return digest.hexdigest()[:20]


def folder_fingerprint(folder: Path) -> str | None:
    """Names, sizes and mtimes of every file under the folder (no hashing: a quiet night
    costs one `stat` per file). None when the folder is missing or empty."""
    if not folder.is_dir():
        return None
    entries = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            stat = path.stat()
            entries.append((path.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns))
    return _fingerprint(entries) if entries else None


def seeds_fingerprint(seeds_dir: Path = SEEDS_DIR) -> str:
    """Content hash of the reference seeds (they change with a deploy, not with mtimes)."""
    entries = [(p.relative_to(seeds_dir).as_posix(),
                hashlib.sha256(p.read_bytes()).hexdigest())
               for p in seeds_dir.rglob("*") if p.is_file() and p.suffix in (".csv", ".yml")]
    return _fingerprint(entries)


def inbox_fingerprints(settings: Settings) -> dict[str, dict[str, str]]:
    """{academic year: {source: fingerprint}} for every non-empty `<inbox>/<source>/<year>/`."""
    found: dict[str, dict[str, str]] = {}
    for source in SOURCES:
        base = settings.inbox_dir / source
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            if folder.is_dir() and folder.name.isdigit() and len(folder.name) == 4:
                fingerprint = folder_fingerprint(folder)
                if fingerprint:
                    found.setdefault(folder.name, {})[source] = fingerprint
    return found


@dataclass
class YearPlan:
    academic_year: str
    sources: dict[str, str]          # source → fingerprint of its changed inbox folder
    rebuild: bool = False            # every model of the year (the seeds changed since)
    reference: bool = False          # the reference seeds load first, in this run

    def tags(self, seeds: str) -> dict[str, str]:
        """Every run is tagged with the seeds it was built against."""
        return {SEEDS_TAG: seeds, **{inbox_tag(s): fp for s, fp in self.sources.items()}}

    def run_key(self, seeds: str) -> str:
        return f"{self.academic_year}:" + _fingerprint([*self.sources.items(), ("seeds", seeds)])


@dataclass
class NightPlan:
    years: list[YearPlan] = field(default_factory=list)
    seeds: str = ""
    in_flight: list[str] = field(default_factory=list)   # years with a run already going

    @property
    def empty(self) -> bool:
        return not self.years

    @property
    def reference_stale(self) -> bool:
        return any(y.reference for y in self.years)

    def describe(self) -> str:
        if self.empty:
            return "nothing new in the inbox"
        parts = []
        for y in self.years:
            what = ", ".join(sorted(y.sources)) or "no new files"
            extra = (" + reference data" if y.reference else "") + (
                " (all models: reference data changed)" if y.rebuild else "")
            parts.append(f"{y.academic_year}: {what}{extra}")
        return "; ".join(parts)


def _succeeded_with(instance: dg.DagsterInstance, tags: dict[str, str]) -> bool:
    return bool(instance.get_run_ids(
        filters=dg.RunsFilter(job_name=NIGHTLY_JOB, statuses=[dg.DagsterRunStatus.SUCCESS],
                              tags=tags), limit=1))


def plan_night(instance: dg.DagsterInstance, settings: Settings) -> NightPlan:
    """The partitions (and reference data) the next load must process.

    A year is rebuilt whole when no successful run of it was built against the current
    seeds (first load, or a deploy changed a score scale or a mark boundary); otherwise
    only its changed sources and their downstream models run."""
    seeds = seeds_fingerprint()
    plan = NightPlan(seeds=seeds)
    reference_stale = not _succeeded_with(instance, {SEEDS_TAG: seeds})
    for year, sources in sorted(inbox_fingerprints(settings).items()):
        if instance.get_run_ids(filters=dg.RunsFilter(
                job_name=NIGHTLY_JOB, statuses=IN_FLIGHT, tags={PARTITION_TAG: year}), limit=1):
            plan.in_flight.append(year)
            continue
        rebuild = not _succeeded_with(instance, {PARTITION_TAG: year, SEEDS_TAG: seeds})
        stale = {source: fp for source, fp in sources.items()
                 if not _succeeded_with(instance, {PARTITION_TAG: year, inbox_tag(source): fp})}
        if stale or rebuild:
            plan.years.append(YearPlan(year, stale, rebuild=rebuild))
    if reference_stale and plan.years and not plan.in_flight:
        plan.years[0].reference = True   # runs first; later years find the seeds loaded
    return plan


def still_needed(instance: dg.DagsterInstance, year: YearPlan, seeds: str) -> bool:
    """Re-checked just before a year runs: an overlapping `rsoko nightly` (or the daemon)
    may have started or finished the same work since this night's plan was made."""
    if instance.get_run_ids(filters=dg.RunsFilter(
            job_name=NIGHTLY_JOB, statuses=IN_FLIGHT,
            tags={PARTITION_TAG: year.academic_year}), limit=1):
        return False
    return not _succeeded_with(instance, {PARTITION_TAG: year.academic_year,
                                          **year.tags(seeds)})


def run_selection(year: YearPlan) -> dg.AssetSelection:
    """Assets of one year's run: the changed raw sources and every staging/intermediate/
    core model downstream of them; all models of the year when it is rebuilt; the reference
    seeds first when they changed. Raw assets of unchanged sources are not re-run (raw/schools
    is upstream of every other raw asset, so `downstream()` is restricted to the dbt layers)."""
    transform = dg.AssetSelection.groups(*TRANSFORM_GROUPS)
    raw = dg.AssetSelection.assets(*[dg.AssetKey(["raw", s]) for s in sorted(year.sources)])
    selection = transform if year.rebuild else raw.downstream() & transform
    selection = raw | selection
    if year.reference:
        selection = selection | dg.AssetSelection.groups("reference")
    return selection
