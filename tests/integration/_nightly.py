"""Helpers of the reliability tests (test_reliability_*.py): run `rsoko nightly` the way an
operator or cron does — a separate process with its own RSOKO_DATA_DIR —, wait for a phase
of it, SIGKILL its whole process group (dbt runs as a child process), and compare what is
left: table checksums of the warehouse and of the published database, the published
layout, the Dagster runs.

The uninterrupted reference night is built once per pytest session (under the session's
temporary folder, shared by the xdist workers under a file lock) and cloned where a test
needs a deployment that has already been published once.

Also runnable: `python -m tests.integration._nightly reader PUBLISHED STOP OUT MODE` is an
analyst reader process (see :func:`reader_main`)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests.integration._broken_files import TEST_KEY
from tests.integration._golden import FLOATING, VOLATILE_COLUMNS

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RSOKO = str(BIN / "rsoko")
RSOKO_VARS = ("RSOKO_INBOX_DIR", "RSOKO_WAREHOUSE", "RSOKO_ARCHIVE_DIR", "RSOKO_QUARANTINE_DIR",
              "RSOKO_PUBLISHED_DIR", "RSOKO_REPORTS_DIR", "RSOKO_SECRETS_DIR",
              "RSOKO_PUBLISH_KEEP")
NIGHT_TIMEOUT = 1200          # seconds; an XS cold night takes 2–5 min on 2 busy cores
# columns of marts._publication that legitimately differ between two publications
PUBLICATION_VOLATILE = ("version", "published_at", "git_commit")


# --------------------------------------------------------------------------- deployments
def env_for(data: Path, **extra: str) -> dict[str, str]:
    """The environment of a private deployment under `data` (as the operator sets it)."""
    env = {k: v for k, v in os.environ.items() if k not in RSOKO_VARS}
    env.update(RSOKO_DATA_DIR=str(data), DAGSTER_HOME=str(data / "dagster_home"),
               RSOKO_PSEUDONYM_KEY=TEST_KEY, PYTHONUNBUFFERED="1",
               # wide enough that a plan line of 18 sources is one line of the output
               COLUMNS="1000",
               NO_COLOR="1")
    env.update(extra)
    return env


def settings_for(data: Path):
    from rsoko_pipelines.settings import Settings

    d = Path(data)
    return Settings(data_dir=d, inbox_dir=d / "inbox", archive_dir=d / "archive",
                    quarantine_dir=d / "quarantine",
                    warehouse_path=d / "warehouse" / "rsoko.duckdb",
                    published_dir=d / "published", reports_dir=d / "reports",
                    dagster_home=d / "dagster_home", secrets_dir=d / "secrets")


def new_deployment(data: Path, tier: str = "XS", profile: str = "default") -> Path:
    """An empty deployment whose inbox is the cached generated tier (hard links)."""
    from tests.conftest import generated_tier, link_tree

    data.mkdir(parents=True, exist_ok=True)
    link_tree(generated_tier(tier, profile=profile), data / "inbox")
    return data


def clone_deployment(src: Path, dst: Path) -> Path:
    """A copy of a finished deployment (no process may be running on `src`). The inbox and
    the archive are hard-linked (same inodes, so the same mtimes: the planner sees the same
    fingerprints); the warehouse, Dagster storage and published versions are copied, the
    relative symbolic links of the publication kept as links. The copy's dagster.yaml names
    its own event log, not the original's (as `rsoko nightly` does for a moved deployment)."""
    from rsoko_pipelines.night.command import write_local_dagster_yaml
    from tests.conftest import link_tree

    dst.mkdir(parents=True)
    for name in ("inbox", "archive"):
        if (src / name).is_dir():
            link_tree(src / name, dst / name)
    for child in src.iterdir():
        if child.name in ("inbox", "archive"):
            continue
        if child.is_dir():
            shutil.copytree(child, dst / child.name, symlinks=True)
        else:
            shutil.copy2(child, dst / child.name)
    if (dst / "dagster_home" / "dagster.yaml").exists():
        write_local_dagster_yaml(dst / "dagster_home")
    return dst


def add_duplicate(data: Path, source: str, year: str) -> Path:
    """A new file in an inbox folder: a copy of one of its files under a new name. The
    planner sees a changed folder and loads the year; the ingest recognises the bytes as
    already loaded, so the data (and every table built from it) stays the same."""
    folder = Path(data) / "inbox" / source / year
    original = sorted(p for p in folder.iterdir() if p.is_file())[0]
    copy = folder / f"extra_{original.name}"
    shutil.copy(original, copy)
    return copy


def shared_root(tmp_path_factory) -> Path:
    """A folder shared by all xdist workers of this pytest session."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


# --------------------------------------------------------------------------- the process
def group_members(pgid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live (non-zombie) process of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()   # after "pid (comm) "
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append((int(entry.name), cmdline))
    return members


class Nightly:
    """`rsoko nightly` as a subprocess in its own session (process group), its merged
    stdout/stderr collected line by line (with arrival times) and kept in a log file."""

    def __init__(self, data: Path, name: str, args: tuple[str, ...] = (), **env: str):
        self.data, self.name = Path(data), name
        self.log_path = self.data.parent / f"{self.data.name}.{name}.log"
        self.lines: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [RSOKO, "nightly", *args], cwd=REPO_ROOT, env=env_for(self.data, **env),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        with open(self.log_path, "w", encoding="utf-8") as log:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                at = time.monotonic() - self.started
                log.write(f"{at:8.2f} {line}\n")
                log.flush()
                with self._cond:
                    self.lines.append((at, line))
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def output(self) -> str:
        with self._cond:
            return "\n".join(line for _, line in self.lines)

    def tail(self, n: int = 40) -> str:
        with self._cond:
            return "\n".join(line for _, line in self.lines[-n:])

    def seen(self, pattern: str) -> bool:
        regex = re.compile(pattern)
        with self._cond:
            return any(regex.search(line) for _, line in self.lines)

    def wait_for_line(self, pattern: str, timeout: float = NIGHT_TIMEOUT) -> str:
        """The first output line matching `pattern` (a regex); fails when the process
        ends or the time is up first."""
        regex, deadline, index = re.compile(pattern), time.monotonic() + timeout, 0
        with self._cond:
            while True:
                for _, line in self.lines[index:]:
                    if regex.search(line):
                        return line
                index = len(self.lines)
                if not self._reader.is_alive():
                    raise AssertionError(f"{self.name}: ended (rc {self.proc.poll()}) before a "
                                         f"line matching {pattern!r}:\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name}: no line matching {pattern!r} within "
                                         f"{timeout:.0f} s:\n{self.tail()}")
                self._cond.wait(min(left, 1.0))

    def wait_for(self, condition: Callable[[], bool], what: str,
                 timeout: float = NIGHT_TIMEOUT, poll: float = 0.01) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name}: ended (rc {self.proc.returncode}) before "
                                     f"{what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {what} within {timeout:.0f} s")
            time.sleep(poll)

    def kill(self) -> list[tuple[int, str]]:
        """SIGKILL the whole process group (the nightly, dbt, Dagster's log watchers), as a
        power cut or the OOM killer of a cgroup would; returns the members that were alive.
        Waits until no member is left."""
        members = group_members(self.pid)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while group_members(self.pid):
            assert time.monotonic() < deadline, f"still alive: {group_members(self.pid)}"
            time.sleep(0.05)
        self._reader.join(timeout=10)
        return members

    def wait(self, timeout: float = NIGHT_TIMEOUT) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name}: did not finish in {timeout:.0f} s:\n"
                                 f"{self.tail()}") from None
        self._reader.join(timeout=30)
        return rc

    def close(self) -> None:
        """Cleanup: kill whatever of the group is still alive (only this group)."""
        if self.proc.poll() is None or group_members(self.pid):
            self.kill()


def run_night(data: Path, name: str, timeout: float = NIGHT_TIMEOUT,
              expect: int | None = 0) -> Nightly:
    night = Nightly(data, name)
    try:
        rc = night.wait(timeout)
    finally:
        night.close()
    if expect is not None:
        assert rc == expect, f"{name}: exit code {rc}, expected {expect}:\n{night.tail(60)}"
    return night


# --------------------------------------------------------------------------- checksums
def _connect(path: Path):
    import duckdb

    return duckdb.connect(str(path), read_only=True)


def relations(con, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? AND NOT internal "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = ? "
        "AND NOT internal ORDER BY 1", [schema, schema]).fetchall()]


def checksums(path: Path, schemas: tuple[str, ...] = ("marts",),
              skip: Callable[[str, str], bool] = lambda s, t: False) -> dict[str, str]:
    """{schema.table: '<rows>:<hash sum>'} (rsoko_pipelines.publish.table_checksum) of
    every table and view of the schemas, opened read-only."""
    from rsoko_pipelines.publish import table_checksum

    con = _connect(path)
    try:
        return {f"{s}.{t}": table_checksum(con, f'"{s}"."{t}"')
                for s in schemas for t in relations(con, s) if not skip(s, t)}
    finally:
        con.close()


REL_TOL = 1e-9


def _floating_rows(con, table: str, exact: list[str], floating: list[str]) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in exact + floating)
    rows = con.execute(f"SELECT {cols} FROM {table}").fetchall()
    return sorted(rows, key=lambda r: (tuple(map(str, r[:len(exact)])),
                                       tuple(-1e308 if x is None else x
                                             for x in r[len(exact):])))


def _close(x, y) -> bool:
    import math

    if x is None or y is None:
        return x is y
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=REL_TOL)


def compare_databases(a: Path, b: Path, schemas: tuple[str, ...] = ("marts",),
                      skip: Callable[[str, str], bool] = lambda s, t: False) -> list[str]:
    """The tables of two databases that differ ([] when they hold the same rows).

    Tables are compared by checksum (rsoko_pipelines.publish.table_checksum: every
    column, every row). Only when the checksums differ, a table with floating-point
    columns is compared row by row: every other column must still be identical (rows are
    aligned on them), the floating ones equal within REL_TOL. Why: DuckDB's parallel
    aggregation adds doubles in an order that varies from run to run, so two uninterrupted
    nights of the same inbox give means and z-scores that differ in their last bits
    (observed up to 2e-10 relative for a z-score near 0) — the same data, not a
    half-applied load. The marts' columns that record when this deployment did something
    (_golden.VOLATILE_COLUMNS, e.g. data_status.loaded_at) are left out of the comparison."""
    import duckdb

    from rsoko_pipelines.publish import table_checksum

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        diffs = []
        for schema in schemas:
            names = {db: {t for t in _relations_in(con, db, schema) if not skip(schema, t)}
                     for db in ("a", "b")}
            if names["a"] != names["b"]:
                diffs.append(f"{schema}: tables {sorted(names['a'] ^ names['b'])} in one only")
            for table in sorted(names["a"] & names["b"]):
                ta, tb = f'a."{schema}"."{table}"', f'b."{schema}"."{table}"'
                volatile = VOLATILE_COLUMNS.get(table, ()) if schema == "marts" else ()
                if volatile:    # when this deployment loaded its files: differs by design
                    exclude = ", ".join(f'"{c}"' for c in volatile)
                    ta, tb = (f"(SELECT * EXCLUDE ({exclude}) FROM {t})" for t in (ta, tb))
                ca, cb = table_checksum(con, ta), table_checksum(con, tb)
                if ca == cb:
                    continue
                cols = {db: con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name "
                    "= ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
                    [db, schema, table]).fetchall() for db in ("a", "b")}
                cols = {db: [(c, t) for c, t in cs if c not in volatile]
                        for db, cs in cols.items()}
                floating = [c for c, t in cols["a"] if t in FLOATING]
                if cols["a"] != cols["b"] or not floating:
                    diffs.append(f"{schema}.{table}: {ca} != {cb}")
                    continue
                exact = [c for c, t in cols["a"] if t not in FLOATING]
                ra, rb = (_floating_rows(con, t, exact, floating) for t in (ta, tb))
                bad = [(x, y) for x, y in zip(ra, rb)
                       if x[:len(exact)] != y[:len(exact)]
                       or not all(_close(u, v) for u, v in zip(x[len(exact):],
                                                               y[len(exact):]))]
                if len(ra) != len(rb) or bad:
                    diffs.append(f"{schema}.{table}: {len(ra)} vs {len(rb)} rows, "
                                 f"{len(bad)} differ, e.g. {bad[:1]}")
        return diffs
    finally:
        con.close()


def _relations_in(con, db: str, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = ? "
        "AND schema_name = ? AND NOT internal", [db, schema, db, schema]).fetchall()]


def warehouse_differences(data: Path, reference: Path) -> list[str]:
    """The layers that must converge: the raw landing tables (not the file registry and
    sightings, which record when and under which name a file was seen), the star and the
    marts."""
    return compare_databases(settings_for(data).warehouse_path,
                             settings_for(reference).warehouse_path, ("raw", "core", "marts"),
                             skip=lambda s, t: s == "raw" and t.startswith("_"))


def published_differences(data: Path, reference: Path) -> list[str]:
    """What analysts see now against the reference's publication: every mart, and the
    `_publication` row without its per-publication columns (version, time, commit)."""
    from rsoko_pipelines.publish import published_database

    mine = published_database(settings_for(data).published_dir)
    theirs = published_database(settings_for(reference).published_dir)
    diffs = compare_databases(mine, theirs, skip=lambda s, t: t == "_publication")
    rows = [{k: v for k, v in publication_row(db).items() if k not in PUBLICATION_VOLATILE}
            for db in (mine, theirs)]
    if rows[0] != rows[1]:
        diffs.append(f"_publication: {rows[0]} != {rows[1]}")
    return diffs


def debris(path: Path) -> list[str]:
    """Relations a killed dbt can leave behind (`__dbt_tmp`, `__dbt_backup`)."""
    con = _connect(path)
    try:
        return [f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE table_name LIKE '%\\_\\_dbt\\_%' ESCAPE '\\' "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE view_name LIKE '%\\_\\_dbt\\_%' ESCAPE '\\'").fetchall()]
    finally:
        con.close()


def publication_row(path: Path) -> dict:
    con = _connect(path)
    try:
        cur = con.execute("SELECT * FROM marts._publication")
        rows = cur.fetchall()
        assert len(rows) == 1, rows
        return dict(zip([d[0] for d in cur.description], rows[0]))
    finally:
        con.close()


# --------------------------------------------------------------------------- publication
def leftovers(published_dir: Path) -> list[str]:
    """Half-written versions and swap links of a crashed publisher."""
    pub = Path(published_dir)
    return sorted([p.name for p in (pub / "versions").glob(".tmp-*")]
                  + [p.name for p in pub.glob(".*.swap-*")])


def verify_version(version_dir: Path) -> dict:
    """A complete version: its manifest, its database (opened read-only: the checksum of
    every table, `_publication.version`) and its Parquet files (sha256, size) agree."""
    import hashlib

    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == version_dir.name, (manifest["version"], version_dir)
    db = version_dir / manifest["database"]
    found = checksums(db, skip=lambda s, t: t == "_publication")
    expected = {f"marts.{t}": info["checksum"] for t, info in manifest["tables"].items()}
    assert found == expected, (version_dir.name, found, expected)
    assert publication_row(db)["version"] == version_dir.name
    files = {p.relative_to(version_dir).as_posix()
             for p in (version_dir / "parquet").rglob("*.parquet")}
    assert files == set(manifest["parquet_files"]), version_dir.name
    for rel, info in manifest["parquet_files"].items():
        data = (version_dir / rel).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (info["sha256"],
                                                                 info["bytes"]), rel
    return manifest


def verify_publication(published_dir: Path) -> str | None:
    """The published folder as an analyst may find it at any moment: either nothing is
    published (no `current`, no database behind the stable path) or `current` and the
    stable links lead to a complete version; every kept version is complete. Returns the
    current version (None when nothing is published)."""
    from rsoko_pipelines.publish.versions import current_version, version_names

    pub = Path(published_dir)
    versions = pub / "versions"
    kept = version_names(pub)
    for name in kept:
        verify_version(versions / name)
    # a folder with a final name but no manifest would be a half-written version
    finals = [p.name for p in versions.iterdir() if not p.name.startswith(".")] \
        if versions.is_dir() else []
    assert sorted(finals) == sorted(kept), (finals, kept)
    current = current_version(pub)
    if current is None:
        assert not (pub / "current").exists()
        assert not (pub / "rsoko_marts.duckdb").exists()
        return None
    assert current in kept, (current, kept)
    target = (pub / "current").resolve()
    assert target == (versions / current).resolve()
    for name in ("rsoko_marts.duckdb", "manifest.json", "parquet"):
        assert (pub / name).resolve() == target / name, name
    return current


# --------------------------------------------------------------------------- Dagster
def dagster_runs(data: Path) -> list[dict]:
    """Every run of the deployment's Dagster instance, newest first; `pid`: the process
    of `rsoko nightly` that executed it (its tag `rsoko/pid` is `<pid>:<run id>`)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(Path(data) / "dagster_home")) as instance:
        return [{"run_id": r.dagster_run.run_id, "job": r.dagster_run.job_name,
                 "pid": int(r.dagster_run.tags.get("rsoko/pid", "0:").split(":")[0] or 0),
                 "status": r.dagster_run.status.value, "tags": dict(r.dagster_run.tags)}
                for r in instance.get_run_records()]


def run_steps(data: Path, run_id: str) -> dict[str, str]:
    """{step key: status} of one run."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(Path(data) / "dagster_home")) as instance:
        return {s.step_key: s.status.value for s in instance.get_run_step_stats(run_id)
                if s.status is not None}


def free_pool_slots(data: Path) -> dict:
    """Claimed vs. limit of the `duckdb_writer` pool (nothing may stay claimed)."""
    import dagster as dg

    from rsoko_pipelines.orchestration.names import WAREHOUSE_POOL

    with dg.DagsterInstance.from_config(str(Path(data) / "dagster_home")) as instance:
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        return {"claimed": len(info.claimed_slots), "pending": len(info.pending_steps)}


# --------------------------------------------------------------------------- reference
@dataclass
class Reference:
    """The uninterrupted cold night of tier XS (built once per session by `rsoko nightly` in
    its own process; never modified: tests compare with it or clone it; its published marts
    are the golden ones of test_marts_golden.py). `output`: what the night printed."""

    data: Path
    version: str
    seconds: float
    run_id: str = ""
    output: str = ""


REFERENCE_DIR_VAR = "RSOKO_TEST_REFERENCE_DIR"


def reference_night(tmp_path_factory) -> Reference:
    """Built once per session under its temporary folder. While iterating on these tests,
    RSOKO_TEST_REFERENCE_DIR=<folder> keeps (and reuses) it there instead: delete the
    folder whenever the pipeline code or the demo data changed."""
    root = Path(os.environ.get(REFERENCE_DIR_VAR)
                or shared_root(tmp_path_factory) / "rsoko-reliability-reference")
    root.mkdir(parents=True, exist_ok=True)
    data, done = root / "data", root / "reference.json"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(data, ignore_errors=True)
            new_deployment(data)
            started = time.monotonic()
            night = run_night(data, "reference")
            seconds = time.monotonic() - started
            version = verify_publication(settings_for(data).published_dir)
            assert version is not None
            [run] = dagster_runs(data)
            assert (run["job"], run["status"]) == ("nightly", "SUCCESS"), run
            done.write_text(json.dumps({"version": version, "seconds": seconds,
                                        "run_id": run["run_id"], "output": night.output}),
                            encoding="utf-8")
    return Reference(data=data, **json.loads(done.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- readers
READ_MODES = ("resolved", "stable", "cli")


def _read_once(published: Path, mode: str, tables: list[str]) -> tuple[str, dict[str, int]]:
    """One analyst query in one connection: the version and the row count of every mart."""
    counts = ", ".join(f'(SELECT count(*) FROM marts."{t}") AS "{t}"' for t in tables)
    sql = f"SELECT (SELECT version FROM marts._publication) AS version, {counts}"
    if mode == "cli":
        done = subprocess.run([RSOKO, "sql", "--format", "json", sql], capture_output=True,
                              text=True, timeout=120, cwd=REPO_ROOT, env=os.environ.copy())
        if done.returncode != 0:
            raise RuntimeError(f"rsoko sql exit {done.returncode}: {done.stderr.strip()}")
        row = json.loads(done.stdout)[0]
        return row.pop("version"), {k: int(v) for k, v in row.items()}
    import duckdb

    from rsoko_pipelines.publish.versions import DB_FILE, published_database

    path = published_database(published) if mode == "resolved" else published / DB_FILE
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone()))
    finally:
        con.close()
    version = row.pop("version")
    if mode == "resolved":
        assert path.parent.name == version, (str(path), version)
    return version, row


def reader_main(published: str, stop: str, out: str, mode: str) -> None:
    """An analyst reading the published marts in a loop until `stop` exists: every query
    must succeed and show one complete version — the version named in `_publication` and
    the row counts of that version's manifest, never a mix. Writes a JSON summary."""
    import traceback

    from rsoko_pipelines.publish.versions import _sort_key

    pub, stop_path = Path(published), Path(stop)
    manifests: dict[str, dict] = {}
    summary = {"mode": mode, "pid": os.getpid(), "queries": 0, "errors": [],
               "inconsistent": [], "versions": [], "backwards": []}
    tables: list[str] | None = None
    while not stop_path.exists():
        try:
            if tables is None:
                current = json.loads((pub / "manifest.json").read_text(encoding="utf-8"))
                tables = sorted(current["tables"])
            version, counts = _read_once(pub, mode, tables)
            if version not in manifests:
                manifests[version] = json.loads(
                    (pub / "versions" / version / "manifest.json").read_text(encoding="utf-8"))
            expected = {t: manifests[version]["tables"][t]["rows"] for t in tables}
            if counts != expected:
                summary["inconsistent"].append({"version": version, "counts": counts,
                                                "manifest": expected})
            seen = summary["versions"]
            if not seen or seen[-1] != version:
                if seen and _sort_key(version) < _sort_key(seen[-1]):
                    summary["backwards"].append([seen[-1], version])
                seen.append(version)
        except Exception:   # every failure an analyst would see counts
            summary["errors"].append(traceback.format_exc(limit=3)[-2000:])
        summary["queries"] += 1
        time.sleep(0.3 if mode == "cli" else 0.1)
    Path(out).write_text(json.dumps(summary, indent=1), encoding="utf-8")


class Readers:
    """Analyst reader processes (one per mode) against a published folder."""

    def __init__(self, data: Path, work: Path,
                 modes: tuple[str, ...] = ("resolved", "resolved", "stable", "cli")):
        published = settings_for(data).published_dir
        self.stop_file = work / "readers.stop"
        self.outs = [work / f"reader-{i}-{m}.json" for i, m in enumerate(modes)]
        self.procs = [subprocess.Popen(
            [sys.executable, "-m", "tests.integration._nightly", "reader", str(published),
             str(self.stop_file), str(out), mode], cwd=REPO_ROOT, env=env_for(data),
            start_new_session=True)
            for out, mode in zip(self.outs, modes)]

    def stop(self, timeout: float = 180) -> list[dict]:
        self.stop_file.touch()
        for proc in self.procs:
            proc.wait(timeout=timeout)
        return [json.loads(out.read_text(encoding="utf-8")) for out in self.outs]

    def close(self) -> None:
        self.stop_file.touch()
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "reader":
        reader_main(*sys.argv[2:])
    else:
        sys.exit("usage: python -m tests.integration._nightly reader PUBLISHED STOP OUT MODE")
