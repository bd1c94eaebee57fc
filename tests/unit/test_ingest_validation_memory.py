"""Validating a large batch must not leave its pandas frame behind.

Great Expectations holds each run's frame in reference cycles that only a full garbage
collection frees; at tier F the ingest process grew by ~1 GB per million rows until one ran
(17.7 GB on one partition). `validate_batch` collects after a large batch: right after it
returns, only the last validation's frame may be alive, with Python's automatic collector off
so that only the code under test can free the others."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa

from rsoko_pipelines.ingest.validation import COLLECT_AFTER_ROWS, validate_batch

ROWS = COLLECT_AFTER_ROWS + 1_000


def _population_file(file_id: str, rows: int) -> SimpleNamespace:
    """A parsed `population` file: the shape `validate_batch` reads (file_id, rows, tables).
    Far more rows than a real one (municipality × age): it fails, and is still validated."""
    table = pa.table({
        "_file_id": pa.array([file_id] * rows),
        "_source_line": pa.array(range(2, rows + 2), pa.int64()),
        "academic_year": pa.array([2025] * rows, pa.int64()),
        "msu_code": pa.array([f"{i % 60 + 1:02d}" for i in range(rows)]),
        "msu_name": pa.array([f"Муниципалитет {i % 60 + 1}" for i in range(rows)]),
        "age": pa.array([5 + i % 14 for i in range(rows)], pa.int64()),
        "population": pa.array([100 + i % 900 for i in range(rows)], pa.int64()),
    })
    return SimpleNamespace(file_id=file_id, rows=rows, tables={"population": table})


def _large_frames() -> list[pd.DataFrame]:
    """Frames of at least one file's size: the batch's, and those of the halves it is split
    into when it fails."""
    return [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) >= ROWS // 2]


def test_no_frame_of_a_large_batch_survives_validation():
    files = [("f1", "population/2025/a.csv", _population_file("f1", ROWS // 2)),
             ("f2", "population/2025/b.csv", _population_file("f2", ROWS - ROWS // 2))]
    gc.collect()
    assert _large_frames() == []
    gc.disable()
    try:
        outcomes = validate_batch(None, "population", 2025, files)
        survivors = _large_frames()
    finally:
        gc.enable()
    # each file repeats municipality × age: the batch fails and is bisected to its two files
    assert {f: o.row_count for f, o in outcomes.items()} == {"f1": ROWS // 2,
                                                             "f2": ROWS - ROWS // 2}
    assert all("population.msu_age_unique" in {e.name for e in o.expectations
                                                if e.success is False}
               for o in outcomes.values())
    # only the last validation's frame (f2's) is left: GX keeps its latest context as the
    # current project until the next validation replaces it. Neither the whole batch's frame
    # nor f1's is alive.
    assert sorted(len(f) for f in survivors) == [ROWS - ROWS // 2]
    assert set(survivors[0]["_file_id"].unique()) == {"f2"}
