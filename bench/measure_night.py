"""Measure one `rsoko nightly` on an existing bench deployment, as a case of bench/run.py
(wall, CPU, peak tree memory, stages, stage peaks), and write it to WORK/<case>.json.

Used for tier F, whose whole cold night (about two hours) could not be repeated after each
fix: after dropping the dbt-built schemas of a deployment whose ingest had completed, one
night measures the cold transform; the next one the marts and the publication. See
bench/results/F.json (notes) for how the cold figure was assembled.

    RSOKO_DBT_THREADS=1 .venv/bin/python bench/measure_night.py --work var/bench/F --case cold-transform
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (bench/run.py)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="the deployment: WORK/data")
    parser.add_argument("--case", required=True, help="name of the case (log and JSON file)")
    parser.add_argument("--tier", default="F")
    parser.add_argument("--progress", type=float, default=300)
    args = parser.parse_args(argv)
    ctx = {"tier": args.tier, "data": args.work / "data", "logs": args.work / "logs",
           "progress": args.progress, "machine": bench.machine_facts()}
    ctx["logs"].mkdir(parents=True, exist_ok=True)
    case = bench.run_case(args.case, ctx)
    out = args.work / f"{args.case}.json"
    out.write_text(json.dumps(case, indent=1, default=str), encoding="utf-8")
    print(f"{args.case}: exit {case['exit_code']}, {case['wall_s']} s; {out}")
    return 0 if case["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
