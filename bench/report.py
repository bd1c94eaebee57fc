"""The benchmark's targets and its Markdown: one page per tier (`<tier>.md`) and the
summary of every tier measured so far (`README.md`), both rendered from the JSON results."""

from __future__ import annotations

import json
from pathlib import Path

STAGES = ("reference", "ingest", "validate", "release", "transform", "marts", "publish")
CASES = ("cold", "noop", "incremental", "correction")
TIER_ORDER = ("XS", "S", "M", "F")
BENCHMARK_TIERS = ("S", "M", "F")     # the tiers of scale.md; XS is the tests' tier

CASE_TEXT = {
    "cold": "empty warehouse, full inbox → published marts",
    "noop": "nightly with nothing new in the inbox",
    "incremental": "one new ВПР file (one subject × grade) for the latest year",
    "correction": "a corrected ЕГЭ file replaces its earlier version",
}


# --------------------------------------------------------------------------- targets
def _case(result: dict, name: str) -> dict | None:
    case = result.get("cases", {}).get(name)
    return case if case and case.get("exit_code") == 0 else None


def _wall(result: dict, name: str) -> float | None:
    case = _case(result, name)
    return case["wall_s"] if case else None


def _max_peak(result: dict) -> float | None:
    peaks = [c["peak_mb"] for c in result.get("cases", {}).values() if c.get("peak_mb")]
    return max(peaks) if peaks else None


# (name, tiers it applies to (None: every tier), value, limit, unit): issue 16's targets
TARGETS = (
    ("tier S cold ≤ 60 s", ("S",), lambda r: _wall(r, "cold"), 60, "s"),
    ("tier S cold ≥ 2× faster than the pandas script (cold / pandas ≤ 0.5)", ("S",),
     lambda r: r.get("ratios", {}).get("cold_over_pandas"), 0.5, "×"),
    ("tier M cold ≤ 3 min", ("M",), lambda r: _wall(r, "cold"), 180, "s"),
    ("tier F cold ≤ 30 min (one night)", ("F",), lambda r: _wall(r, "cold"), 1800, "s"),
    ("tier F peak memory ≤ 12 GB (largest of the cases)", ("F",), _max_peak, 12 * 1024, "MB"),
    ("nightly no-op ≤ 3 s", None, lambda r: _wall(r, "noop"), 3, "s"),
    ("incremental (one new ВПР file) ≤ 10 % of cold", None,
     lambda r: r.get("ratios", {}).get("incremental_pct_of_cold"), 10, "%"),
    ("correction (one corrected ЕГЭ file) ≤ 10 % of cold", None,
     lambda r: r.get("ratios", {}).get("correction_pct_of_cold"), 10, "%"),
)


def evaluate_targets(result: dict) -> list[dict]:
    tier = result["tier"]
    rows = []
    if result.get("sources", "all") != "all":    # a subset of the sources: not the tier's night
        return rows
    for name, tiers, value_of, limit, unit in TARGETS:
        if tiers is not None and tier not in tiers:
            continue
        value = value_of(result)
        status = "not measured" if value is None else ("pass" if value <= limit else "miss")
        if value is not None and result.get("cold_assembled_from_parts"):
            status = "not measured as one night (assembled from parts)"
        rows.append({"target": name, "value": None if value is None else round(value, 2),
                     "limit": limit, "unit": unit, "result": status,
                     "informative": tier not in BENCHMARK_TIERS})
    return rows


# --------------------------------------------------------------------------- formatting
def _n(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A Markdown table; `align` has one letter per column (l/r), default: first column
    left, the others right."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if a == "l" else "--:" for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def machine_line(machine: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items())
    cores = machine.get("cores")
    usable = machine.get("usable_cores")
    cores_text = f"{cores} cores" + (f" ({usable} usable)" if usable and usable != cores else "")
    return (f"{cores_text}, {machine.get('cpu_model', '?')}, "
            f"{machine.get('memory_gb', '?')} GB RAM; {machine.get('os', '?')}; "
            f"Python {machine.get('python', '?')}; {versions}")


def cases_table(result: dict) -> list[str]:
    cold = _case(result, "cold")
    floor = result.get("parse_floor", {}).get("1")
    header = ["case", "wall s", "peak MB", *STAGES, "other", "CPU s", "load",
              "vs parse floor", "% of cold", "runs"]
    rows = []
    for name in CASES:
        case = result.get("cases", {}).get(name)
        if not case:
            continue
        failed = case.get("exit_code") != 0
        stages = case.get("stages", {})
        vs_floor = (f"{case['wall_s'] / floor['seconds']:.1f}×" if name == "cold"
                    and floor and floor.get("seconds") and not failed else "—")
        pct = (f"{100 * case['wall_s'] / cold['wall_s']:.0f} %"
               if cold and name != "cold" and not failed else "—")
        runs = ", ".join(f"{r['job']}" + (f" {r['partition']}" if r.get("partition") else "")
                         for r in case.get("runs", [])) or "none"
        rows.append([name + (" **FAILED**" if failed else ""), _n(case.get("wall_s")),
                     _n(case.get("peak_mb"), 0), *[_n(stages.get(s)) for s in STAGES],
                     _n(case.get("other_s")), _n(case.get("cpu_s")),
                     _n((case.get("loadavg") or [None])[0]), vs_floor, pct, runs])
    return _table(header, rows, "l" + "r" * (len(header) - 2) + "l")


def stage_peaks_table(result: dict) -> list[str]:
    header = ["case", *[s for s in STAGES if s != "validate"], "other"]
    rows = []
    for name in CASES:
        case = result.get("cases", {}).get(name)
        if not case:
            continue
        peaks = case.get("stage_peak_mb", {})
        rows.append([name, *[_n(peaks.get(s), 0) for s in header[1:]]])
    return _table(header, rows)


def tier_markdown(result: dict) -> str:
    tier, machine = result["tier"], result.get("machine", {})
    data = result.get("tier_data", {})
    sources = result.get("sources", "all")
    out = [f"# Benchmark — tier {tier} (seed {result.get('seed')})"
           + ("" if sources == "all" else f", sources {', '.join(sources)} only"), ""]
    if tier not in BENCHMARK_TIERS:
        out += [f"Tier {tier} is the tests' tier, not a benchmark tier of scale.md: its figures "
                "show that the bench works, and the targets below are for information.", ""]
    out += [f"Measured {result.get('measured_at', '?')} at commit "
            f"`{machine.get('git_commit', '?')}`"
            + (" (with uncommitted changes)" if machine.get("git_dirty") else "")
            + f" by `{result.get('command', 'bench/run.py')}`.", "",
            f"**Machine:** {machine_line(machine)}. Load average at start "
            f"{machine.get('loadavg_at_start', '?')} (the machine is shared: see CPU s).", "",
            f"**Tier:** {len(data.get('years', []))} academic year(s) "
            f"{', '.join(map(str, data.get('years', [])))}; {_n(data.get('files'), 0)} files, "
            f"{_n(data.get('rows'), 0)} rows, {_n(data.get('mb'), 1)} MB.", ""]
    out += ["## Cases", ""] + cases_table(result) + [""]
    out += ["Seconds: `wall s` is the wall time of the `rsoko nightly` process (start to exit); "
            "the stage columns are the Dagster step durations of its nightly report "
            "(`validate` is the part of the ingest steps that the ingest reports as "
            "`validate_seconds`, taken out of `ingest`); `other` = wall − stages: interpreter start, "
            "imports, planning, loading the definitions, run setup, summary. `CPU s` = user + "
            "system time of the whole process tree; `load` = the machine's 1-minute load average when the case started. `peak MB` = peak RSS of the whole process "
            "tree (sum over processes, sampled every 0.2 s, at least the kernel's peak of the "
            "largest single process).", ""]
    for name in CASES:
        case = result.get("cases", {}).get(name)
        if case:
            out.append(f"- **{name}** — {CASE_TEXT[name]}: {case.get('what', '')} "
                       f"Plan: {case.get('plan', '?')}.")
    out += ["", "### Peak memory by stage (MB)", ""] + stage_peaks_table(result) + [""]
    out += ["Peak tree RSS among the samples taken while a step of that stage ran (Dagster "
            "step start/end times); validation runs inside the ingest steps, so its memory is "
            "in `ingest`; `other` is outside every step.", ""]
    floor = result.get("parse_floor", {})
    if floor:
        out += ["## Parse floor", "",
                "Decode and parse every raw file of the tier once "
                "(`rsoko_pipelines.extract.parse_only`), no validation, no writes:", ""]
        rows = [[f"{k} process(es)", _n(v["seconds"]), _n(v.get("parse_cpu_s")),
                 _n(v.get("peak_mb"), 0), _n(v["files"], 0), _n(v["rows"], 0)]
                for k, v in sorted(floor.items())]
        out += _table(["parse floor", "wall s", "CPU s", "peak MB", "files", "rows"], rows)
        out += ["", "Wall and CPU seconds of the parsing alone (imports done before the clock "
                "starts); peak MB of the whole process (tree).", ""]
        one = floor.get("1")
        if one:
            rows = [[s, _n(v["files"], 0), _n(v["rows"], 0), _n(v["seconds"])]
                    for s, v in sorted(one["by_source"].items(), key=lambda kv: -kv[1]["seconds"])]
            out += ["By source (1 process):", ""] + _table(["source", "files", "rows", "s"],
                                                           rows) + [""]
    out += pandas_section(result)
    ratios = result.get("ratios", {})
    if ratios:
        out += ["## Ratios", ""]
        if ratios.get("cold_over_parse_floor") is not None:
            out.append(f"- cold / parse floor (1 process): "
                       f"**{ratios['cold_over_parse_floor']:.2f}×**")
        if ratios.get("cold_cpu_over_parse_floor_cpu") is not None:
            out.append(f"- cold / parse floor in CPU time: "
                       f"{ratios['cold_cpu_over_parse_floor_cpu']:.2f}×")
        if ratios.get("cold_over_pandas") is not None:
            out.append(f"- cold / pandas (the analyst's script): "
                       f"**{ratios['cold_over_pandas']:.2f}×**"
                       + (f" ({ratios['cold_cpu_over_pandas_cpu']:.2f}× in CPU time)"
                          if ratios.get("cold_cpu_over_pandas_cpu") is not None else ""))
        if ratios.get("incremental_pct_of_cold") is not None:
            out.append(f"- incremental: **{ratios['incremental_pct_of_cold']:.1f} %** of cold")
        if ratios.get("correction_pct_of_cold") is not None:
            out.append(f"- correction: **{ratios['correction_pct_of_cold']:.1f} %** of cold")
        out.append("")
    targets = result.get("targets", [])
    if targets:
        out += ["## Targets (issue 16)", ""]
        out += _table(["target", "measured", "limit", "result"],
                      [[t["target"], f"{_n(t['value'], 2)} {t['unit']}" if t["value"] is not None
                        else "—", f"{_n(t['limit'], 1)} {t['unit']}",
                        t["result"] + (" (for information)" if t.get("informative") else "")]
                       for t in targets], "lrrl") + [""]
    # a note on how a case is made ("incremental: …") only when that case was measured
    measured = set(result.get("cases", {}))
    notes = [n for n in result.get("notes", [])
             if n.split(":", 1)[0] not in set(CASES) - measured]
    if notes:
        out += ["## How the cases are made", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def _pandas_wall(p: dict | None) -> str:
    """The script's wall time; a run that did not finish says how it ended (exit -9: killed,
    on this machine by the kernel when memory ran out)."""
    if not p:
        return "—"
    if p.get("exit_code") not in (0, None):
        return f"{_n(p.get('wall_s'))} FAILED (exit {p['exit_code']}, {_n(p.get('peak_mb'), 0)} MB)"
    return _n(p.get("wall_s"))


def pandas_section(result: dict) -> list[str]:
    """The analyst's alternative: bench/pandas_analyst.py, measured like a case."""
    p = result.get("pandas")
    if not p:
        return []
    c = p.get("check") or {}
    out = ["## The analyst's alternative (pandas)", "",
           "`bench/pandas_analyst.py`: one pandas process reading the raw extracts of "
           f"{p.get('inbox', '?')} and computing `assessment_results`, `task_mastery`, "
           "`vpr_objectivity` and `vpr_objectivity_schools` (what it reproduces and what not: "
           "its docstring). Measured like a case (wall, CPU of the tree, peak tree RSS).", ""]
    out += _table(["", "wall s", "CPU s", "peak MB", "script s", "reading s", "load"],
                  [["pandas", _n(p.get("wall_s")), _n(p.get("cpu_s")), _n(p.get("peak_mb"), 0),
                    _n(p.get("script_s")), _n(p.get("read_s")),
                    _n((p.get("loadavg") or [None])[0], 1)]], "lrrrrrr") + [""]
    if p.get("exit_code") not in (0, None):
        how = (f"killed: memory ran out at {_n(p.get('peak_mb'), 0)} MB"
               if p["exit_code"] == -9 else "see its log")
        out += [f"**The script did not finish: exit {p['exit_code']}** ({how}, "
                f"{p.get('log', '?')}).", ""]
    if c:
        out += [f"Check against {c.get('against', '?')}: **{_n(c.get('cells_compared'), 0)} "
                f"cells compared, {_n(c.get('equal'), 0)} equal, {_n(c.get('different'), 0)} "
                f"different**; rows only in the script {_n(c.get('rows_only_script'), 0)}, only "
                f"in the marts {_n(c.get('rows_only_mart'), 0)} (exit {c.get('exit_code')}).", ""]
    else:
        out += ["No published database to check against.", ""]
    return out


def summary_markdown(results_dir: Path) -> str:
    results = []
    for path in results_dir.glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict) and "tier" in data and "cases" in data:
            results.append(data)
    results.sort(key=lambda r: (TIER_ORDER.index(r["tier"]) if r["tier"] in TIER_ORDER else 99,
                                r.get("label", r["tier"])))
    out = ["# Benchmark results", "",
           "Written by `bench/run.py` (see `bench/README.md`); one page per tier "
           "(`<tier>.md`, figures in `<tier>.json`). Cases and tiers: "
           "`../shared/domain/scale.md`. Regenerated from the JSON files after every run.", ""]
    rows = []
    for r in results:
        floor = r.get("parse_floor", {}).get("1", {}).get("seconds")
        cases = r.get("cases", {})

        def wall(name):
            case = cases.get(name)
            if not case:
                return "—"
            return _n(case["wall_s"]) + ("" if case.get("exit_code") == 0 else " FAILED")

        label = r.get("label", r["tier"])
        rows.append([f"[{label}]({label}.md)", wall("cold"), wall("noop"),
                     wall("incremental"), wall("correction"), _n(floor),
                     _n(r.get("ratios", {}).get("cold_over_parse_floor"), 2),
                     _pandas_wall(r.get("pandas")),
                     _n(r.get("ratios", {}).get("cold_over_pandas"), 2),
                     _n(_max_peak(r), 0),
                     f"{r.get('machine', {}).get('git_commit', '?')[:10]}",
                     r.get("measured_at", "?")[:10]])
    out += _table(["tier", "cold s", "no-op s", "incremental s", "correction s",
                   "parse floor s", "cold / floor", "pandas s", "cold / pandas", "peak MB",
                   "commit", "date"], rows,
                  "lrrrrrrrrrll") + [""]
    target_rows = []
    for r in results:
        for t in r.get("targets", []):
            target_rows.append([r["tier"], t["target"],
                                f"{_n(t['value'], 2)} {t['unit']}" if t["value"] is not None
                                else "—",
                                t["result"] + (" (for information)" if t.get("informative")
                                               else "")])
    if target_rows:
        out += ["## Targets", ""] + _table(["tier", "target", "measured", "result"],
                                           target_rows, "llrl") + [""]
    machines = {machine_line(r.get("machine", {})) for r in results}
    if machines:
        out += ["## Machines", ""] + [f"- {m}" for m in sorted(machines)] + [""]
    return "\n".join(out)
