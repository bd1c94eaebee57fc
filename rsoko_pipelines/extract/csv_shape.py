"""Line-shape defences of the CSV parser (csv_sources.py): what hand editing and gluing do
to the shape of a file, reported as what it is instead of as a confusing type error, or
tolerated where nothing is lost."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.schemas import normalize_header


def split_line(text: str, pos: int) -> tuple[str, int]:
    """The line starting at pos (without its line end) and the start of the next line."""
    end = text.find("\n", pos)
    if end < 0:
        return text[pos:].rstrip("\r"), len(text)
    return text[pos:end].rstrip("\r"), end + 1


def cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])


def with_trailing_delimiter(headers: list[str], body: str, delimiter: str) -> list[str]:
    """Some exports end every data line, but not the header, with the separator: the extra
    field is empty, so it gets an empty header (and the unnamed-column check below) instead
    of failing every line on its field count."""
    first, _ = split_line(body, len(body) - len(body.lstrip("\r\n")))
    fields = cells(first, delimiter) if first else []
    if len(fields) == len(headers) + 1 and not fields[-1].strip():
        return headers + [""]
    return headers


def values_without_header(raw: pa.Table, names: list[str], positions: list[int],
                          lines: np.ndarray, name: str) -> None:
    """A value under an empty header is a shifted line (an extra separator inside it), or
    data nobody can name: loading the file would silently drop it."""
    bad = None
    for i in positions:
        ne = pc.not_equal(pc.utf8_trim_whitespace(raw.column(names[i])), "")
        bad = ne if bad is None else pc.or_(bad, ne)
    idx = np.flatnonzero(bad.to_numpy(zero_copy_only=False))
    raise ExtractError(
        "row_shape", f"{name}: {len(idx)} line(s) have a value in column position(s) "
        f"{', '.join(str(i + 1) for i in positions[:10])} that have no header",
        rows=lines[idx].tolist(), columns=[f"column {i + 1} (no header)" for i in positions[:10]],
        hint="check the listed lines for an extra ';' (a ';' inside a value must be quoted), "
             "or give the column its header, and export again")


def repeated_header(raw: pa.Table, names: list[str], headers: list[str], lines: np.ndarray,
                    name: str) -> None:
    """The header again among the data: several exports glued together (often each with
    its own BOM). Its cells would otherwise fail as wrong types or load as a bogus row."""
    keys = [(i, normalize_header(h)) for i, h in enumerate(headers) if normalize_header(h)][:2]
    if len(keys) < 2 or raw.num_rows == 0:
        return
    same = None
    for i, key in keys:
        cell = pc.utf8_lower(pc.utf8_trim(raw.column(names[i]), " \t\ufeff\xa0\""))
        eq = pc.equal(pc.replace_substring(cell, "ё", "е"), key)
        same = eq if same is None else pc.and_(same, eq)
    idx = np.flatnonzero(same.to_numpy(zero_copy_only=False))
    if len(idx):
        raise ExtractError(
            "repeated_header", f"{name}: the header is repeated at {len(idx)} line(s) among the "
            "data: the file looks like several exports glued together", rows=lines[idx].tolist(),
            hint="drop each export as its own file (file names are free), or remove the repeated "
                 "header lines, and drop the file again")
