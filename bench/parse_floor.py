"""The parse floor of scale.md: decode and parse every raw file of a tier once, with no
validation and no writes (`rsoko_pipelines.extract.parse_only`: the parser the ingest uses,
without the participant-key HMAC).

    .venv/bin/python bench/parse_floor.py TIER_DIR [--workers N] [--json OUT]

TIER_DIR is a generated tier (with its manifest.json). Imports are done before the clock
starts; with --workers N > 1 the files (largest first) go to N spawned processes that have
already imported the parser, and the figure is the wall time of the whole pool.
`bench/run.py` runs this script as a subprocess so that its peak memory is measured the same
way as a nightly's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path


def tier_files(tier_dir: Path) -> list[tuple[str, str, int, int]]:
    """(path, source, academic_year, bytes) of every file of the manifest."""
    manifest = json.loads((tier_dir / "manifest.json").read_text(encoding="utf-8"))
    return [(str(tier_dir / f["path"]), f["source"], int(f["academic_year"]), int(f["bytes"]))
            for f in manifest["files"]]


def _warm(_: int) -> int:
    from rsoko_pipelines.extract import parse_only  # noqa: F401
    from rsoko_pipelines.extract.schemas import column_maps

    column_maps()
    return 0


def _parse(item: tuple[str, str, int, int]) -> tuple[str, str, float, int, float]:
    from rsoko_pipelines.extract import parse_only

    path, source, year, _ = item
    started, cpu = time.perf_counter(), time.process_time()
    parsed = parse_only(path, source, year)
    return (path, source, time.perf_counter() - started, parsed.rows,
            time.process_time() - cpu)


def parse_floor(tier_dir: Path, workers: int = 1) -> dict:
    files = sorted(tier_files(tier_dir), key=lambda f: -f[3])   # largest first
    by_source: dict[str, dict] = {}
    per_file: dict[str, float] = {}
    if workers <= 1:
        _warm(0)
        started = time.perf_counter()
        results = [_parse(item) for item in files]
        seconds = time.perf_counter() - started
    else:
        with mp.get_context("spawn").Pool(workers) as pool:
            pool.map(_warm, range(workers), chunksize=1)
            started = time.perf_counter()
            results = list(pool.imap_unordered(_parse, files, chunksize=1))
            seconds = time.perf_counter() - started
    for path, source, file_seconds, rows, _ in results:
        entry = by_source.setdefault(source, {"files": 0, "rows": 0, "seconds": 0.0})
        entry["files"] += 1
        entry["rows"] += rows
        entry["seconds"] += file_seconds
        per_file[str(Path(path).relative_to(tier_dir))] = round(file_seconds, 4)
    for entry in by_source.values():
        entry["seconds"] = round(entry["seconds"], 3)
    return {"workers": max(workers, 1), "seconds": round(seconds, 3),
            "parse_cpu_s": round(sum(r[4] for r in results), 3), "files": len(results),
            "rows": sum(r[3] for r in results),
            "bytes": sum(f[3] for f in files), "by_source": by_source, "per_file": per_file}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tier_dir", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here (default: stdout)")
    args = parser.parse_args(argv)
    result = parse_floor(args.tier_dir.resolve(), args.workers)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    else:
        print(text)
    print(f"parse floor ({result['workers']} process(es)): {result['files']} files, "
          f"{result['rows']:,} rows in {result['seconds']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
