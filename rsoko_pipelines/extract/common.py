"""Shared pieces of the parsers: decoding, header mapping, vectorised casts."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.cells import check_text
from rsoko_pipelines.extract.encodings import UTF8_BOM, decode_bytes  # noqa: F401 (re-export)
from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.schemas import ColumnSpec, SourceSpec, normalize_header

_INT_RE = r"^[+-]?\d+$"
_FLOAT_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
# dates of the contract are written ДД.ММ.ГГГГ (a day or month without its leading zero is
# accepted: spreadsheets drop it); an XLSX date cell is written in that form before the cast
_DATE_RE = r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"


def map_headers(headers: list, spec: SourceSpec, name: str, where: str,
                warnings: list[str], exclude_index=frozenset()) -> tuple[dict, list[int]]:
    """Header cells → {column name: position}. Missing required columns and duplicates are
    errors; unknown non-empty headers are returned as extra positions (ignored + warning)."""
    lookup = {}
    for col in spec.file_columns:
        for h in col.headers:
            lookup[normalize_header(h)] = col
    found: dict[str, int] = {}
    dupes, extra, unnamed = [], [], []
    for i, h in enumerate(headers):
        if i in exclude_index:
            continue
        key = normalize_header(h)
        col = lookup.get(key)
        if col is None:
            (extra if key else unnamed).append(i)
            continue
        if col.name in found:
            dupes.append(str(h).strip())
            continue
        found[col.name] = i
    if dupes:
        raise ExtractError("duplicate_columns", f"{name}: {where} repeats column(s) "
                           f"{', '.join(repr(d) for d in dupes)}", columns=dupes,
                           hint="remove the duplicate column(s) and export again")
    missing = [c.headers[0] for c in spec.file_columns if c.required and c.name not in found]
    for group in spec.get("required_one_of") or ():
        if not any(g in found for g in group):
            missing.append(" or ".join(_header_of(spec, g) for g in group))
    if missing:
        raise ExtractError(
            "missing_columns", f"{name}: {where} lacks required column(s) "
            f"{', '.join(repr(m) for m in missing)}", columns=missing,
            hint="export the extract with all columns of the contract (extracts.md); column "
                 "order does not matter, names do")
    if extra:
        shown = ", ".join(repr(str(headers[i]).strip()[:80]) for i in extra[:10])
        more = f" … (+{len(extra) - 10})" if len(extra) > 10 else ""
        warnings.append(f"{name}: ignored column(s) not in the contract: {shown}{more}")
    return found, extra + unnamed


def _header_of(spec: SourceSpec, column: str) -> str:
    for c in spec.columns:
        if c.name == column and c.headers:
            return c.headers[0]
    return column


def null_if_empty(arr: pa.Array) -> pa.Array:
    """Trim whitespace; '' → NULL."""
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def cast_column(arr: pa.Array, col: ColumnSpec, lines: np.ndarray, name: str,
                header: str, guard: bool = True) -> pa.Array:
    """Text column → landing type; invalid values raise ExtractError naming lines/column
    (values are not quoted: they may be personal data shifted into the wrong column).
    ``guard=False`` skips the cell guards (used for personal columns, which never land)."""
    arr = null_if_empty(arr)
    if guard:
        check_text(arr, col, lines, name, header)   # formulas, over-long cells, look-alikes
    if col.type == "varchar":
        return arr
    if col.type == "date":
        return cast_date(arr, lines, name, header)
    if col.type in ("integer", "double"):
        text = pc.replace_substring_regex(arr, "[\\s\u00a0]", "")
        if col.type == "double":
            text = pc.replace_substring(text, ",", ".")
        pattern = _INT_RE if col.type == "integer" else _FLOAT_RE
        ok = pc.match_substring_regex(text, pattern)
        bad = pc.and_(pc.is_valid(text), pc.invert(ok))
        bad_idx = np.flatnonzero(bad.to_numpy(zero_copy_only=False))
        if len(bad_idx):
            raise ExtractError(
                "type", f"{name}: column {header!r} must hold "
                f"{'whole numbers' if col.type == 'integer' else 'numbers'}; "
                f"{len(bad_idx)} value(s) are not", rows=lines[bad_idx].tolist(),
                columns=[header], hint="correct the listed lines at the source and export "
                "again (decimal comma or point is fine; no text in numeric columns)")
        try:
            target = col.arrow_type if col.type == "double" else pa.int64()
            out = pc.cast(text, target)
            if col.type == "integer":
                big = pc.greater(pc.abs(out), 2**31 - 1)
                big_idx = np.flatnonzero(big.to_numpy(zero_copy_only=False))
                if len(big_idx):
                    raise ExtractError("type", f"{name}: column {header!r} holds value(s) too "
                                       "large for an integer", rows=lines[big_idx].tolist(),
                                       columns=[header], hint="correct the listed lines")
                out = pc.cast(out, col.arrow_type)
            return out
        except pa.ArrowInvalid as err:  # pragma: no cover - guarded by the regex above
            raise ExtractError("type", f"{name}: column {header!r}: {type(err).__name__}",
                               columns=[header]) from None
    raise ValueError(f"unsupported landing type {col.type}")  # pragma: no cover


def cast_date(arr: pa.Array, lines: np.ndarray, name: str, header: str) -> pa.Array:
    """Text 'ДД.ММ.ГГГГ' → date32; a malformed or impossible date (31.02) is an error naming
    lines and column, never the value."""
    text = pc.replace_substring_regex(arr, "[\\s\u00a0]", "")
    ok = pc.match_substring_regex(text, _DATE_RE)
    bad = pc.and_(pc.is_valid(text), pc.invert(ok))
    bad_idx = np.flatnonzero(pc.fill_null(bad, False).to_numpy(zero_copy_only=False))
    hint = ("write dates as ДД.ММ.ГГГГ (e.g. 01.09.2024) at the source and export the file "
            "again")
    if len(bad_idx):
        raise ExtractError("type", f"{name}: column {header!r} must hold dates ДД.ММ.ГГГГ; "
                           f"{len(bad_idx)} value(s) are not", rows=lines[bad_idx].tolist(),
                           columns=[header], hint=hint)
    parts = pc.extract_regex(text, _DATE_RE)
    day = pc.cast(pc.struct_field(parts, "d"), pa.int32())
    month = pc.cast(pc.struct_field(parts, "m"), pa.int32())
    stamp = pc.strptime(text, format="%d.%m.%Y", unit="s", error_is_null=True)
    # strptime rolls 31.02 over into March: a date is possible only if day and month survive
    possible = pc.and_(pc.equal(pc.day(stamp), day), pc.equal(pc.month(stamp), month))
    impossible = pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(possible, False)))
    bad_idx = np.flatnonzero(impossible.to_numpy(zero_copy_only=False))
    if len(bad_idx):
        raise ExtractError("type", f"{name}: column {header!r} holds {len(bad_idx)} impossible "
                           "date(s) (such as 31.02)", rows=lines[bad_idx].tolist(),
                           columns=[header], hint=hint)
    return pc.cast(stamp, pa.date32())


def slice_of(spec: SourceSpec, table: pa.Table, academic_year: int) -> dict:
    """The slice a file fills (a corrected file for the same slice replaces it), from the
    source's ``slice`` list in its column map. An item is ``academic_year``; the name of a
    column that is constant in the file (a title field: subject, exam date); or
    ``{key: <name>, distinct: <column>}``: the sorted distinct values of that column
    (``digest: true``: their count and a SHA-256 prefix instead of the list, for long lists
    such as the schools of a staff register)."""
    import hashlib

    out: dict = {}
    for item in spec.get("slice") or ["academic_year"]:
        if item == "academic_year":
            out["academic_year"] = academic_year
        elif isinstance(item, str):
            values = [v for v in pc.unique(table[item]).to_pylist() if v is not None]
            value = values[0] if len(values) == 1 else None
            out[item] = value.isoformat() if hasattr(value, "isoformat") else value
        else:
            values = sorted(str(v) for v in pc.unique(table[item["distinct"]]).to_pylist()
                            if v not in (None, ""))
            if item.get("digest"):
                digest = hashlib.sha256("\n".join(values).encode("utf-8")).hexdigest()
                out[item["key"]] = f"{len(values)}:{digest[:16]}"
            else:
                out[item["key"]] = values
    return out


def constant(value, n: int, type_: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n) if n else pa.array([], type_)


def assemble(schema: pa.Schema, columns: dict[str, pa.Array], n: int) -> pa.Table:
    arrays = []
    for field in schema:
        arr = columns.get(field.name)
        if arr is None:
            arr = pa.nulls(n, field.type)
        elif isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if arr.type != field.type:
            arr = pc.cast(arr, field.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


_TITLE_CLEAN = re.compile(r'^[\s";]+|[\s";]+$')


def clean_title(line: str) -> str:
    return _TITLE_CLEAN.sub("", line.replace("\xa0", " "))
