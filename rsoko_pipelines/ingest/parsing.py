"""Parse a partition's new files, in worker processes when there are many.

Parsing is the floor of every night (tier F: 1,900 s of ВПР XLSX and ГИА CSV with one
process), and it is pure Python/Arrow work on one file at a time, while validation and the
DuckDB inserts must stay in the one writer process. So the writer hands the files to a pool
of parser processes and takes the results back *in inbox order*, at most a few files ahead
(`AHEAD_PER_WORKER`), so memory stays bounded however far the parsers run ahead.

Workers are started with `spawn`: the writer process holds a DuckDB connection and its
threads, and forking a threaded process can leave a child waiting on a lock forever.
`RSOKO_PARSE_WORKERS` sets the number of parser processes (default: the machine's cores,
at most 4; 1 = parse in the writer process, no pool). Small partitions are parsed in the
writer process: starting a worker costs about a second.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from rsoko_pipelines.extract import ExtractError, parse_extract
from rsoko_pipelines.ingest import quarantine

ENV_VAR = "RSOKO_PARSE_WORKERS"
MAX_DEFAULT_WORKERS = 4
MIN_FILES_FOR_POOL = 8      # fewer files: parsing them is quicker than starting workers
AHEAD_PER_WORKER = 4        # parsed files that may wait for the writer, per worker


def parse_workers() -> int:
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        workers = int(value)
        if workers < 1:
            raise ValueError(f"{ENV_VAR} must be at least 1, got {value!r}")
        return workers
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


def parse_one(path: Path, source: str, academic_year: int, pseudonymizer):
    """(parsed, None) or (None, problem): a contract breach or a parser crash becomes a
    quarantine problem here, so that one odd file never stops the night's other files."""
    try:
        return parse_extract(path, source, academic_year, pseudonymizer), None
    except ExtractError as err:
        return None, quarantine.problem_from_extract_error(err)
    except Exception as err:  # noqa: BLE001 — a parser bug quarantines the file
        return None, quarantine.problem_from_crash(err)


def parse_in_order(paths: Iterable[Path], source: str, academic_year: int, pseudonymizer,
                   workers: int | None = None) -> Iterator[tuple[object, dict | None]]:
    """Yield parse_one(path, …) for every path, in the order given."""
    paths = list(paths)
    workers = parse_workers() if workers is None else workers
    workers = min(workers, len(paths))
    if workers <= 1 or len(paths) < MIN_FILES_FOR_POOL:
        for path in paths:
            yield parse_one(path, source, academic_year, pseudonymizer)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: deque[Future] = deque()
        todo = iter(paths)
        for path in todo:
            pending.append(pool.submit(parse_one, path, source, academic_year, pseudonymizer))
            if len(pending) >= workers * AHEAD_PER_WORKER:
                break
        while pending:
            result = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(parse_one, nxt, source, academic_year,
                                           pseudonymizer))
            yield result
