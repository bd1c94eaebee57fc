"""Golden fingerprints of the published marts of tier XS: one checksum per table and column,
so that a refactoring or a speed change that alters a mart is caught, and a deliberate
change of a mart (a new column, a new methodology) shows exactly which columns moved.

`fingerprint(db)` → {table: {"_rows": n, "_columns": [...], column: checksum}}. A column's
checksum is the sum of its values' hashes (a xor would cancel every value that occurs an even
number of times). Doubles are rounded to 6 decimals before hashing: DuckDB's parallel sums
may differ in the last bits between two runs over the same data, never in the sixth decimal.

The baseline is `tests/golden/marts_xs.json`. After a deliberate change of the marts:
    RSOKO_GOLDEN_UPDATE=1 .venv/bin/python -m pytest tests/integration/test_marts_golden.py
then review `git diff tests/golden/` and say why in CHANGELOG.md.
Also runnable: `python -m tests.integration._golden PUBLISHED_DB OUT.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
GOLDEN_XS = GOLDEN_DIR / "marts_xs.json"
FLOATING = ("DOUBLE", "FLOAT", "REAL")
# publication bookkeeping: differs between any two publications by design
VOLATILE_TABLES = ("_publication",)
# columns that record when this deployment did something (not what the data say)
VOLATILE_COLUMNS = {"data_status": ("loaded_at", "held_since", "version_in_use")}


def fingerprint(db: Path, schema: str = "marts") -> dict[str, dict]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [schema]).fetchall() if r[0] not in VOLATILE_TABLES]
        out: dict[str, dict] = {}
        for table in tables:
            columns = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
                "AND table_name = ? ORDER BY column_index", [schema, table]).fetchall()
            columns = [(c, t) for c, t in columns if c not in VOLATILE_COLUMNS.get(table, ())]
            exprs = [f'sum(hash(round("{c}", 6))::HUGEINT)' if t in FLOATING
                     else f'sum(hash("{c}")::HUGEINT)' for c, t in columns]
            values = con.execute(
                f'SELECT count(*), {", ".join(exprs)} FROM "{schema}"."{table}"').fetchone()
            entry = {"_rows": int(values[0]), "_columns": [c for c, _ in columns]}
            entry.update({c: str(v) for (c, _), v in zip(columns, values[1:])})
            out[table] = entry
        return out
    finally:
        con.close()


def differences(expected: dict, actual: dict) -> list[str]:
    """Human-readable differences: missing or new tables, row counts, changed columns."""
    diffs = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            diffs.append(f"{table}: missing")
            continue
        if table not in expected:
            diffs.append(f"{table}: new table")
            continue
        e, a = expected[table], actual[table]
        if e["_rows"] != a["_rows"]:
            diffs.append(f"{table}: {e['_rows']} rows expected, {a['_rows']} found")
        gone = [c for c in e["_columns"] if c not in a["_columns"]]
        new = [c for c in a["_columns"] if c not in e["_columns"]]
        changed = [c for c in e["_columns"] if c in a["_columns"] and e[c] != a[c]]
        for label, cols in (("columns gone", gone), ("new columns", new),
                            ("columns changed", changed)):
            if cols:
                diffs.append(f"{table}: {label}: {', '.join(cols)}")
    return diffs


def write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[2]), fingerprint(Path(sys.argv[1])))
