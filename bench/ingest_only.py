"""Ingest + validate a generated inbox (every source and year) without dbt, and print the
wall time per source. Usage: python bench/ingest_only.py INBOX_DIR WORK_DIR
Run it under `/usr/bin/time -v` for the peak memory of the whole process."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path


def main(inbox: Path, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(inbox, work / "inbox", copy_function=os.link)
    os.environ["RSOKO_DATA_DIR"] = str(work)
    from rsoko_pipelines.extract.pseudonym import Pseudonymizer
    from rsoko_pipelines.ingest.landing import ingest_partition
    from rsoko_pipelines.ingest.release import release_everything
    from rsoko_pipelines.ingest.warehouse import connect
    from rsoko_pipelines import inbox
    from rsoko_pipelines.settings import SOURCES, Settings

    settings = Settings.from_env().ensure_dirs()
    pseudonymizer = Pseudonymizer.from_env(settings.secrets_dir)
    con = connect(settings.warehouse_path)
    started = time.perf_counter()
    for year in inbox.years(settings.inbox_dir, SOURCES):
        for source in SOURCES:  # schools first: the others are checked against it
            t = time.perf_counter()
            result = ingest_partition(con, settings, source, int(year), pseudonymizer)
            print(f"{source:9s} {year}: {result.count('loaded', 'replaced'):5d} files "
                  f"{result.rows_loaded:10,d} rows {len(result.quarantined):3d} quarantined "
                  f"{time.perf_counter() - t:7.1f} s", flush=True)
    print(f"total ingest + validate: {time.perf_counter() - started:.1f} s")
    # what a night's release step and commit do, so the warehouse is one the models can read
    t = time.perf_counter()
    plan = release_everything(con)
    print(f"release: {plan.describe()} ({time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
