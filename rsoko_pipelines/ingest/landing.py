"""Ingest one source × academic-year partition of the inbox into the `raw` schema.

For each file in `<inbox>/<source>/<year>/`:
1. skip it if its path, size and mtime were seen before (no hashing on a quiet night);
2. hash it; skip it if the same bytes were seen before (under any name);
3. parse it (rsoko_pipelines.extract; in parser processes when there are many files, see
   ingest/parsing.py) — a contract breach quarantines it, and so do a symbolic link (never
   followed) and a parser crash (one odd file must not stop the night);
4. validate it with its Great Expectations suite — a blocking failure quarantines it;
5. in one DuckDB transaction per batch of files (up to ~1M rows): remove the rows of the
   file it supersedes (same slice), insert its rows, update the registry. The original is
   archived unchanged first.
A crash at any point leaves either the old or the new state of the slice, never both.
Excel owner files (`~$…`), files still being copied (`.part`, `.crdownload`, `.tmp`) and
hidden files are not extracts and are left alone (rsoko_pipelines.inbox). Parser warnings of
a loaded file are kept in its registry row (`message`). A landed file is not read by the
models until the night's release step lets its source × year through (ingest/release.py).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from rsoko_pipelines import inbox
from rsoko_pipelines.ingest import quarantine, registry
from rsoko_pipelines.ingest.outcomes import FileOutcome, PartitionIngest
from rsoko_pipelines.ingest.parsing import parse_in_order
from rsoko_pipelines.ingest.release import build_slice_id
from rsoko_pipelines.ingest.tables import ensure_landing_table
from rsoko_pipelines.ingest.validation import validate_batch
from rsoko_pipelines.settings import Settings


SIGHTINGS_DDL = """
CREATE TABLE IF NOT EXISTS raw._file_sightings (
    inbox_path VARCHAR, size_bytes BIGINT, mtime_ns BIGINT, file_id VARCHAR,
    seen_at TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (inbox_path, size_bytes, mtime_ns)
);
COMMENT ON TABLE raw._file_sightings IS
  'Где и когда видели файл / Inbox paths under which each file was seen (skips re-hashing)';
"""


def inbox_files(settings: Settings, source: str, academic_year: int) -> list[Path]:
    """The extracts of one source × year inbox folder (rsoko_pipelines.inbox)."""
    return inbox.files(settings.inbox_dir, source, academic_year)


BATCH_ROWS = 1_000_000   # parse, validate and load at most this many rows at a time


@dataclass
class _Candidate:
    path: Path
    rel: str
    stat: object
    file_id: str


@dataclass
class _Ingest:
    """One source × year folder being ingested: what every step of it needs."""
    con: duckdb.DuckDBPyConnection
    settings: Settings
    source: str
    academic_year: int
    validate: bool
    log: object
    result: PartitionIngest

    def quarantine(self, cand: _Candidate, problems=None, validation=None, slice_=None):
        self.result.files.append(quarantine.quarantine_file(
            self.con, self.settings, quarantine.Incoming(
                cand.path, cand.rel, cand.stat, self.source, self.academic_year, cand.file_id),
            problems=problems, validation=validation, slice_=slice_))


def ingest_partition(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    source: str,
    academic_year: int,
    pseudonymizer,
    validate: bool = True,
    log=None,
) -> PartitionIngest:
    """Ingest the new or changed files of one partition; see the module docstring."""
    run = _Ingest(con, settings, source, academic_year, validate,
                  log or (lambda message: None), PartitionIngest(source, academic_year))
    registry.ensure_registry(con)
    con.execute(SIGHTINGS_DDL)
    candidates = _new_files(run)
    run.log(f"{source}/{academic_year}: {len(candidates)} new file(s), "
            f"{run.result.count('unchanged', 'duplicate')} unchanged")
    links = {cand.rel for cand in candidates if cand.path.is_symlink()}   # never followed
    parsed_files = parse_in_order([c.path for c in candidates if c.rel not in links],
                                  source, academic_year, pseudonymizer)
    try:
        _land_in_batches(run, candidates, links, parsed_files)
    finally:
        parsed_files.close()     # stops the parser processes if landing failed
    return run.result


def _land_in_batches(run: _Ingest, candidates, links, parsed_files) -> None:
    batch: list[tuple[_Candidate, object]] = []
    batch_rows = 0
    for done, cand in enumerate(candidates, 1):
        if cand.rel in links:
            parsed, problem = None, quarantine.problem_not_a_file(cand.path)
        else:
            parsed, problem = next(parsed_files)
        if problem is not None:
            run.quarantine(cand, problems=[problem])
            continue
        for warning in parsed.warnings:
            run.log(f"Warning: {warning}")
        batch.append((cand, parsed))
        batch_rows += parsed.rows
        if batch_rows >= BATCH_ROWS or done == len(candidates):
            _ingest_batch(run, batch)
            run.log(f"{run.source}/{run.academic_year}: {done}/{len(candidates)} files, "
                    f"{run.result.rows_loaded:,} rows loaded, "
                    f"{len(run.result.quarantined)} quarantined")
            batch, batch_rows = [], 0
    if batch:
        _ingest_batch(run, batch)


def _new_files(run: _Ingest) -> list[_Candidate]:
    """The folder's files that are new: not seen under this path, size and mtime before,
    and whose bytes are not registered. What was seen is read once per folder, not queried
    per file (a DuckDB statement costs milliseconds, and ВПР arrives as thousands of files)."""
    con = run.con
    folder = f"{run.source}/{run.academic_year}/"
    sightings = {(path, size, mtime): file_id for path, size, mtime, file_id in con.execute(
        "SELECT inbox_path, size_bytes, mtime_ns, file_id FROM raw._file_sightings "
        "WHERE starts_with(inbox_path, ?)", [folder]).fetchall()}
    registered = {file_id for (file_id,) in con.execute(
        "SELECT DISTINCT file_id FROM raw._file_registry").fetchall()}
    candidates = []
    for path in inbox_files(run.settings, run.source, run.academic_year):
        rel = path.relative_to(run.settings.inbox_dir).as_posix()
        stat = path.lstat()
        seen = sightings.get((rel, stat.st_size, stat.st_mtime_ns))
        if seen:
            run.result.files.append(FileOutcome(rel, "unchanged", seen))
            continue
        file_id = registry.file_id_of(path)
        if file_id in registered:
            _sighted(con, rel, stat, file_id)
            run.result.files.append(FileOutcome(rel, "duplicate", file_id,
                                                message="same bytes already registered"))
            continue
        registered.add(file_id)       # the same bytes twice in one folder: the second is a duplicate
        candidates.append(_Candidate(path, rel, stat, file_id))
    return candidates


def _ingest_batch(run: _Ingest, batch) -> None:
    """Validate a batch of parsed files in one Great Expectations run (GX costs ~1.4 s per
    run whatever the size, and ВПР arrives as thousands of per-school files); only when the
    batch fails are its files validated one by one to find the culprits."""
    con, settings, source, academic_year = run.con, run.settings, run.source, run.academic_year
    outcomes: dict[str, object] = {}
    if run.validate and batch:
        outcomes = validate_batch(con, source, academic_year,
                                  [(cand.file_id, cand.rel, parsed) for cand, parsed in batch])
    good = []
    for cand, parsed in batch:
        outcome = outcomes.get(cand.file_id)
        if outcome is not None and not outcome.success:
            run.quarantine(cand, validation=outcome, slice_=parsed.slice)
        else:
            good.append((cand, parsed, outcome))
    if not good:
        return
    # One transaction for the whole batch: a commit costs ~20 ms and ВПР arrives as
    # thousands of small files. A crash leaves the batch entirely loaded or not at all.
    archived = {cand.file_id: archive_copy(settings, cand.path, source, academic_year,
                                           cand.file_id) for cand, _, _ in good}
    con.execute("BEGIN TRANSACTION")
    try:
        statuses = _load_together(con, source, academic_year, good, archived)
        if statuses is None:          # two files of one slice, or tables that do not stack
            statuses = [_load(con, cand, source, academic_year, parsed, archived[cand.file_id])
                        for cand, parsed, _ in good]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    run.result.files.extend(
        FileOutcome(cand.rel, status, cand.file_id, rows, message=_warnings_text(parsed),
                    validation=outcome)
        for (cand, parsed, outcome), (status, rows) in zip(good, statuses))
    batch.clear()


def _warnings_text(parsed) -> str | None:
    """The parser's warnings (ignored columns, formulas with values, a missing BOM …) for the
    registry and the Dagster check table: loaded, but an operator may want to look."""
    warnings = list(getattr(parsed, "warnings", None) or [])
    if not warnings:
        return None
    text = "Loaded with warning(s): " + " | ".join(warnings)
    return text if len(text) <= 2000 else text[:1997] + "…"


def _sighted(con, rel: str, stat, file_id: str) -> None:
    con.execute("INSERT OR IGNORE INTO raw._file_sightings (inbox_path, size_bytes, mtime_ns, "
                "file_id) VALUES (?, ?, ?, ?)", [rel, stat.st_size, stat.st_mtime_ns, file_id])


def archive_copy(settings: Settings, path: Path, source: str, academic_year: int,
                 file_id: str) -> Path:
    target = settings.archive_dir / source / str(academic_year) / f"{file_id[:16]}__{path.name}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.unlink(missing_ok=True)
        if not (settings.archive_links and _linked(path, tmp)):
            shutil.copy2(path, tmp)
        tmp.replace(target)  # atomic: the archive never holds a half-copied original
    return target


def _linked(path: Path, link: Path) -> bool:
    """A hard link instead of a copy (settings.archive_links); False where the filesystem
    cannot (another device, no hard links): then the caller copies."""
    try:
        os.link(path, link)
    except OSError:
        return False
    return True


def _load_together(con, source: str, academic_year: int, good, archived) -> list | None:
    """Land a batch of files inside the caller's transaction with a few statements in all,
    not ~10 per file (each costs milliseconds: at tier S that was most of the ingest beyond
    parsing). Same effect as `_load` file after file; None (nothing done) when two files of
    the batch are one slice (the later corrects the earlier: `_load` in order does that) or
    their tables do not stack into one Arrow table."""
    keys = [registry.slice_key(source, academic_year, parsed.slice) for _, parsed, _ in good]
    if len(set(keys)) < len(keys):
        return None
    names = list(dict.fromkeys(name for _, parsed, _ in good for name in parsed.tables))
    try:
        stacked = {name: pa.concat_tables([parsed.tables[name] for _, parsed, _ in good
                                           if name in parsed.tables],
                                          promote_options="permissive") for name in names}
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    new_id_of_key = {key: cand.file_id for key, (cand, _, _) in zip(keys, good)}
    old = con.execute(
        "SELECT slice_key, file_id, coalesce(released, false) FROM raw._file_registry "
        "WHERE source=? AND academic_year=? AND status='loaded' "
        "AND slice_key IN (SELECT unnest(?::VARCHAR[]))", [source, academic_year, keys]).fetchall()
    old_keys = {key for key, _, _ in old}
    for name, table in stacked.items():
        ensure_landing_table(con, name, table)
        # rows of a superseded file that was never released go at once (as in `_load`)
        keys_with_table = {key for key, (_, parsed, _) in zip(keys, good) if name in parsed.tables}
        _replace_rows(con, name, table, [file_id for key, file_id, released in old
                                         if not released and key in keys_with_table])
    if old:
        con.register("_superseded", pa.table({
            "old_id": [file_id for _, file_id, _ in old],
            "new_id": [new_id_of_key[key] for key, _, _ in old]}))
        con.execute("UPDATE raw._file_registry AS r SET status='superseded', superseded_by=s.new_id "
                    "FROM _superseded AS s WHERE r.file_id = s.old_id")
        con.unregister("_superseded")
    _register_loaded(con, source, academic_year,
                     [(cand, parsed, archived[cand.file_id]) for cand, parsed, _ in good])
    return [("replaced" if key in old_keys else "loaded", parsed.rows)
            for key, (_, parsed, _) in zip(keys, good)]


def _register_loaded(con, source: str, academic_year: int, files) -> None:
    """Registry rows (loaded, not released yet) and sightings of landed files, one insert
    each; `files` = [(candidate, parsed, archive path)]."""
    con.register("_registered", pa.table({
        "file_id": [cand.file_id for cand, _, _ in files],
        "inbox_path": [cand.rel for cand, _, _ in files],
        "file_name": [cand.path.name for cand, _, _ in files],
        "size_bytes": pa.array([cand.stat.st_size for cand, _, _ in files], pa.int64()),
        "mtime_ns": pa.array([cand.stat.st_mtime_ns for cand, _, _ in files], pa.int64()),
        "archive_path": [str(path) for _, _, path in files],
        "slice_key": [registry.slice_key(source, academic_year, parsed.slice)
                      for _, parsed, _ in files],
        "rows": pa.array([parsed.rows for _, parsed, _ in files], pa.int64()),
        "message": pa.array([_warnings_text(parsed) for _, parsed, _ in files], pa.string()),
        "build_slice": [build_slice_id(source, academic_year, parsed.slice)
                        for _, parsed, _ in files]}))
    con.execute(
        "INSERT INTO raw._file_registry (file_id, source, academic_year, inbox_path, file_name, "
        "size_bytes, mtime_ns, archive_path, slice_key, rows, status, message, loaded_at, "
        "released, build_slice) SELECT file_id, ?, ?, inbox_path, file_name, size_bytes, "
        "mtime_ns, archive_path, slice_key, rows, 'loaded', message, current_timestamp, false, "
        "build_slice FROM _registered", [source, academic_year])
    con.execute("INSERT OR IGNORE INTO raw._file_sightings (inbox_path, size_bytes, mtime_ns, "
                "file_id) SELECT inbox_path, size_bytes, mtime_ns, file_id FROM _registered")
    con.unregister("_registered")


def _replace_rows(con, table_name: str, table, never_released: list[str]) -> None:
    """Insert `table` into raw.<table_name>, after removing the rows of the superseded files
    that were never released (those the models read stay until the release)."""
    if never_released:
        con.execute(f"DELETE FROM raw.{table_name} WHERE _file_id IN "
                    f"(SELECT unnest(?::VARCHAR[]))", [never_released])
    con.register("_incoming", table)
    con.execute(f"INSERT INTO raw.{table_name} BY NAME SELECT * FROM _incoming")
    con.unregister("_incoming")


def _load(con, cand: _Candidate, source: str, academic_year: int, parsed,
          archived: Path) -> tuple[str, int]:
    """Land one parsed file inside the caller's transaction: insert its rows, register it
    (not released yet: the release step decides, see ingest/release.py) and mark the file it
    corrects (same slice) superseded. The rows of a superseded file that the models still
    read stay until the correction is released (the last good data); those of a file that
    was never released go at once."""
    key = registry.slice_key(source, academic_year, parsed.slice)
    old = con.execute(
        "SELECT file_id, coalesce(released, false) FROM raw._file_registry WHERE source=? "
        "AND academic_year=? AND slice_key=? AND status='loaded'",
        [source, academic_year, key]).fetchall()
    never_released = [file_id for file_id, released in old if not released]
    for table_name, table in parsed.tables.items():
        ensure_landing_table(con, table_name, table)
        _replace_rows(con, table_name, table, never_released)
    if old:
        con.execute("UPDATE raw._file_registry SET status='superseded', superseded_by=? "
                    "WHERE file_id IN (SELECT unnest(?::VARCHAR[]))",
                    [cand.file_id, [file_id for file_id, _ in old]])
    _register_loaded(con, source, academic_year, [(cand, parsed, archived)])
    return ("replaced" if old else "loaded"), parsed.rows
