"""Shared pieces of the parsers: decoding, header mapping, vectorised casts."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.schemas import ColumnSpec, SourceSpec, normalize_header

UTF8_BOM = b"\xef\xbb\xbf"
_INT_RE = r"^[+-]?\d+$"
_FLOAT_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


def decode_bytes(data: bytes, spec: SourceSpec, name: str, warnings: list[str]) -> str:
    """Bytes → text per the source's encoding contract (strict; see column_maps.yaml)."""
    if not data.strip(b" \t\r\n\x00" + UTF8_BOM):
        raise ExtractError("empty_file", f"{name}: the file is empty",
                           hint="re-export the extract; an empty file carries no data")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4096]:
        raise ExtractError(
            "encoding", f"{name}: the file is UTF-16 (or binary), expected "
            f"{_enc_label(spec)}", hint=f"save the file as CSV in {_enc_label(spec)}")
    encoding = spec.get("encoding")
    if encoding == "cp1251":
        if data.startswith(UTF8_BOM):
            raise ExtractError(
                "encoding", f"{name}: the file is UTF-8 (it starts with a UTF-8 BOM), "
                "expected windows-1251", hint="export the sheet from РИС ГИА again in "
                "windows-1251 (cp1251), or re-save it with that encoding")
        if not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                raise ExtractError(
                    "encoding", f"{name}: the file is UTF-8 with Cyrillic text, expected "
                    "windows-1251", hint="export the sheet from РИС ГИА again in "
                    "windows-1251 (cp1251), or re-save it with that encoding")
        try:
            return data.decode("cp1251")
        except UnicodeDecodeError as err:
            raise ExtractError("encoding", f"{name}: byte offset {err.start} is not valid "
                               "windows-1251", hint="re-export the sheet in windows-1251")
    # utf-8 sources
    if data.startswith(UTF8_BOM):
        data = data[3:]
    elif spec.get("bom") == "expected":
        warnings.append(f"{name}: no UTF-8 BOM at the start (expected one); read as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        looks = ""
        try:
            data.decode("cp1251")
            looks = " (it looks like windows-1251)"
        except UnicodeDecodeError:
            pass
        raise ExtractError(
            "encoding", f"{name}: the file is not valid UTF-8{looks}: byte offset {err.start}",
            hint="save the file as CSV UTF-8 (with BOM for the schools registry)")


def _enc_label(spec: SourceSpec) -> str:
    return {"cp1251": "windows-1251", "utf-8-sig": "UTF-8 with BOM"}.get(
        spec.get("encoding"), "UTF-8")


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
        warnings.append(f"{name}: ignored column(s) not in the contract: "
                        + ", ".join(repr(str(headers[i]).strip()) for i in extra))
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
                header: str) -> pa.Array:
    """Text column → landing type; invalid values raise ExtractError naming lines/column
    (values are not quoted: they may be personal data shifted into the wrong column)."""
    arr = null_if_empty(arr)
    if col.type == "varchar":
        return arr
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
