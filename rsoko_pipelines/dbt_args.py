"""The dbt command line of one Dagster run, as a pure function (unit-tested).

The academic-year partition reaches dbt as the var `rsoko:academic_year` (the models'
`academic_year_filter()` macro); a full refresh rebuilds every year (the macro ignores the
partition under `--full-refresh`, so a partitioned run can never truncate the other years).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

ACADEMIC_YEAR_VAR = "rsoko:academic_year"
COMMANDS = frozenset({"build", "run", "test", "seed", "compile", "parse", "ls", "list"})


def dbt_cli_args(
    command: str = "build",
    academic_year: int | str | None = None,
    full_refresh: bool = False,
    select: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    indirect_selection: str | None = None,
) -> list[str]:
    """`["build", "--vars", '{"rsoko:academic_year": 2025}', "--full-refresh"]` and the like.

    academic_year: the partition key (int or its string form) or None for every year.
    select/exclude: a dbt selection string or a sequence of selectors (space-joined).
    indirect_selection: `cautious` runs only the tests whose parents are all selected (a
    seeds-only build must not run a test that also reads a model not built yet).
    """
    if command not in COMMANDS:
        raise ValueError(f"unsupported dbt command {command!r}; one of {sorted(COMMANDS)}")
    args = [command]
    if academic_year is not None and str(academic_year).strip() != "":
        text = str(academic_year).strip()
        if not (text.isdigit() and len(text) == 4):
            raise ValueError(f"academic_year must be a 4-digit year, got {academic_year!r}")
        args += ["--vars", json.dumps({ACADEMIC_YEAR_VAR: int(text)})]
    if full_refresh:
        if command not in ("build", "run", "seed"):
            raise ValueError(f"--full-refresh does not apply to dbt {command}")
        args.append("--full-refresh")
    if indirect_selection:
        if indirect_selection not in ("eager", "cautious", "buildable", "empty"):
            raise ValueError(f"unknown indirect selection {indirect_selection!r}")
        args += ["--indirect-selection", indirect_selection]
    for flag, value in (("--select", select), ("--exclude", exclude)):
        if value:
            joined = value if isinstance(value, str) else " ".join(v for v in value if v)
            if joined.strip():
                args += [flag, joined.strip()]
    return args
