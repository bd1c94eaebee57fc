"""The checks an operator sees on a raw asset: the expectations of its suites grouped by the
column of the file they are about.

A suite has 50–80 expectations (`ege.test_score.range`, `ege.school_known_in_registry` …);
one Dagster check each would bury the one that failed. An operator fixes a *column* of a file
(«Код ОО», «Балл»), so the expectations are grouped by the landing column they check (a
derived column, such as the registry look-up `_school_known`, by the file column it is
computed from). Two more groups: `unique_rows` (no row repeated) and `file_layout` (the file
as a whole: rows present, lineage columns), and `file_contract` for what the parser itself
refuses (encoding, title line, header, cell types). The per-expectation results are in each
check's metadata.

Pure functions over the suite files (expectations/*.json) and the column maps: the Dagster
wiring (orchestration/raw_assets.py) declares the checks from them at load time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rsoko_pipelines.quality.derived import derived_inputs
from rsoko_pipelines.quality.headers import LINEAGE, file_headers, humanize
from rsoko_pipelines.quality.suites import has_suite, load_suite_document

FILE_CONTRACT = "file_contract"
FILE_LAYOUT = "file_layout"
UNIQUE_ROWS = "unique_rows"
FILE_CONTRACT_DESCRIPTION = (
    "Файл читается по контракту выгрузки: кодировка, строка заголовка, обязательные столбцы, "
    "типы и длина ячеек, формулы / The file reads per the extract contract: encoding, title "
    "line, required columns, cell types and lengths, no formulas")
FIXED_DESCRIPTIONS = {
    FILE_LAYOUT: "Файл целиком: есть строки данных, служебные столбцы / The file as a whole: "
                 "data rows present, lineage columns",
    UNIQUE_ROWS: "Строки не повторяются (участник, строка файла) / No row is repeated "
                 "(participant, file line)",
}


@dataclass
class CheckGroup:
    name: str                         # Dagster check name (letters, digits, underscores)
    table: str                        # landing table of the suite
    column: str | None                # the landing column, None for the fixed groups
    header: str                       # the file's own column header (what operators see)
    expectation_ids: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)   # the expectations' descriptions

    @property
    def description(self) -> str:
        rules = "; ".join(dict.fromkeys(r for r in self.rules if r))
        if self.column is None:
            head = FIXED_DESCRIPTIONS.get(self.name.split("__")[-1])
            return f"{head}. {rules}" if head else rules
        head = f"«{self.header}»"
        return f"{head}: {rules}" if rules else head


def _group_key(table: str, kwargs: dict) -> str | None:
    """The landing column an expectation is about (None: the file as a whole)."""
    if "column_list" in kwargs:
        return UNIQUE_ROWS
    column = kwargs.get("column") or kwargs.get("column_B") or kwargs.get("column_A")
    if not column:
        return FILE_LAYOUT
    if column in LINEAGE:
        return FILE_LAYOUT
    if column.startswith("_"):
        inputs = derived_inputs(table, column)
        return inputs[0] if inputs else FILE_LAYOUT
    return column


# Headers that are not one column of the file: the check is named after the place.
PLACE_NAMES = (("строка 1", "title_line"), ("строки 1–4", "task_headers"),
               ("строка 2", "max_score_line"))


def _check_name(table: str, source: str, key: str, header: str) -> str:
    for prefix, place in PLACE_NAMES:
        if header.startswith(prefix):
            key = place
    name = key if table == source else f"{table}__{key}"
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


@lru_cache(maxsize=None)
def check_groups(source: str) -> tuple[CheckGroup, ...]:
    """Every check of a raw asset, in a stable order: the contract first, then the main
    table's groups in suite order, then the companion tables'."""
    from rsoko_pipelines.extract.schemas import source_spec

    groups: dict[str, CheckGroup] = {FILE_CONTRACT: CheckGroup(
        FILE_CONTRACT, source, None, FILE_CONTRACT, rules=[FILE_CONTRACT_DESCRIPTION])}
    tables = [t for t in source_spec(source).tables if has_suite(t)]
    by_header: dict[tuple[str, str], str] = {}
    for table in tables:
        for exp in load_suite_document(table)["expectations"]:
            key = _group_key(table, exp.get("kwargs") or {})
            column = None if key in (FILE_LAYOUT, UNIQUE_ROWS) else key
            header = file_headers(table, [column])[0] if column else key
            # one group per file column: two landing columns of one header share a check
            name = by_header.setdefault((table, header), _check_name(table, source, key, header))
            if name not in groups:
                groups[name] = CheckGroup(name, table, column, header)
            group = groups[name]
            group.expectation_ids.append(exp["meta"]["id"])
            group.rules.append(humanize(exp["meta"].get("description", ""), table))
    return tuple(groups.values())


def group_of_expectation(source: str) -> dict[str, str]:
    """{expectation id: check name} for one source."""
    return {eid: g.name for g in check_groups(source) for eid in g.expectation_ids}
