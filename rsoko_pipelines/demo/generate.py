"""Generate the whole demo region: every source, in parallel processes, plus the manifest.

Work is cut into units (a source, or a source × academic year where the source allows it)
and run in a process pool; each worker rebuilds the region from (tier, seed) — cheap and
deterministic — so nothing large crosses process boundaries. Every unit draws from its own
``region.rng`` streams, so the files do not depend on the number of workers or the order in
which units finish: the same tier and seed give byte-identical files and manifest.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import multiprocessing as mp
import os
import resource
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from rsoko_pipelines.demo.file_names import deliver_twice, rename_freely
from rsoko_pipelines.demo.manifest import FileEntry, Manifest, build_manifest
from rsoko_pipelines.demo.profiles import get_profile
from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.region import Region, build_region

log = logging.getLogger(__name__)

ALL_SOURCES = ("schools", "ege", "oge", "vpr", "rpr", "olympiad", "literacy",
               # directions 6 and 7 (issue 17)
               "staff", "dpo", "deficits", "nokuod")
ALL_SOURCES += ("measures",)                      # issue 19: the register of measures
# directions 4 and 9, НИКО and surveys (issue 18)
ALL_SOURCES += ("niko", "population", "career", "survey", "graduates", "additional_ed")

# source -> (module, function, extra kwargs); per_year: the function accepts ``years``
_SOURCES: dict[str, tuple[str, str, dict]] = {
    "schools": ("rsoko_pipelines.demo.schools", "generate_schools", {}),
    "ege": ("rsoko_pipelines.demo.gia", "generate_gia", {"procedure": "EGE"}),
    "oge": ("rsoko_pipelines.demo.gia", "generate_gia", {"procedure": "OGE"}),
    "vpr": ("rsoko_pipelines.demo.vpr", "generate_vpr", {"procedure": "VPR"}),
    "rpr": ("rsoko_pipelines.demo.vpr", "generate_vpr", {"procedure": "RPR"}),
    "olympiad": ("rsoko_pipelines.demo.olympiad", "generate_olympiad", {}),
    "literacy": ("rsoko_pipelines.demo.literacy", "generate_literacy", {}),
    # directions 6 and 7 (issue 17); staff, dpo and deficits share one staff model
    # (demo/staff_model.py), so each is one unit (not one per year)
    "staff": ("rsoko_pipelines.demo.staff", "generate_staff", {}),
    "dpo": ("rsoko_pipelines.demo.dpo", "generate_dpo", {}),
    "deficits": ("rsoko_pipelines.demo.deficits", "generate_deficits", {}),
    "nokuod": ("rsoko_pipelines.demo.nokuod", "generate_nokuod", {}),
    # issue 19: the register of measures
    "measures": ("rsoko_pipelines.demo.measures", "generate_measures", {}),
    # directions 4 and 9, НИКО and surveys (issue 18)
    "niko": ("rsoko_pipelines.demo.niko", "generate_niko", {}),
    "population": ("rsoko_pipelines.demo.population", "generate_population", {}),
    "career": ("rsoko_pipelines.demo.career", "generate_career", {}),
    "survey": ("rsoko_pipelines.demo.survey", "generate_survey", {}),
    "graduates": ("rsoko_pipelines.demo.graduates", "generate_graduates", {}),
    "additional_ed": ("rsoko_pipelines.demo.additional_ed", "generate_additional_ed", {}),
}
# rough relative cost, to start the big units first
_COST = {"vpr": 100, "rpr": 20, "oge": 12, "olympiad": 8, "ege": 4, "literacy": 2, "schools": 1,
         "dpo": 6, "deficits": 5, "staff": 5, "nokuod": 1}
_COST["measures"] = 1
_COST.update({"survey": 15, "additional_ed": 6, "niko": 3, "graduates": 2, "career": 1,
              "population": 1})   # issue 18


@dataclass
class UnitResult:
    source: str
    years: list[int] | None
    records: list[FileRecord]
    entries: list[FileEntry]
    seconds: float
    peak_rss_mb: float


@dataclass
class SourceStats:
    files: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    units: int = 0
    skipped: str = ""
    extra: dict = field(default_factory=dict)


_REGIONS: dict[tuple, Region] = {}


def _region(tier: str, seed: int, n_schools: int | None, profile: str = "default") -> Region:
    key = (tier, seed, n_schools, profile)
    if key not in _REGIONS:
        _REGIONS[key] = build_region(tier, seed, n_schools=n_schools, profile=profile)
    return _REGIONS[key]


def _function(source: str):
    module, name, _ = _SOURCES[source]
    return getattr(importlib.import_module(module), name)


def _available(source: str) -> str:
    """'' if the source's generator can be imported, else the reason."""
    module, name, _ = _SOURCES[source]
    try:
        if importlib.util.find_spec(module) is None:
            return f"module {module} not found"
        if not hasattr(importlib.import_module(module), name):
            return f"{module}.{name} not found"
    except Exception as exc:  # noqa: BLE001 - a broken parallel module must not stop the rest
        return f"{module} failed to import: {exc!r}"
    return ""


def _per_year(source: str) -> bool:
    if source == "schools":
        return False
    params = inspect.signature(_function(source)).parameters
    return "years" in params


def run_unit(tier: str, seed: int, n_schools: int | None, source: str,
             years: list[int] | None, out: str, profile: str = "default") -> UnitResult:
    """Generate one unit (in whatever process this runs) and checksum its files."""
    started = time.perf_counter()
    region = _region(tier, seed, n_schools, profile)
    fn = _function(source)
    kwargs = dict(_SOURCES[source][2])
    params = inspect.signature(fn).parameters
    if years is not None and "years" in params:
        kwargs["years"] = years
    if "workers" in params:
        kwargs["workers"] = 1
    out_dir = Path(out)
    records = list(fn(region, out_dir, **kwargs))
    if region.profile.free_file_names:
        records = rename_freely(records, out_dir, region.rng("file names", source, *(years or [])))
    if (region.profile.duplicate_delivery and source == "olympiad" and records
            and records[-1].academic_year == region.years[-1]):
        records.append(deliver_twice(records[-1], out_dir))
    entries = [FileEntry.from_record(r, out_dir) for r in records]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return UnitResult(source, years, records, entries, time.perf_counter() - started, rss)


def _delivered_years(region: Region, source: str) -> list[int]:
    """The years in which the region's profile delivers ``source``."""
    return [y for y in region.years if region.profile.delivers(source, y, region.years)]


def _units(region: Region, sources: list[str]) -> list[tuple[str, list[int] | None]]:
    units: list[tuple[str, list[int] | None]] = []
    for source in sources:
        years = _delivered_years(region, source)
        if _per_year(source) and (len(region.years) > 1 or years != region.years):
            units.extend((source, [y]) for y in years)
        else:
            units.append((source, None))
    return sorted(units, key=lambda u: -_COST.get(u[0], 1))


def _parse_sources(sources) -> list[str]:
    if sources is None:
        return list(ALL_SOURCES)
    if isinstance(sources, str):
        sources = [s for s in sources.replace(" ", "").split(",") if s]
    unknown = [s for s in sources if s not in _SOURCES]
    if unknown:
        raise ValueError(f"unknown sources {unknown}; known: {', '.join(ALL_SOURCES)}")
    return [s for s in ALL_SOURCES if s in sources]


def generate(tier: str = "S", seed: int = 20250607, out: Path | str = Path("var/inbox"),
             sources=None, workers: int = 2, n_schools: int | None = None,
             quiet: bool = False, profile: str = "default") -> Manifest:
    """Generate the demo region into ``out`` and write ``out/manifest.json``.

    ``sources``: a list or comma-separated string (default: all). Sources whose generator
    module is not available are skipped with a warning. ``workers`` ≤ 1 runs everything in
    this process. ``n_schools`` shrinks the tier (tests). ``profile``: ``default`` or
    ``variant`` (a second region that differs in every way the contract allows, see
    ``demo/profiles.py``); a source the profile never delivers is skipped.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console(quiet=quiet, stderr=False)
    started = time.perf_counter()
    out_dir = Path(out).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tier = tier.upper()
    profile = get_profile(profile).name
    region = _region(tier, seed, n_schools, profile)
    wanted = _parse_sources(sources)
    stats: dict[str, SourceStats] = {s: SourceStats() for s in wanted}
    runnable = []
    for source in wanted:
        reason = _available(source)
        if not reason and not _delivered_years(region, source):
            reason = f"not delivered in the {profile} profile"
        if reason:
            stats[source].skipped = reason
            log.warning("demo source %s skipped: %s", source, reason)
            console.print(f"[yellow]skipping {source}: {reason}[/yellow]")
        else:
            runnable.append(source)
    units = _units(region, runnable)
    n_sch = int((region.schools["academic_year"] == region.years[-1]).sum())
    console.print(f"[bold]Demo region[/bold] tier {tier}, seed {seed}, profile {profile}, "
                  f"{n_sch} schools, years {region.years} → {out_dir}")

    results: list[UnitResult] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("generating", total=len(units))

        def done(res: UnitResult) -> None:
            results.append(res)
            label = res.source + (f" {res.years[0]}" if res.years else "")
            progress.console.print(f"  {label}: {len(res.records)} files, "
                                   f"{sum(r.rows for r in res.records):,} rows, {res.seconds:.1f} s")
            progress.advance(task)

        args = [(tier, seed, n_schools, s, y, str(out_dir), profile) for s, y in units]
        if workers <= 1 or len(units) <= 1:
            for a in args:
                done(run_unit(*a))
        else:
            # one BLAS/OpenMP thread per worker: the workers already fill the cores
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(var, "1")
            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                pending = {pool.submit(run_unit, *a) for a in args}
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        done(fut.result())

    records = [r for res in results for r in res.records]
    entries = [e for res in results for e in res.entries]
    manifest = build_manifest(region, records, entries)
    manifest.write(out_dir)

    for res in results:
        st = stats[res.source]
        st.units += 1
        st.seconds += res.seconds
        st.files += len(res.entries)
        st.rows += sum(e.rows for e in res.entries)
        st.bytes += sum(e.bytes for e in res.entries)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    peak_unit = max((r.peak_rss_mb for r in results), default=0.0)

    table = Table(title=f"Demo region {tier}/{seed}: {out_dir}")
    for col in ("source", "files", "rows", "MB", "seconds"):
        table.add_column(col, justify="left" if col == "source" else "right")
    for source, st in stats.items():
        if st.skipped:
            table.add_row(source, "-", "-", "-", f"skipped: {st.skipped}")
        else:
            table.add_row(source, f"{st.files:,}", f"{st.rows:,}", f"{st.bytes / 1e6:,.1f}",
                          f"{st.seconds:.1f}")
    total_files = sum(s.files for s in stats.values())
    table.add_row("[bold]total[/bold]", f"{total_files:,}", f"{sum(s.rows for s in stats.values()):,}",
                  f"{sum(s.bytes for s in stats.values()) / 1e6:,.1f}",
                  f"{time.perf_counter() - started:.1f} wall")
    console.print(table)
    t = manifest.truths
    console.print(
        f"planted: {len(t['low_results_schools'])} low-results, {len(t['resilient_schools'])} "
        f"resilient, {len(t['vpr_inflating_schools'])} ВПР-inflating school-years; "
        f"{len(t['reorganised_schools'])} reorganised, {len(t['liquidated_schools'])} liquidated "
        f"rows; ГИА re-takes {t['gia_retakes']}, removed {t['gia_removed']}, "
        f"annulled {t['gia_annulled']}; leaked answers {len(t.get('vpr_leaked_answers', []))}, "
        f"ВПР not confirmed {len(t.get('vpr_not_confirmed_schools', []))}, inflating look-alikes "
        f"{len(t.get('vpr_inflating_lookalikes', []))}, generous olympiad stages "
        f"{len(t.get('olympiad_generous_schools', []))} school-years")
    cycle = t.get("management_cycle") or {}
    if cycle.get("measures"):
        console.print(f"planted management cycle: {len(cycle['measures'])} measures; effect "
                      f"groups in {cycle['effect_year'] or 'no year with t−1 and t+1'}: "
                      + ", ".join(f"{e['role']} {len(e['schools'])}" for e in cycle["effects"]))
    console.print(f"peak RSS: main {peak_self:,.0f} MB, largest worker {max(peak_child, peak_unit):,.0f} MB")
    manifest.stats = stats  # type: ignore[attr-defined]  # run figures, not written to disk
    return manifest
