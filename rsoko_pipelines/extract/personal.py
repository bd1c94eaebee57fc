"""Personal columns → the landing columns derived from them, driven by the column maps.

A personal column (``personal: true``) is read from the file only to compute the landing
columns declared from it, then dropped; its values never reach a landing table, a warning or
an error message (messages name the column header and the rows, never a value). Two kinds:

``derived: pseudonym``  a keyed hash (extract/pseudonym.py) of the columns listed in ``from``,
                        after ``normalize``:
                        ``document``  series + number concatenated, spaces/dashes dropped,
                                      upper case, Cyrillic look-alikes folded to Latin (ГИА);
                        ``snils``     СНИЛС: separators dropped, exactly 11 digits (a value
                                      that is not quarantines the file); a wrong control
                                      number is a warning;
                        ``trim``      surrounding spaces removed (ids of other systems);
                        ``code``      all spaces removed, upper case;
                        with its own ``domain`` prefix (``staff`` → HMAC of ``staff:<digits>``).
``derived: year_of``    the year of the (personal) date column in ``from``.

Example (staff.yaml)::

    - {name: snils, headers: ["СНИЛС"], type: varchar, required: true, personal: true}
    - {name: staff_key, type: varchar, required: true, derived: pseudonym, from: [snils],
       normalize: snils, domain: staff}
    - {name: birth_date, headers: ["Дата рождения"], type: date, personal: true}
    - {name: birth_year, type: integer, derived: year_of, from: [birth_date]}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.common import cast_column, null_if_empty
from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.pseudonym import normalize_document
from rsoko_pipelines.extract.schemas import ColumnSpec, SourceSpec

_SEPARATORS = "[\\s\\-\u2010-\u2015\u2212_]+"   # RE2: the dashes as characters
SNILS_WEIGHTS = np.arange(9, 0, -1, dtype=np.int64)

# a personal file column as read: its text (trimmed, '' → NULL) and the header as delivered
PersonalText = Callable[[str], "tuple[pa.Array, str] | None"]


def derive_from_personal(spec: SourceSpec, read: PersonalText, lines: np.ndarray, name: str,
                         pseudonymizer, warnings: list[str]) -> dict[str, pa.Array]:
    """The landing columns computed from personal columns. ``read(column)`` gives the text of
    a personal column of the file, or None when the file lacks it (its derived column then
    stays NULL; a required one has already failed ``missing_columns``). Without a
    pseudonymizer (the parse floor) the formats are still checked, the keys stay NULL."""
    out: dict[str, pa.Array] = {}
    for col in spec.from_personal_columns:
        parts = [read(c) for c in col.inputs]
        if not parts or all(p is None for p in parts):
            continue
        n = len(lines)
        arrays = [p[0] if p is not None else pa.nulls(n, pa.string()) for p in parts]
        headers = [p[1] for p in parts if p is not None]
        if col.derived == "year_of":
            source = spec_column(spec, col.inputs[0])
            dates = cast_column(arrays[0], source, lines, name, headers[0], guard=False)
            out[col.name] = pc.cast(pc.year(dates), pa.int32())
            continue
        normalised = normalise(col, arrays, lines, name, headers, warnings)
        empty = pc.is_null(normalised).to_numpy(zero_copy_only=False)
        if empty.any():
            warnings.append(
                f"{name}: {int(empty.sum())} line(s) have no value in "
                f"{' / '.join(repr(h) for h in headers)}; {col.name} is empty (lines "
                f"{', '.join(map(str, lines[empty][:10].tolist()))})")
        if pseudonymizer is not None:
            out[col.name] = pseudonymizer.keyed_hashes(normalised, col.domain)
    return out


def spec_column(spec: SourceSpec, column: str) -> ColumnSpec:
    for col in spec.columns:
        if col.name == column:
            return col
    raise KeyError(f"{spec.source}: no column {column!r} in its column map")


def normalise(col: ColumnSpec, arrays: list[pa.Array], lines: np.ndarray, name: str,
              headers: list[str], warnings: list[str]) -> pa.Array:
    """The normalised text the keyed hash is computed over (NULL where empty)."""
    kind = col.normalize or "trim"
    arrays = [null_if_empty(a) for a in arrays]
    if kind == "document":
        return pa.array([normalize_document(*row) or None
                         for row in zip(*(a.to_pylist() for a in arrays))], pa.string())
    if kind == "snils":
        return _snils(arrays[0], lines, name, headers[0], warnings)
    if kind == "trim":
        return arrays[0]
    if kind == "code":
        text = pc.utf8_upper(pc.replace_substring_regex(arrays[0], r"\s+", ""))
        return null_if_empty(text)
    raise ValueError(f"{col.name}: unknown normalisation {kind!r}")  # pragma: no cover


def _snils(arr: pa.Array, lines: np.ndarray, name: str, header: str,
           warnings: list[str]) -> pa.Array:
    digits = pc.replace_substring_regex(arr, _SEPARATORS, "")
    ok = pc.match_substring_regex(digits, r"^\d{11}$")
    bad = np.flatnonzero(pc.fill_null(pc.invert(ok), False).to_numpy(zero_copy_only=False))
    if len(bad):
        raise ExtractError(
            "personal_format", f"{name}: column {header!r} must hold a СНИЛС of 11 digits "
            f"(written 123-456-789 01 or 12345678901); {len(bad)} value(s) do not",
            rows=lines[bad].tolist(), columns=[header],
            hint="correct the СНИЛС on the listed rows in the source system (a СНИЛС typed as "
                 "a number in Excel loses its leading zeros: format the column as text) and "
                 "export the file again")
    wrong = np.flatnonzero(~snils_checksum_ok(digits))
    if len(wrong):
        warnings.append(f"{name}: {len(wrong)} value(s) in column {header!r} have a wrong "
                        "СНИЛС control number (loaded; check them in the source system) (rows "
                        f"{', '.join(map(str, lines[wrong][:10].tolist()))})")
    return digits


def snils_checksum_ok(digits: pa.Array) -> np.ndarray:
    """Per value (11 digits or NULL): the control number (last two digits) agrees with the
    first nine (the Pension Fund rule: Σ digit × weight 9…1; < 100 → itself, 100/101 → 00,
    otherwise mod 101, 100 → 00). Numbers up to 001-001-998 have no control rule; NULL → ok."""
    values = digits.to_pylist() if hasattr(digits, "to_pylist") else list(digits)
    present = np.array([v is not None for v in values], dtype=bool)
    ok = np.ones(len(values), dtype=bool)
    if not present.any():
        return ok
    mat = np.frombuffer("".join(v for v in values if v is not None).encode("ascii"),
                        dtype=np.uint8).reshape(-1, 11).astype(np.int64) - 48
    body = mat[:, :9].dot(SNILS_WEIGHTS)
    control = mat[:, 9] * 10 + mat[:, 10]
    expected = np.where(body < 100, body, np.where(body <= 101, 0, body % 101))
    expected = np.where(expected == 100, 0, expected)
    number = mat[:, :9].dot(10 ** np.arange(8, -1, -1, dtype=np.int64))
    ok[present] = (control == expected) | (number <= 1001998)
    return ok


def snils_control(first_nine: str) -> str:
    """The two control digits of a СНИЛС from its first nine (the demo generator's helper)."""
    body = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1)))
    value = body if body < 100 else (0 if body <= 101 else body % 101)
    return f"{0 if value == 100 else value:02d}"
