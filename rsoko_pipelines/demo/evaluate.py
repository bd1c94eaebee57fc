"""How well the marts find the truths planted in a demo region: recall and precision per
truth, from a database with the schema ``marts`` (the warehouse or a published version) and
the region's ``manifest.json``. Used by the planted-truth tests (tier S) and by
``rsoko demo evaluate`` (any profile, e.g. the ``variant`` region after a night).

Everything is counted per school-year. Where another planted non-objectivity makes a marker
fire rightly, that school-year is left out of the comparison («ignored»): an inflating
school shows task inversion or an unconfirmed ВПР now and then, and that is no false alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

Pair = tuple[int, str]


@dataclass
class Figure:
    name: str
    rule: str
    planted: set[Pair]
    predicted: set[Pair]
    ignored: set[Pair] = field(default_factory=set)

    @property
    def detected(self) -> set[Pair]:
        return self.predicted - (self.ignored - self.planted)

    @property
    def recall(self) -> float | None:
        return len(self.detected & self.planted) / len(self.planted) if self.planted else None

    @property
    def precision(self) -> float | None:
        return len(self.detected & self.planted) / len(self.detected) if self.detected else None

    def line(self) -> str:
        def f(x):
            return "  –  " if x is None else f"{x:.3f}"
        return (f"{self.name:34s} planted {len(self.planted):4d}  detected {len(self.detected):4d}  "
                f"recall {f(self.recall)}  precision {f(self.precision)}")


def _pairs(manifest: dict, key: str) -> set[Pair]:
    return {(int(d["academic_year"]), str(d["school_code"])) for d in manifest.get(key, [])}


def _query(con, sql: str) -> set[Pair]:
    return {(int(y), str(c)) for y, c in con.execute(sql).fetchall()}


def planted_figures(con, manifest: dict) -> dict[str, Figure]:
    """Recall and precision of every planted truth (see the module docstring)."""
    inflating = _pairs(manifest, "vpr_inflating_schools")
    leaked = _pairs(manifest, "vpr_leaked_answers")
    not_confirmed = _pairs(manifest, "vpr_not_confirmed_schools")
    figures = [
        Figure("ВПР objectivity (is_flagged)",
               "vpr_objectivity_schools.is_flagged vs inflating and not-confirmed schools; "
               "leaked-answers schools ignored",
               inflating | not_confirmed,
               _query(con, "SELECT academic_year, school_code FROM marts.vpr_objectivity_schools "
                           "WHERE is_flagged"), leaked),
        Figure("leaked answers (task inversion)",
               "a vpr_objectivity row with marker_task_inversion; inflating and not-confirmed "
               "schools ignored",
               leaked,
               _query(con, "SELECT DISTINCT academic_year, school_code FROM marts.vpr_objectivity "
                           "WHERE marker_task_inversion"), inflating | not_confirmed),
        Figure("ВПР not confirmed by the ОГЭ",
               "a vpr_objectivity row with marker_not_confirmed; inflating and leaked-answers "
               "schools ignored",
               not_confirmed,
               _query(con, "SELECT DISTINCT academic_year, school_code FROM marts.vpr_objectivity "
                           "WHERE marker_not_confirmed"), inflating | leaked),
        Figure("low results (is_low_results)", "low_results_schools.is_low_results",
               _pairs(manifest, "low_results_schools"),
               _query(con, "SELECT academic_year, school_code FROM marts.low_results_schools "
                           "WHERE is_low_results")),
        Figure("resilient (results_group)", "low_results_schools.results_group = 'резильентная'",
               _pairs(manifest, "resilient_schools"),
               _query(con, "SELECT academic_year, school_code FROM marts.low_results_schools "
                           "WHERE results_group = 'резильентная'")),
        Figure("olympiad school stage (is_flagged)", "olympiad_objectivity_schools.is_flagged",
               _pairs(manifest, "olympiad_generous_schools"),
               _query(con, "SELECT academic_year, school_code FROM "
                           "marts.olympiad_objectivity_schools WHERE is_flagged")),
    ]
    return {f.name: f for f in figures}


def inflating_resilient(con, manifest: dict) -> dict[str, set[Pair]]:
    """Planted inflating school-years that are резильентная (must be none), and the inflating
    look-alikes that the failure-share rule (quartile 1 and results_z ≥ its 75th percentile)
    would have called resilient."""
    inflating = _pairs(manifest, "vpr_inflating_schools")
    lookalikes = _pairs(manifest, "vpr_inflating_lookalikes")
    resilient = _query(con, "SELECT academic_year, school_code FROM marts.low_results_schools "
                            "WHERE results_group = 'резильентная'")
    old_rule = _query(con, "SELECT academic_year, school_code FROM marts.low_results_schools "
                           "WHERE context_quartile = 1 AND NOT is_low_results "
                           "AND results_z >= region_p75_results_z")
    return {"inflating_resilient": inflating & resilient,
            "lookalikes": lookalikes,
            "lookalikes_resilient_on_failure_shares": lookalikes & old_rule}


def evaluate(database: Path | str, manifest_path: Path | str) -> tuple[dict[str, Figure], dict]:
    import duckdb

    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    con = duckdb.connect(str(database), read_only=True)
    try:
        return planted_figures(con, manifest), inflating_resilient(con, manifest)
    finally:
        con.close()


def report(figures: dict[str, Figure], extra: dict) -> str:
    lines = [f.line() for f in figures.values()]
    lines.append(f"{'inflating school-years резильентная':34s} "
                 f"{len(extra['inflating_resilient'])} (must be 0)")
    lines.append(f"{'look-alikes resilient on failures':34s} "
                 f"{len(extra['lookalikes_resilient_on_failure_shares'])} of "
                 f"{len(extra['lookalikes'])} (the rule the marts no longer use)")
    return "\n".join(lines)
