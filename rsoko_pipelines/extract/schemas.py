"""The landing schema, read from the column maps (metadata, not code): one file per source,
``extract/sources/<source>.yaml``, plus ``extract/sources/_common.yaml`` (the conventions and
the columns every landing row carries). A source may start from another's map with
``extends: <source>`` (ОГЭ from ЕГЭ, РПР and НИКО from ВПР): every key of the other, then its
own; ``drop_columns: [name, …]`` and ``override_columns: {name: {key: value}}`` adjust the
inherited column list without copying it.

``landing_schema(table)`` is the pyarrow schema of one landing table (``raw.<table>``);
``source_spec(source)`` the parsed metadata of one source; ``describe_table(table)`` the
table and column comments persisted in DuckDB. Personal columns are part of the metadata
(so the parser recognises and drops them) but never part of a landing schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import yaml

COLUMN_MAPS_DIR = Path(__file__).with_name("sources")
COMMON_FILE = "_common.yaml"

ARROW_TYPES = {
    "varchar": pa.string(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "list_varchar": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool
    headers: tuple[str, ...] = ()
    personal: bool = False
    code: bool = False
    derived: str | None = None
    numeric_cells: str = "error"     # XLSX: what a numeric cell in a code column means
    letters: str | None = None       # digits | latin | cyrillic | words (see extract/cells.py)
    # derived from personal columns (extract/personal.py): `derived: pseudonym` (keyed HMAC)
    # or `derived: year_of` (a date kept only as its year), computed from the columns `from`
    inputs: tuple[str, ...] = ()     # YAML key `from`
    normalize: str | None = None     # pseudonym: document | snils | trim | code
    domain: str = ""                 # pseudonym: HMAC domain prefix ('staff' → 'staff:<digits>')
    pad_digits: int | None = None    # XLSX: a number cell in this column is zero-padded text
    ru: str = ""
    en: str = ""

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]

    @property
    def doc(self) -> str:
        return f"{self.ru} / {self.en}" if self.ru and self.en else (self.ru or self.en)


@dataclass(frozen=True)
class TableSpec:
    name: str
    source: str
    grain: str
    ru: str
    en: str
    columns: tuple[ColumnSpec, ...]   # landing columns in order (no personal columns)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=True) for c in self.columns])

    @property
    def doc(self) -> str:
        return f"{self.ru} / {self.en} (grain: {self.grain})"


@dataclass(frozen=True)
class SourceSpec:
    source: str
    format: str
    raw: dict
    columns: tuple[ColumnSpec, ...]            # all columns incl. personal and derived
    tables: dict                               # table name -> TableSpec

    @property
    def main_table(self) -> str:
        return self.source

    @property
    def file_columns(self) -> tuple[ColumnSpec, ...]:
        """Columns read from the file's header (not derived)."""
        return tuple(c for c in self.columns if c.headers)

    @property
    def personal_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.personal)

    @property
    def from_personal_columns(self) -> tuple[ColumnSpec, ...]:
        """Landing columns computed from personal columns (keyed hashes, birth years)."""
        return tuple(c for c in self.columns if c.derived in ("pseudonym", "year_of"))

    @property
    def needs_pseudonymizer(self) -> bool:
        return any(c.derived == "pseudonym" for c in self.columns)

    def get(self, key: str, default=None):
        return self.raw.get(key, default)


def normalize_header(text: object) -> str:
    """Header matching key: case, NBSP, repeated spaces and ё/е do not matter."""
    s = "" if text is None else str(text)
    s = s.replace("\ufeff", "").replace("\xa0", " ").replace("ё", "е").replace("Ё", "Е")
    return re.sub(r"\s+", " ", s).strip().casefold()


def _column(d: dict) -> ColumnSpec:
    return ColumnSpec(
        name=d["name"], type=d["type"], required=bool(d.get("required", False)),
        headers=tuple(d.get("headers") or ()), personal=bool(d.get("personal", False)),
        code=bool(d.get("code", False)), derived=d.get("derived"),
        numeric_cells=d.get("numeric_cells", "error"), letters=d.get("letters"),
        inputs=tuple(d.get("from") or ()), normalize=d.get("normalize"),
        domain=str(d.get("domain") or ""), pad_digits=d.get("pad_digits"),
        ru=d.get("ru", ""), en=d.get("en", ""))


def _read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _resolve_extends(name: str, maps: dict[str, dict], seen: tuple[str, ...] = ()) -> dict:
    spec = maps[name]
    base = spec.get("extends")
    if not base:
        return spec
    if base in seen or base not in maps:
        raise ValueError(f"column map {name}.yaml: cannot extend {base!r}")
    merged = dict(_resolve_extends(base, maps, seen + (name,)))
    merged.update({k: v for k, v in spec.items()
                   if k not in ("extends", "drop_columns", "override_columns")})
    # a source that is the other's layout minus a column or two (НИКО: ВПР without the
    # journal mark, the mark optional) names the differences instead of copying the list
    drop = set(spec.get("drop_columns") or ())
    overrides = spec.get("override_columns") or {}
    unknown = (drop | set(overrides)) - {c["name"] for c in merged.get("columns", ())}
    if unknown:
        raise ValueError(f"column map {name}.yaml: drop_columns/override_columns name "
                         f"unknown column(s) {sorted(unknown)}")
    if drop or overrides:
        merged["columns"] = [{**c, **overrides.get(c["name"], {})}
                             for c in merged["columns"] if c["name"] not in drop]
    return merged


@lru_cache(maxsize=1)
def column_maps() -> dict:
    """{version, max_cell_chars, common_columns, sources: {source: spec}}; sources in the
    order of settings.SOURCES, then any other map alphabetically."""
    from rsoko_pipelines.settings import SOURCES

    maps = _read_yaml(COLUMN_MAPS_DIR / COMMON_FILE)
    raw = {p.stem: _read_yaml(p) for p in sorted(COLUMN_MAPS_DIR.glob("*.yaml"))
           if p.name != COMMON_FILE}
    order = [s for s in SOURCES if s in raw] + sorted(s for s in raw if s not in SOURCES)
    maps["sources"] = {name: _resolve_extends(name, raw) for name in order}
    return maps


@lru_cache(maxsize=None)
def source_spec(source: str) -> SourceSpec:
    maps = column_maps()
    if source not in maps["sources"]:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(maps['sources'])}")
    raw = maps["sources"][source]
    common = tuple(_column(c) for c in maps["common_columns"])
    columns = tuple(_column(c) for c in raw["columns"])
    landing = tuple(c for c in columns if not c.personal)
    tables = {}
    for name, t in raw["tables"].items():
        if name == source:
            cols = common + landing
        else:  # the companion <source>_tasks table of ВПР/РПР
            cols = common + tuple(_column(c) for c in raw.get("task_columns", ()))
        tables[name] = TableSpec(name, source, t.get("grain", ""), t.get("ru", ""),
                                 t.get("en", ""), cols)
    return SourceSpec(source, raw["format"], raw, columns, tables)


@lru_cache(maxsize=None)
def table_spec(table: str) -> TableSpec:
    for source in column_maps()["sources"]:
        spec = source_spec(source)
        if table in spec.tables:
            return spec.tables[table]
    raise KeyError(f"unknown landing table {table!r}")


def landing_schema(table: str) -> pa.Schema:
    """pyarrow schema of ``raw.<table>`` (e.g. 'ege', 'vpr', 'vpr_tasks')."""
    return table_spec(table).schema


def landing_schemas() -> dict[str, pa.Schema]:
    out = {}
    for source in column_maps()["sources"]:
        for name, t in source_spec(source).tables.items():
            out[name] = t.schema
    return out


def describe_table(table: str) -> tuple[str, dict[str, str]]:
    """(table comment, {column: comment}) for DuckDB COMMENT ON."""
    spec = table_spec(table)
    return spec.doc, {c.name: c.doc for c in spec.columns}
