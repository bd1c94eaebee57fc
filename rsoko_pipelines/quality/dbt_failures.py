"""Failing dbt tests, explained: the model, the rule in words, how many rows, up to five
sample rows with their source file and line, what to do — and which source × academic year
the failure belongs to, so that the night holds back only that (ingest/release.py).

The failing rows are kept in the warehouse, in schema `audit` (one table per failing test,
named like the test, at most MAX_STORED rows), for the operator to query. Nothing here
returns or prints `None` as a message: a test without a description gets one from its kind
and arguments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

AUDIT_SCHEMA = "audit"
MAX_SAMPLES = 5
MAX_STORED = 10_000
DEFAULT_HINT = ("Посмотрите строки в audit.<тест> и файлы, из которых они пришли; если "
                "ошибка в выгрузке — пришлите исправленный файл, иначе сообщите разработчикам / "
                "Look at the rows in audit.<test> and the files they came from; if the extract "
                "is wrong, deliver a corrected file, otherwise tell the platform developers")


@dataclass
class TestFailure:
    unique_id: str
    name: str
    model: str                         # the model the test is attached to
    rule: str                          # the rule in words, RU / EN
    hint: str
    failures: int
    samples: list[dict] = field(default_factory=list)   # up to MAX_SAMPLES rows
    audit_table: str = ""
    held: dict[tuple[str, int], str] = field(default_factory=dict)
    # a finding (`meta.finding: true`): reported as a warning, never a reason to hold back
    finding: bool = False

    def message(self) -> str:
        where = "; ".join(_sample_text(s) for s in self.samples[:3])
        text = (f"{self.model}: {self.rule} — {self.failures:,} row(s) fail "
                f"(test {self.name})")
        if where:
            text += f"; e.g. {where}"
        return text + f". What to do: {self.hint}"

    def markdown(self) -> str:
        lines = [f"**{self.model}** — {self.rule}", "",
                 f"{self.failures:,} failing row(s); all of them: `SELECT * FROM "
                 f"{self.audit_table}`" if self.audit_table else "", ""]
        if self.samples:
            # where the row comes from first (a wide model would push it out of the table)
            place = [c for c in ("source_file", "_source_line") if c in self.samples[0]]
            cols = place + [c for c in self.samples[0]
                            if c not in place and c not in ("_file_id", "_slice")][:12 - len(place)]
            lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(_cell(s.get(c)) for c in cols) + " |"
                      for s in self.samples]
        lines += ["", f"What to do: {self.hint}"]
        return "\n".join(lines)


def _cell(value) -> str:
    """A sample value in the explanation's table: NULL as `NULL`, never Python's `None`."""
    return "NULL" if value is None else str(value).replace("|", "/")[:60]


def _sample_text(sample: dict) -> str:
    file, line = sample.get("source_file"), sample.get("_source_line")
    keys = [f"{k}={v}" for k, v in sample.items()
            if k not in ("source_file", "_source_line", "_file_id", "_slice") and v is not None][:4]
    place = f"{file}, line {line}" if file else ""
    return ", ".join(filter(None, [place] + keys))


# --------------------------------------------------------------------------- the rule
def rule_text(node: dict) -> str:
    """The test's rule in words: its description, or one made from its kind and arguments."""
    description = (node.get("description") or "").strip() or \
        ((node.get("meta") or {}).get("description") or "").strip() or \
        ((node.get("config") or {}).get("meta", {}).get("description") or "").strip()
    if description:
        return description
    meta = node.get("test_metadata") or {}
    kind, kwargs = meta.get("name"), dict(meta.get("kwargs") or {})
    column = kwargs.get("column_name") or node.get("column_name") or ""
    col = f"«{column}»" if column else ""
    if kind == "not_null":
        return f"{col} заполнен в каждой строке / {col} is never empty"
    if kind == "unique":
        return f"Значения {col} не повторяются / values of {col} are unique"
    if kind == "accepted_values":
        values = ", ".join(map(str, kwargs.get("values") or []))
        return f"{col} — одно из: {values} / {col} is one of: {values}"
    if kind == "relationships":
        to = _ref_name(kwargs.get("to")) or "?"
        field_ = kwargs.get("field", "")
        return (f"Каждое значение {col} есть в {to}.{field_} / every {col} exists in "
                f"{to}.{field_}")
    if kind == "accepted_range":   # either bound is optional (tests/generic/accepted_range.sql)
        lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
        if lo is not None and hi is not None:
            return f"{col} в пределах [{lo}; {hi}] / {col} within [{lo}, {hi}]"
        if lo is not None:
            return f"{col} не меньше {lo} / {col} is at least {lo}"
        if hi is not None:
            return f"{col} не больше {hi} / {col} is at most {hi}"
    if kind == "unique_combination_of_columns":
        cols = ", ".join(kwargs.get("combination_of_columns") or [])
        return (f"Каждая комбинация ({cols}) встречается один раз / each ({cols}) "
                f"combination occurs once")
    if kind == "expression_is_true":
        expr = kwargs.get("expression", "")
        return f"В каждой строке выполняется {expr} / {expr} holds on every row"
    # the project's own generic tests (tests/generic/, macros/marts_tests.sql)
    if kind == "composite_relationships":
        cols = ", ".join(kwargs.get("columns") or [])
        to = _ref_name(kwargs.get("to")) or "?"
        return (f"Каждая комбинация ({cols}) есть в {to} / every ({cols}) combination exists "
                f"in {to}")
    if kind == "from_loaded_file":
        return (f"Каждая строка из выпущенного файла реестра ({col}) / every row comes from a "
                f"released file of the registry ({col}): never from a quarantined, pending "
                f"or replaced file")
    if kind == "marts_small_cells_suppressed":
        cols = ", ".join(kwargs.get("columns") or []) or "—"
        return ("Малые группы скрыты: при числе участников меньше rsoko:min_cell_size "
                f"значения ({cols}) пусты и is_suppressed / small cells suppressed: below "
                f"rsoko:min_cell_size participants ({cols}) are NULL and is_suppressed is set")
    if kind == "marts_level_codes":
        return ("Коды территории соответствуют уровню (регион / муниципалитет / школа) / "
                "municipality_code and school_code are set exactly down to the row's level")
    if kind:
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "model")
        return f"dbt test {kind}({args})"
    return f"singular test {node.get('name', '?')} returns no rows"


def _ref_name(value) -> str:
    m = re.search(r"ref\(['\"]([\w]+)['\"]\)", str(value or ""))
    return m.group(1) if m else str(value or "")


def hint_text(node: dict) -> str:
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    return (meta.get("hint") or "").strip() or DEFAULT_HINT


# --------------------------------------------------------------------------- collection
def failing_tests(run_results: dict, manifest: dict) -> list[tuple[dict, dict]]:
    """(manifest node, run result) of every test that did not pass (fail, warn or error)."""
    out = []
    for result in run_results.get("results", []):
        uid = result.get("unique_id", "")
        if not uid.startswith("test.") or result.get("status") in ("pass", "success", "skipped"):
            continue
        node = manifest.get("nodes", {}).get(uid)
        if node is not None:
            out.append((node, result))
    return out


def errored_models(run_results: dict) -> list[str]:
    """Models (and seeds) that failed to build: not a data finding, the step must fail."""
    return [r.get("unique_id", "") for r in run_results.get("results", [])
            if not r.get("unique_id", "").startswith("test.") and r.get("status") == "error"]


# causes outside the project that make models fail, with what the operator can do
_RESOURCE_ERRORS = (
    ("No space left on device",
     "The disk is full: DuckDB writes its temporary files for large joins next to the "
     "warehouse ({where}: {free:.1f} GB free now that they are gone). Free space or move "
     "RSOKO_DATA_DIR to a larger disk, then run the night again."),
    ("Out of Memory",
     "DuckDB ran out of memory: lower RSOKO_DUCKDB_MEMORY_LIMIT (it then spills to disk) or "
     "RSOKO_DBT_THREADS, then run the night again."),
)


def resource_hint(run_results: dict, warehouse_dir) -> str:
    """What to do when models failed for want of disk or memory (not a data finding, not a
    bug of a model), or "" when their errors say nothing of the kind."""
    import shutil

    messages = " ".join(r.get("message") or "" for r in run_results.get("results", [])
                        if r.get("status") == "error")
    for marker, hint in _RESOURCE_ERRORS:
        if marker.lower() in messages.lower():
            free = shutil.disk_usage(warehouse_dir).free / 1024 ** 3
            return hint.format(where=warehouse_dir, free=free)
    return ""


def attached_model(node: dict, manifest: dict) -> str:
    uid = node.get("attached_node") or next(
        (n for n in node.get("depends_on", {}).get("nodes", []) if n.startswith("model.")), "")
    target = manifest.get("nodes", {}).get(uid, {})
    if target:
        return f"{target.get('schema', '')}.{target.get('name', '')}".strip(".")
    return node.get("name", "?")


def upstream_sources(node_id: str, manifest: dict) -> set[str]:
    """The raw sources (rsoko source names: `vpr` for raw.vpr_tasks) a node reads, through
    every model in between."""
    from rsoko_pipelines.extract.schemas import table_spec

    seen, todo, found = set(), [node_id], set()
    nodes, sources = manifest.get("nodes", {}), manifest.get("sources", {})
    while todo:
        uid = todo.pop()
        if uid in seen:
            continue
        seen.add(uid)
        if uid in sources:
            table = sources[uid].get("name", "")
            if not table.startswith("_"):
                try:
                    found.add(table_spec(table).source)
                except KeyError:
                    found.add(table)
            continue
        todo.extend((nodes.get(uid) or {}).get("depends_on", {}).get("nodes", []))
    return found


def explain(con, node: dict, result: dict, manifest: dict,
            candidates: set[tuple[str, int]]) -> TestFailure:
    """Store the failing rows in `audit`, take samples with their file names, and attribute
    the failure to tonight's candidate source × years (see :func:`attribute`)."""
    name = node.get("name", "test")
    failure = TestFailure(
        unique_id=node.get("unique_id", ""), name=name, model=attached_model(node, manifest),
        rule=rule_text(node), hint=hint_text(node),
        failures=int(result.get("failures") or 0), finding=is_finding(node))
    sql = result.get("compiled_code") or node.get("compiled_code")
    if result.get("status") == "error" or not sql:
        # a test that cannot run says nothing about the data: never a reason to hold back
        failure.rule += f" (the test could not run: {(result.get('message') or 'error')[:300]})"
        return failure
    table = f'{AUDIT_SCHEMA}."{name[:120]}"'
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {AUDIT_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM ({sql}) LIMIT {MAX_STORED}")
    failure.audit_table = table
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [AUDIT_SCHEMA, name[:120]]).fetchall()]
    has_file = "_file_id" in columns
    select = f"SELECT t.*, r.inbox_path AS source_file FROM {table} t LEFT JOIN " \
             f"raw._file_registry r ON r.file_id = t._file_id" if has_file else \
             f"SELECT * FROM {table}"
    cur = con.execute(f"{select} LIMIT {MAX_SAMPLES}")
    names = [d[0] for d in cur.description]
    failure.samples = [dict(zip(names, row)) for row in cur.fetchall()]
    if not failure.failures:
        failure.failures = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    files = {r[0] for r in con.execute(
        f"SELECT DISTINCT _file_id FROM {table}").fetchall()} if has_file else set()
    years = {r[0] for r in con.execute(
        f"SELECT DISTINCT academic_year FROM {table}").fetchall()} \
        if "academic_year" in columns else set()
    file_pairs = {tuple(r) for r in con.execute(
        "SELECT source, academic_year FROM raw._file_registry WHERE file_id IN "
        "(SELECT unnest(?::VARCHAR[]))", [sorted(files)]).fetchall()} if files else set()
    if not failure.finding:
        failure.held = attribute(file_pairs, years,
                                 upstream_sources(failure.unique_id, manifest), candidates,
                                 failure.message())
    return failure


def is_finding(node: dict) -> bool:
    """A test declared a data-quality finding (`config: meta: finding: true`): the contract
    does not make its rule a reason to drop data, so it warns and holds nothing back."""
    return bool(((node.get("config") or {}).get("meta") or {}).get("finding"))


def attribute(file_pairs: set, years: set, sources: set[str],
              candidates: set[tuple[str, int]], why: str) -> dict[tuple[str, int], str]:
    """Which of tonight's candidate source × years a failure holds back: those of the
    failing rows' files; else the tested model's sources in the failing rows' years; else
    every candidate the model reads. Empty when the failure is not in tonight's new data."""
    reason = f"не прошёл тест / failing test: {why}"[:500]
    if file_pairs:
        held = {p for p in file_pairs if p in candidates}
    elif years:
        held = {(s, y) for s, y in candidates if s in sources and y in years}
    else:
        held = {(s, y) for s, y in candidates if s in sources}
    if not held:   # a changed registry of schools can break the results of its year
        touched = years | {y for _, y in file_pairs} or {y for _, y in candidates}
        held = {("schools", y) for y in touched if ("schools", y) in candidates}
    return {p: reason for p in sorted(held)}


def load_artifacts(target_dir) -> tuple[dict, dict]:
    from pathlib import Path

    target = Path(target_dir)
    return (json.loads((target / "run_results.json").read_text(encoding="utf-8")),
            json.loads((target / "manifest.json").read_text(encoding="utf-8")))
