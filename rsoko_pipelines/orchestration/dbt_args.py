"""The dbt command line of one step, as a pure function (unit-tested).

What a build covers is not in the command line: the models read the build scope from the
warehouse (`raw._build_scope`, macros/build_scope.sql), so the command stays the same night
after night and dbt's partial parsing keeps its cache (a changed `--vars` forces a full parse).
"""

from __future__ import annotations

from collections.abc import Sequence

COMMANDS = frozenset({"build", "run", "test", "seed", "compile", "parse", "ls", "list"})
INDIRECT = ("eager", "cautious", "buildable", "empty")


def dbt_cli_args(
    command: str = "build",
    full_refresh: bool = False,
    select: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    indirect_selection: str | None = None,
) -> list[str]:
    """`["build", "--select", "path:models/core", "--full-refresh"]` and the like.

    select/exclude: a dbt selection string or a sequence of selectors (space-joined).
    indirect_selection: `cautious` runs only the tests whose parents are all selected (a
    seeds-only build must not run a test that also reads a model not built yet).
    """
    if command not in COMMANDS:
        raise ValueError(f"unsupported dbt command {command!r}; one of {sorted(COMMANDS)}")
    args = [command]
    if full_refresh:
        if command not in ("build", "run", "seed"):
            raise ValueError(f"--full-refresh does not apply to dbt {command}")
        args.append("--full-refresh")
    if indirect_selection:
        if indirect_selection not in INDIRECT:
            raise ValueError(f"unknown indirect selection {indirect_selection!r}")
        args += ["--indirect-selection", indirect_selection]
    for flag, value in (("--select", select), ("--exclude", exclude)):
        if value:
            joined = value if isinstance(value, str) else " ".join(v for v in value if v)
            if joined.strip():
                args += [flag, joined.strip()]
    return args
