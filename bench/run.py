"""The benchmark of scale.md: generate a tier (cached), measure the parse floor, then run the
four cases through the operators' entry point (`rsoko nightly`, one subprocess per case) and
record wall time, CPU time and peak memory of the whole process tree, in total and by stage.

    .venv/bin/python bench/run.py --tier S [--seed 20250607]
        [--cases parse,cold,noop,incremental,correction,pandas] [--work var/bench/S]
        [--results bench/results] [--cache var/bench-cache] [--parse-workers 1,2]

The cases run in order on one deployment under WORK/data (RSOKO_DATA_DIR):
- cold: an empty data folder; the inbox is a hard-link copy of the cached tier *minus one
  ВПР file* (held back for the incremental case);
- noop: `rsoko nightly` again, nothing changed;
- incremental: the held-back ВПР file (one subject × grade of the latest year) arrives;
- correction: the largest ЕГЭ sheet of the latest year is replaced in place (same name) by
  a corrected version: three participants get another primary score and the test score of
  the reference scale; the case measures the night after it arrives.
- pandas: not a night: bench/pandas_analyst.py (the analyst's alternative, one pandas
  process) on the cold case's inbox, measured the same way, then `--check` against the
  database the cold case published (run right after cold when both are in --cases; alone,
  on the deployment's inbox and its latest published database, or on the tier when there
  is no deployment, without a check). Recorded as `pandas` with the ratio cold / pandas.
Without `cold` in --cases, the later cases run on the deployment a previous bench run left
in WORK (WORK/state.json says which cases it has been through).

Writes RESULTS/<tier>.json, RESULTS/<tier>.md and RESULTS/README.md (all tiers); logs of
each nightly, its report and its memory samples under WORK/logs. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import fcntl
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from proctree import TreeSampler  # noqa: E402
from report import CASES, STAGES, evaluate_targets, summary_markdown, tier_markdown  # noqa: E402

ALL_CASES = ("parse", *CASES, "pandas")
BENCH_KEY = "rsoko-bench-pseudonym-key-not-secret"
# passed through to the nightly (the other RSOKO_* are the bench deployment's own)
TUNING_VARS = {"RSOKO_DUCKDB_MEMORY_LIMIT", "RSOKO_DBT_THREADS", "RSOKO_PARSE_WORKERS",
               "RSOKO_ARCHIVE_LINKS"}
VERSIONED = ("duckdb", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb",
             "great_expectations", "pyarrow", "python-calamine")
GIA_FOOTERS = ("Средние", "Минимальная граница", "Всего участников")
N_CORRECTED = 3
SEEDS_SCALE = REPO / "dbt_project" / "seeds" / "reference" / "ref_ege_score_scale.csv"


def log(tier: str, message: str) -> None:
    print(f"[bench {tier} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _bin(name: str) -> str:
    """An executable of the venv the bench runs in (not resolved: a venv's python is a
    symbolic link to the system one)."""
    here = Path(sys.executable).parent / name
    return str(here if here.exists() else REPO / ".venv" / "bin" / name)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


# --------------------------------------------------------------------------- machine
def machine_facts() -> dict:
    facts: dict = {"cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
                   "os": f"{platform.system()} {platform.release()}",
                   "python": platform.python_version(),
                   "loadavg_at_start": round(os.getloadavg()[0], 2)}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(next(l for l in meminfo.splitlines() if l.startswith("MemTotal:")).split()[1])
        facts["memory_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        facts["cpu_model"] = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines()
                                   if l.startswith("model name")), platform.processor() or "?")
    except OSError:
        facts["cpu_model"] = platform.processor() or "?"
    versions = {}
    for dist in VERSIONED:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    facts["versions"] = versions
    facts["git_commit"] = _git("rev-parse", "HEAD") or "?"
    status = _git("status", "--porcelain", "--untracked-files=no")
    facts["git_dirty"] = bool(status) if status is not None else None
    return facts


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


# --------------------------------------------------------------------------- the tier
def ensure_tier(cache: Path, tier: str, seed: int,
                sources: list[str] | None = None) -> tuple[Path, float | None]:
    """The generated tier under CACHE/tier-<T>-<seed>/ (the layout and lock of the tests'
    cache, so `--cache var/test-cache` shares it), or CACHE/tier-<T>-<seed>-<a+b+…>/ for a
    subset of the sources; generated once, by `rsoko demo generate`. Returns the folder and
    the generation seconds (None when it was cached)."""
    name = f"tier-{tier}-{seed}" + ("-" + "+".join(sources) if sources else "")
    root = cache / name
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "manifest.json").exists():
            return root, None
        tmp = root.with_name(root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        log(tier, f"generating tier {tier} (seed {seed}) into {root} …")
        started = time.perf_counter()
        subprocess.run([_bin("rsoko"), "demo", "generate", "--tier", tier, "--seed", str(seed),
                        "--out", str(tmp),
                        *(["--sources", ",".join(sources)] if sources else [])],
                       cwd=REPO, check=True, stdout=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
        return root, time.perf_counter() - started


def choose_incremental(manifest: dict) -> dict | None:
    """The ВПР file held back from the cold inbox: among the latest year's subject × grade
    pairs delivered as a single file (the region layout), the file of median size; when
    there is none (very large tiers), the median of all the latest year's ВПР files. None
    when the latest year has no ВПР file (a subset of the sources without ВПР)."""
    latest = max(manifest["years"])
    vpr = [f for f in manifest["files"] if f["source"] == "vpr" and f["academic_year"] == latest]
    if not vpr:
        return None

    def pair(f):
        return f["slice"].get("subject_code"), f["slice"].get("grade")

    per_pair = Counter(pair(f) for f in vpr)
    pool = [f for f in vpr if per_pair[pair(f)] == 1] or vpr
    pool.sort(key=lambda f: (f["rows"], f["path"]))
    return pool[len(pool) // 2]


def _gia_lines(data: bytes) -> list[str]:
    return data.decode("cp1251").split("\r\n")


def _cells(line: str) -> list[str]:
    return next(csv.reader([line], delimiter=";"))


def _line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="").writerow(cells)
    return buf.getvalue()


def _score_scale(year: int, code: str) -> dict[int, int]:
    with open(SEEDS_SCALE, encoding="utf-8") as f:
        return {int(r["primary_score"]): int(r["test_score"]) for r in csv.DictReader(f)
                if r["academic_year"] == str(year) and r["ege_subject_code"] == code}


EXTENDED = re.compile(r"(\d+)\((\d+)\)")


def corrected_ege(data: bytes, year: int, n: int = N_CORRECTED) -> tuple[bytes, list[dict]]:
    """A corrected ЕГЭ sheet, as after appeals: `n` participants get 1–2 more points for an
    extended-answer task below its maximum, and with them the primary score (and the written
    part's, when the sheet has one) and the test score of the year's scale, so the sheet
    stays consistent (task points add up to the primary score). The title line (the slice)
    and every other line stay byte for byte."""
    lines = _gia_lines(data)
    code = lines[0].split(" ", 1)[0]
    scale = _score_scale(year, code)
    header = _cells(lines[1])
    p_col, t_col = header.index("Первичный балл"), header.index("Балл")
    e_col = header.index("Задания с развёрнутым ответом")
    w_col = header.index("Первичный балл письменной части") \
        if "Первичный балл письменной части" in header else None
    s_col = header.index("Статус") if "Статус" in header else None
    participants = [i for i in range(2, len(lines))
                    if lines[i].strip() and lines[i].split(";", 1)[0] not in GIA_FOOTERS]
    changes = []
    for i in participants[10::97] + participants[11::97]:
        cells = _cells(lines[i])
        if (s_col is not None and cells[s_col].strip()) or not cells[p_col].strip() \
                or not cells[t_col].strip():
            continue
        tasks = list(EXTENDED.finditer(cells[e_col]))
        task = next((t for t in tasks if int(t[1]) < int(t[2])), None)
        if task is None:
            continue
        delta = min(2, int(task[2]) - int(task[1]))
        old = int(cells[p_col])
        if old + delta not in scale:
            continue
        text = cells[e_col]
        cells[e_col] = (text[:task.start()] + f"{int(task[1]) + delta}({task[2]})"
                        + text[task.end():])
        if w_col is not None and cells[w_col].strip():
            cells[w_col] = str(int(cells[w_col]) + delta)
        changes.append({"line": i + 1, "primary": [old, old + delta],
                        "test": [int(cells[t_col]), scale[old + delta]]})
        cells[p_col], cells[t_col] = str(old + delta), str(scale[old + delta])
        lines[i] = _line(cells)
        if len(changes) == n:
            break
    if len(changes) < n:
        raise ValueError(f"only {len(changes)} participant line(s) could be corrected")
    return "\r\n".join(lines).encode("cp1251"), changes


def choose_correction(manifest: dict, tier_dir: Path) -> dict | None:
    """The ЕГЭ sheet to correct: the latest year's largest sheet with test scores that can
    be corrected (returned with the corrections it will get). None when the latest year has
    no ЕГЭ sheet (a subset of the sources without ЕГЭ)."""
    latest = max(manifest["years"])
    ege = sorted((f for f in manifest["files"]
                  if f["source"] == "ege" and f["academic_year"] == latest),
                 key=lambda f: (-f["rows"], f["path"]))
    if not ege:
        return None
    for f in ege:
        data = (tier_dir / f["path"]).read_bytes()
        lines = _gia_lines(data[:65536])
        if len(lines) < 2 or "Балл" not in _cells(lines[1]):
            continue
        try:
            _, changes = corrected_ege(data, latest)
        except ValueError:
            continue
        return {**f, "changes": changes}
    raise SystemExit(f"the tier has no correctable ЕГЭ sheet with test scores for {latest}")


def _tier_data(manifest: dict) -> dict:
    totals = manifest.get("totals", {})
    return {"years": manifest["years"], "files": len(manifest["files"]),
            "rows": sum(f["rows"] for f in manifest["files"]),
            "mb": round(sum(f["bytes"] for f in manifest["files"]) / 1024 / 1024, 1),
            "by_source": totals}


# --------------------------------------------------------------------------- measuring
class Progress:
    """Prints a line to stderr every `every` seconds while a measured process runs."""

    def __init__(self, tier: str, label: str, sampler: TreeSampler, every: float,
                 log_path: Path | None = None):
        self.tier, self.label, self.sampler, self.every = tier, label, sampler, every
        self.log_path = log_path
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _last_line(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - 4096))
            lines = [l.strip() for l in f.read().decode("utf-8", "replace").splitlines()
                     if l.strip()]
        return ("  | " + lines[-1][:70]) if lines else ""

    def _loop(self):
        while not self._stop.wait(self.every):
            log(self.tier, f"{self.label}: {time.perf_counter() - self.started:6.0f} s  "
                           f"tree {self.sampler.current_mb:7.0f} MB "
                           f"(peak {self.sampler.peak_mb:.0f})  load "
                           f"{os.getloadavg()[0]:.1f}{self._last_line()}")


def measure(cmd: list[str], env: dict, log_path: Path, tier: str, label: str,
            every: float) -> dict:
    """Run `cmd` with its output into log_path; wall, CPU (user+sys of the process and the
    descendants it waited for), peak tree RSS (sampled) and the kernel's peak RSS of the
    largest single process of the tree."""
    load_start = os.getloadavg()[0]
    with open(log_path, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        with TreeSampler(proc.pid) as sampler, Progress(tier, label, sampler, every, log_path):
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    max_single = usage.ru_maxrss / 1024
    return {"exit_code": proc.returncode, "wall_s": round(wall, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_mb": round(max(sampler.peak_mb, max_single), 1),
            "sampled_peak_mb": round(sampler.peak_mb, 1),
            "max_process_rss_mb": round(max_single, 1),
            "loadavg": [round(load_start, 2), round(os.getloadavg()[0], 2)],
            "_sampler": sampler}


def nightly_env(data: Path) -> dict:
    # the deployment's paths are the bench's own; tuning knobs pass through
    env = {k: v for k, v in os.environ.items()
           if (not k.startswith("RSOKO_") or k in TUNING_VARS) and k != "DAGSTER_HOME"}
    env.update(RSOKO_DATA_DIR=str(data), DAGSTER_HOME=str(data / "dagster_home"),
               RSOKO_PSEUDONYM_KEY=BENCH_KEY, COLUMNS="120", PYTHONUNBUFFERED="1")
    return env


def dagster_windows(dagster_home: Path, run_ids: list[str]) -> dict[str, dict]:
    """Start/end (unix time) of each run and of each of its steps, read from the
    deployment's Dagster instance (the nightly report has the durations only)."""
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore")
    found = {}
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        for run_id in run_ids:
            record = instance.get_run_record_by_id(run_id)
            steps = [(s.step_key, s.start_time, s.end_time)
                     for s in instance.get_run_step_stats(run_id)
                     if s.start_time is not None and s.end_time is not None]
            found[run_id] = {"start": record.start_time if record else None,
                             "end": record.end_time if record else None, "steps": steps}
    finally:
        instance.dispose()
    return found


def run_case(name: str, ctx: dict) -> dict:
    tier, data, logs = ctx["tier"], ctx["data"], ctx["logs"]
    latest = data / "reports" / "nightly" / "latest.json"
    latest.unlink(missing_ok=True)
    log(tier, f"{name}: rsoko nightly …")
    m = measure([_bin("rsoko"), "nightly"], nightly_env(data), logs / f"{name}.log", tier,
                name, ctx["progress"])
    sampler: TreeSampler = m.pop("_sampler")
    sampler.write_tsv(logs / f"{name}.mem.tsv")
    case = {"measured_at": _now(), "commit": ctx["machine"]["git_commit"], **m,
            "log": _rel(logs / f"{name}.log")}
    report = json.loads(latest.read_text(encoding="utf-8")) if latest.exists() else None
    if report is None:
        case.update(plan="?", stages=dict.fromkeys(STAGES, 0.0), runs=[], other_s=None,
                    stage_peak_mb={}, note="no nightly report was written")
        log(tier, f"{name}: exit {m['exit_code']} after {m['wall_s']:.1f} s, no report "
                  f"(see {case['log']})")
        return case
    shutil.copyfile(latest, logs / f"{name}.report.json")
    stages = {s: round(float(report.get("stages", {}).get(s, 0.0)), 2) for s in STAGES}
    case.update(plan=report.get("plan"), nightly_s=round(report.get("seconds", 0.0), 2),
                stages=stages, other_s=round(m["wall_s"] - sum(stages.values()), 2),
                report_peak_rss_mb=report.get("peak_rss_mb"))
    run_ids = [r["run_id"] for r in report.get("runs", [])]
    try:
        windows = dagster_windows(data / "dagster_home", run_ids) if run_ids else {}
    except Exception as err:     # the figures without stage peaks are still worth keeping
        windows = {}
        case["note"] = f"stage peaks unavailable: {err!r}"
    from rsoko_pipelines.night.report import stage_of

    runs, by_stage, all_steps = [], {}, []
    for r in report.get("runs", []):
        w = windows.get(r["run_id"], {})
        seconds = (w["end"] - w["start"]) if w.get("start") and w.get("end") else None
        runs.append({"job": r["job"], "status": r.get("status"),
                     "success": r["success"], "seconds": _round(seconds),
                     "steps": {s["step"]: s["seconds"] for s in r.get("steps", [])}})
        for key, start, end in w.get("steps", []):
            by_stage.setdefault(stage_of(key), []).append((start, end))
            all_steps.append((start, end))
    case["runs"] = runs
    peaks = {s: _round(sampler.peak_within(by_stage[s]), 1) if s in by_stage else None
             for s in STAGES if s != "validate"}
    peaks["validate"] = None     # inside the ingest steps
    peaks["other"] = _round(sampler.peak_outside(all_steps), 1)
    case["stage_peak_mb"] = peaks
    wh = data / "warehouse" / "rsoko.duckdb"
    case["warehouse_mb"] = round(wh.stat().st_size / 1024 / 1024, 1) if wh.exists() else None
    log(tier, f"{name}: exit {m['exit_code']}, {m['wall_s']:.1f} s wall, {m['cpu_s']:.1f} s CPU, "
              f"peak {case['peak_mb']:.0f} MB; plan: {case['plan']}")
    return case


def _rel(path: Path) -> str:
    """A path relative to the repository when it is inside it (results are committed)."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def _round(value, digits: int = 2):
    return None if value is None else round(value, digits)


def run_parse_floor(ctx: dict, workers: int) -> dict:
    tier, logs = ctx["tier"], ctx["logs"]
    out = logs / f"parse-{workers}.json"
    out.unlink(missing_ok=True)
    log(tier, f"parse floor, {workers} process(es) …")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RSOKO_")}
    m = measure([sys.executable, str(BENCH_DIR / "parse_floor.py"), str(ctx["tier_dir"]),
                 "--workers", str(workers), "--json", str(out)], env,
                logs / f"parse-{workers}.log", tier, f"parse floor ×{workers}", ctx["progress"])
    m.pop("_sampler")
    if m["exit_code"] != 0:
        raise SystemExit(f"the parse floor failed: see {logs / f'parse-{workers}.log'}")
    figures = json.loads(out.read_text(encoding="utf-8"))
    figures.pop("per_file", None)
    result = {**figures, "process_wall_s": m["wall_s"], "cpu_s": m["cpu_s"],
              "peak_mb": m["peak_mb"], "loadavg": m["loadavg"], "measured_at": _now()}
    log(tier, f"parse floor ×{workers}: {result['seconds']:.1f} s "
              f"({result['files']} files, {result['rows']:,} rows), peak {m['peak_mb']:.0f} MB")
    return result


CHECK_LINE = re.compile(r"^(cells compared|equal|different): (\d+)$")
ONLY_LINE = re.compile(r"^rows only in the script: (\d+); rows only in the mart: (\d+)$")


def run_pandas(ctx: dict, against: str | None) -> dict:
    """bench/pandas_analyst.py on the deployment's inbox (the tier's files as the night saw
    them), measured like a case; then its --check against the deployment's published
    database (not measured). `against`: the case whose database is published now (None: no
    deployment; the script then reads the tier itself and nothing is checked)."""
    tier, logs, data = ctx["tier"], ctx["logs"], ctx["data"]
    db = data / "published" / "rsoko_marts.duckdb"
    inbox = data / "inbox"
    if against is None or not db.exists() or not inbox.is_dir():
        against, inbox, db = None, ctx["tier_dir"], None
    out = ctx["work"] / "pandas-out"
    shutil.rmtree(out, ignore_errors=True)
    script = BENCH_DIR / "pandas_analyst.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RSOKO_")}
    log(tier, f"pandas: {script.name} on {_rel(inbox)} …")
    m = measure([sys.executable, str(script), str(inbox), "--out", str(out)], env,
                logs / "pandas.log", tier, "pandas", ctx["progress"])
    m.pop("_sampler")
    text = (logs / "pandas.log").read_text(encoding="utf-8", errors="replace")
    found = re.search(r"computed in ([\d.]+) s \(reading ([\d.]+) s\)", text)
    case = {"measured_at": _now(), "commit": ctx["machine"]["git_commit"], **m,
            "log": _rel(logs / "pandas.log"),
            "inbox": "the tier (no deployment)" if against is None
            else f"the deployment's inbox after the {against} case",
            "script_s": float(found[1]) if found else None,
            "read_s": float(found[2]) if found else None, "check": None}
    if m["exit_code"] == 0 and db is not None:
        proc = subprocess.run([sys.executable, str(script), "--out", str(out), "--check",
                               str(db)], cwd=REPO, env=env, capture_output=True, text=True)
        (logs / "pandas-check.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        check = {"against": f"the database published by the {against} case",
                 "exit_code": proc.returncode, "log": _rel(logs / "pandas-check.log")}
        for line in proc.stdout.splitlines():
            if (hit := CHECK_LINE.match(line.strip())):
                check[hit[1].replace(" ", "_")] = int(hit[2])
            elif (hit := ONLY_LINE.match(line.strip())):
                check["rows_only_script"], check["rows_only_mart"] = int(hit[1]), int(hit[2])
        case["check"] = check
        log(tier, f"pandas check: {check.get('cells_compared')} cells compared, "
                  f"{check.get('different')} different, exit {proc.returncode}")
    log(tier, f"pandas: exit {m['exit_code']}, {m['wall_s']:.1f} s wall, {m['cpu_s']:.1f} s CPU, "
              f"peak {m['peak_mb']:.0f} MB")
    return case


# --------------------------------------------------------------------------- the cases
def prepare_cold(ctx: dict) -> None:
    """An empty deployment whose inbox is the tier (hard links) minus the held-back file."""
    data, tier_dir = ctx["data"], ctx["tier_dir"]
    held = (ctx["incremental_file"] or {}).get("path")
    shutil.rmtree(data, ignore_errors=True)
    inbox = data / "inbox"
    paths = [f["path"] for f in ctx["manifest"]["files"]]
    # Tiers generated before the fix of municipality file names (F, 2026-11-24) list 18
    # paths twice: the second file overwrote the first. Link what is on disk, once.
    for path in dict.fromkeys(paths):
        if path == held:
            continue
        target = inbox / path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(tier_dir / path, target)


def prepare_incremental(ctx: dict) -> None:
    rel = ctx["incremental_file"]["path"]
    target = ctx["data"] / "inbox" / rel
    if target.exists():
        raise SystemExit(f"{rel} is already in the inbox of {ctx['data']}: run the cold case "
                         "first (--cases cold,noop,incremental,…)")
    os.link(ctx["tier_dir"] / rel, target)


def prepare_correction(ctx: dict) -> None:
    info = ctx["correction_file"]
    target = ctx["data"] / "inbox" / info["path"]
    original = (ctx["tier_dir"] / info["path"]).read_bytes()
    if hashlib.sha256(target.read_bytes()).hexdigest() != hashlib.sha256(original).hexdigest():
        raise SystemExit(f"{info['path']} in {ctx['data']} is not the original any more: run "
                         "the cold case first")
    corrected, _ = corrected_ege(original, int(info["academic_year"]))
    target.unlink()              # a hard link into the cache: never write through it
    target.write_bytes(corrected)


PREPARE = {"cold": prepare_cold, "incremental": prepare_incremental,
           "correction": prepare_correction}


def describe(name: str, ctx: dict) -> str:
    inc, cor = ctx["incremental_file"], ctx["correction_file"]
    if name == "cold":
        if inc is None:
            return f"the whole tier ({len(ctx['manifest']['files'])} files)."
        return (f"the tier minus the held-back ВПР file ({len(ctx['manifest']['files']) - 1} "
                "files).")
    if name == "noop":
        return "nothing changed since the previous case."
    if name == "incremental":
        s = inc["slice"]
        return (f"`{inc['path']}` ({s.get('subject')} grade {s.get('grade')}, "
                f"{s.get('layout')} layout, {inc['rows']:,} works).")
    if name == "correction":
        return (f"`{cor['path']}` ({cor['rows']:,} lines) replaced in place, "
                f"{N_CORRECTED} scores corrected.")
    return ""


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--tier", required=True, type=str.upper, choices=["XS", "S", "M", "F"])
    p.add_argument("--seed", type=int, default=20250607)
    p.add_argument("--cases", default=",".join(ALL_CASES),
                   help="comma-separated subset of: " + ",".join(ALL_CASES) + " (default all)")
    p.add_argument("--work", type=Path, help="deployment and logs (default var/bench/<tier>)")
    p.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--cache", type=Path, default=REPO / "var" / "bench-cache",
                   help="generated tiers (default var/bench-cache)")
    p.add_argument("--sources", default="",
                   help="comma-separated subset of the sources to generate and load (default "
                        "all); results go to <tier>-<a+b+…>.json, with no targets")
    p.add_argument("--parse-workers", default="1,2",
                   help="parse floor process counts, e.g. 1 or 1,2 (default 1,2)")
    p.add_argument("--progress", type=float, default=15.0,
                   help="seconds between progress lines (default 15)")
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - set(ALL_CASES)
    if unknown:
        p.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    args.parse_workers = [int(w) for w in args.parse_workers.split(",") if w.strip()]
    args.sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    args.label = args.tier + ("-" + "+".join(args.sources) if args.sources else "")
    if args.sources and "pandas" in args.cases:
        p.error("the pandas case reads the assessment sources of a whole tier: "
                "leave it out of --cases with --sources")
    args.work = (args.work or REPO / "var" / "bench" / args.label).resolve()
    args.results, args.cache = args.results.resolve(), args.cache.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tier = args.tier
    machine = machine_facts()
    tier_dir, gen_seconds = ensure_tier(args.cache, tier, args.seed, args.sources)
    manifest = json.loads((tier_dir / "manifest.json").read_text(encoding="utf-8"))
    logs = args.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ctx = {"tier": tier, "tier_dir": tier_dir, "manifest": manifest, "data": args.work / "data",
           "work": args.work,
           "logs": logs, "machine": machine, "progress": args.progress,
           "incremental_file": choose_incremental(manifest),
           "correction_file": choose_correction(manifest, tier_dir)}

    results_path = args.results / f"{args.label}.json"
    inc, cor = ctx["incremental_file"], ctx["correction_file"]
    for case, chosen, what in (("incremental", inc, "ВПР file"), ("correction", cor, "ЕГЭ sheet")):
        if case in args.cases and chosen is None:
            raise SystemExit(f"the {case} case needs a {what} of the latest year, and the "
                             "tier (or its subset of sources) has none")
    result: dict = {}
    if set(args.cases) != set(ALL_CASES) and results_path.exists():
        previous = json.loads(results_path.read_text(encoding="utf-8"))
        if previous.get("seed") == args.seed:
            result = previous    # a partial run updates the cases it measured
    earlier_notes = list(result.get("notes", []))   # notes added by hand to earlier cases
    result.update({
        "tier": tier, "label": args.label, "sources": args.sources or "all",
        "seed": args.seed, "measured_at": _now(), "machine": machine,
        "command": "bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "tier_data": _tier_data(manifest),
        "generation_s": _round(gen_seconds) if gen_seconds is not None
        else result.get("generation_s"),
        "incremental_file": inc and {k: inc[k] for k in ("path", "rows", "bytes", "slice")},
        "correction_file": cor and {k: cor[k] for k in ("path", "rows", "bytes", "slice",
                                                        "changes")},
        "notes": [
            "Each case runs `rsoko nightly` (the operators' entry point) as a subprocess with "
            "RSOKO_DATA_DIR = WORK/data and DAGSTER_HOME under it; the cases run in order on "
            "that one deployment.",
            ("cold: the inbox is a hard-link copy of the generated tier without one ВПР file, "
             "which is held back for the incremental case (so cold loads the tier minus that "
             f"file's {inc['rows']:,} of {_tier_data(manifest)['rows']:,} rows)." if inc else
             "cold: the inbox is a hard-link copy of the whole generated tier (it has no ВПР "
             "file to hold back)."),
            "incremental: the held-back file is linked into the inbox: the latest year's "
            "subject × grade delivered as one file (region layout), the median one by size.",
            "correction: the latest year's largest ЕГЭ sheet with test scores is replaced in "
            f"place (same file name, new bytes), as after appeals: {N_CORRECTED} participants "
            "get 1–2 more points for an extended-answer task, and with them the primary score "
            "and the test score of the reference scale (the sheet stays consistent: dbt checks "
            "that task points add up to the primary score).",
            "The page cache is warm (the files were just generated or read); the machine is "
            "shared with other jobs, so compare CPU s as well as wall s.",
        ]})
    if os.environ.get("RSOKO_ARCHIVE_LINKS") == "1":
        result["notes"].append(
            "RSOKO_ARCHIVE_LINKS=1: the nights archived each original as a hard link to its "
            "inbox file instead of a copy (the tier's disk twice over does not fit the "
            "machine); no archive copy is in the figures.")
    if args.sources:
        result["notes"].append(
            f"Sources: only {', '.join(args.sources)} (`--sources`): the generator wrote the "
            "tier's volumes of these sources alone, and the nights ran every step of the "
            "pipeline on them (the absent sources are absent, as the contract allows). The "
            "targets of scale.md are for whole tiers and are not evaluated.")
    listed = [f["path"] for f in manifest["files"]]
    if len(set(listed)) < len(listed):
        result["notes"].append(
            f"This tier was generated before the fix of municipality file names: "
            f"{len(listed) - len(set(listed))} of its {len(listed):,} file paths are listed "
            "twice (a long municipality name lost its '№ N' when cut to 40 characters, so "
            "the second file overwrote the first); the cases load the "
            f"{len(set(listed)):,} files on disk, slightly fewer rows than the totals above.")
    result["notes"] += [n for n in earlier_notes if n not in result["notes"]]
    result.setdefault("cases", {})
    result.setdefault("parse_floor", {})

    state_path = args.work / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if any(c in args.cases for c in CASES) and "cold" not in args.cases:
        if state.get("tier") != tier or state.get("seed") != args.seed or \
                "cold" not in state.get("applied", []):
            raise SystemExit(f"no cold deployment of tier {tier} in {args.work}: "
                             "include the cold case")

    failed = False
    if "parse" in args.cases:
        for workers in args.parse_workers:
            result["parse_floor"][str(workers)] = run_parse_floor(ctx, workers)
    for name in CASES:
        if name not in args.cases:
            continue
        if name in PREPARE:
            PREPARE[name](ctx)
        if name == "cold":
            state = {"tier": tier, "seed": args.seed, "applied": []}
        case = run_case(name, ctx)
        case["what"] = describe(name, ctx)
        result["cases"][name] = case
        if case["exit_code"] == 0:   # a later partial run may build on this deployment
            state["applied"] = [*state.get("applied", []), name]
        state_path.write_text(json.dumps(state, indent=1), encoding="utf-8")
        if case["exit_code"] != 0:
            log(tier, f"{name} failed (exit {case['exit_code']}); the later cases need its "
                      f"state, stopping. Log: {case['log']}")
            failed = True
            break
        if name == "cold" and "pandas" in args.cases:   # on the inbox cold just published
            result["pandas"] = run_pandas(ctx, "cold")
    if "pandas" in args.cases and "cold" not in args.cases and not failed:
        applied = state.get("applied", [])
        result["pandas"] = run_pandas(ctx, applied[-1] if applied else None)
    pandas = result.get("pandas") if "pandas" in args.cases else None
    if pandas and (pandas["exit_code"] != 0 or (pandas["check"] or {}).get("exit_code")):
        log(tier, f"pandas: the script failed or disagrees with the marts: {pandas['log']}")
        failed = True

    finish(result, args.results)
    print_summary(result)
    return 1 if failed else 0


def finish(result: dict, results_dir: Path) -> None:
    cases, floor = result["cases"], result["parse_floor"].get("1")

    def ok(name):
        c = cases.get(name)
        return c if c and c.get("exit_code") == 0 else None

    cold = ok("cold")
    ratios = {}
    if cold and floor:
        ratios["cold_over_parse_floor"] = round(cold["wall_s"] / floor["seconds"], 3)
        if floor.get("parse_cpu_s") and cold.get("cpu_s"):   # steadier than wall time
            ratios["cold_cpu_over_parse_floor_cpu"] = round(
                cold["cpu_s"] / floor["parse_cpu_s"], 3)
    pandas = result.get("pandas")
    if cold and pandas and pandas.get("exit_code") == 0:
        ratios["cold_over_pandas"] = round(cold["wall_s"] / pandas["wall_s"], 3)
        if cold.get("cpu_s") and pandas.get("cpu_s"):
            ratios["cold_cpu_over_pandas_cpu"] = round(cold["cpu_s"] / pandas["cpu_s"], 3)
    for name in ("incremental", "correction", "noop"):
        if cold and ok(name):
            ratios[f"{name}_pct_of_cold"] = round(100 * ok(name)["wall_s"] / cold["wall_s"], 2)
    result["ratios"] = ratios
    result["targets"] = evaluate_targets(result)
    results_dir.mkdir(parents=True, exist_ok=True)
    label = result.get("label", result["tier"])
    (results_dir / f"{label}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (results_dir / f"{label}.md").write_text(tier_markdown(result), encoding="utf-8")
    (results_dir / "README.md").write_text(summary_markdown(results_dir), encoding="utf-8")
    log(result["tier"], f"results: {results_dir / (label + '.json')}, "
                        f"{results_dir / (label + '.md')}")


def print_summary(result: dict) -> None:
    print(f"\nTier {result.get('label', result['tier'])} (seed {result['seed']})")
    print(f"{'case':12s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s}  " +
          " ".join(f"{s[:9]:>9s}" for s in STAGES) + f" {'other':>7s}")
    for name in CASES:
        c = result["cases"].get(name)
        if not c:
            continue
        st = c.get("stages", {})
        print(f"{name:12s} {c['wall_s']:8.1f} {c.get('cpu_s') or 0:8.1f} {c['peak_mb']:8.0f}  "
              + " ".join(f"{st.get(s, 0):9.1f}" for s in STAGES)
              + f" {c.get('other_s') or 0:7.1f}" + ("" if c["exit_code"] == 0 else "  FAILED"))
    p = result.get("pandas")
    if p:
        c = p.get("check") or {}
        print(f"pandas (analyst's script): {p['wall_s']:.1f} s wall, {p.get('cpu_s') or 0:.1f} s "
              f"CPU, peak {p['peak_mb']:.0f} MB; check: "
              + (f"{c.get('cells_compared')} cells compared, {c.get('equal')} equal, "
                 f"{c.get('different')} different" if c else "not run"))
    for workers, f in sorted(result["parse_floor"].items()):
        print(f"parse floor ({workers} process(es)): {f['seconds']:.1f} s, "
              f"peak {f['peak_mb']:.0f} MB")
    for k, v in result.get("ratios", {}).items():
        print(f"{k}: {v}")
    for t in result.get("targets", []):
        value = "—" if t["value"] is None else f"{t['value']} {t['unit']}"
        print(f"target {t['target']}: {value} → {t['result']}"
              + (" (for information)" if t["informative"] else ""))


if __name__ == "__main__":
    sys.exit(main())
