"""Cell-level defences shared by the CSV and XLSX parsers.

Three kinds of bad text pass every type cast and would reach a landing table unnoticed:

- **spreadsheet formulas** in text (``=HYPERLINK("http://x","y")``, ``=cmd|' /C calc'!A0``):
  inert in DuckDB, but executed when an analyst opens an export of the table in Excel
  ("CSV injection"). No field of any contract starts with ``=`` or ``@`` (or with ``+``/``-``
  followed by a letter or a bracket), so such a value means the file was tampered with or
  hand-edited. Decision: the file is **quarantined**, not neutralised — a neutralised value
  (``'=…``) would silently differ from the source system, and the contract forbids that;
- **very long cells** (a paste gone wrong: a megabyte in a class name). The longest legitimate
  values (official school names) are a few hundred characters; ``max_cell_chars`` in
  the column maps (``extract/sources/<source>.yaml``) sets the limit;
- **look-alike letters** (``letters`` in the column maps (``extract/sources/<source>.yaml``)): a Latin ``O`` in a school code,
  a Cyrillic ``с`` in a ФИС ОКО login, a Latin ``A`` in a class name or a subject name typed
  half in the Latin layout look right on screen but match nothing in the registry or the
  reference data — the rows would load and then silently fall out of every join.

Messages name the column (the header as delivered), the lines and the offending character,
never the value itself (it may be personal data shifted into the wrong column).
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rsoko_pipelines.extract.errors import ExtractError
from rsoko_pipelines.extract.schemas import ColumnSpec, column_maps

FORMULA_RE = r'^(?:[=@\x{FF1D}\x{FF20}]|[+\-\x{2212}].*[\pL(|!=@"])'
MIXED_WORD_RE = r"\p{Cyrillic}\p{Latin}|\p{Latin}\p{Cyrillic}"

# letters that pass for a digit, a Latin letter or a Cyrillic letter on screen
DIGIT_TWINS = {"O": "0", "o": "0", "О": "0", "о": "0", "I": "1", "l": "1", "І": "1",
               "і": "1", "З": "3", "з": "3", "б": "6", "B": "8", "В": "8"}
LATIN_TWINS = dict(zip("ABCEHKMOPTXaceopxy", "АВСЕНКМОРТХасеорху"))   # Latin → Cyrillic
CYRILLIC_TWINS = {c: l for l, c in LATIN_TWINS.items()}                  # Cyrillic → Latin


def _only(allowed: str, twins: str) -> str:
    """A value made of `allowed` characters and look-alike `twins`, with at least one twin:
    what a code typed in the wrong layout looks like. Anything else (a surname shifted into
    a code column) is a plain format error, which the GX suite reports."""
    return f"^[{allowed}{twins}]*[{twins}][{allowed}{twins}]*$"


_LETTER_RULES = {
    # letters: (regex of a suspicious cell, what was expected)
    "digits": (_only(r"\d", "".join(DIGIT_TWINS)), "digits only"),
    "latin": (_only("A-Za-z0-9", "".join(CYRILLIC_TWINS)), "Latin letters and digits"),
    "cyrillic": (_only(r"\d\p{Cyrillic}\s\-", "".join(LATIN_TWINS)), "Cyrillic letters"),
    "words": (MIXED_WORD_RE, "words in one alphabet"),
}


def max_cell_chars() -> int:
    return int(column_maps().get("max_cell_chars", 2000))


def _where(mask: pa.Array) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def check_text(arr: pa.Array, col: ColumnSpec, lines: np.ndarray, name: str,
               header: str) -> None:
    """Raise ExtractError if a (trimmed) text column holds an over-long value, a formula or
    a look-alike letter; `lines` are the file lines/sheet rows of the array's elements."""
    if len(arr) == 0:
        return
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    check_length(arr, lines, name, header)
    check_formulas(arr, lines, name, header)
    if col.letters:
        check_letters(arr, col.letters, lines, name, header)


def check_length(arr: pa.Array, lines: np.ndarray, name: str, header: str) -> None:
    limit = max_cell_chars()
    lengths = pc.utf8_length(arr)
    idx = _where(pc.greater(lengths, limit))
    if len(idx):
        raise ExtractError(
            "cell_too_long", f"{name}: column {header!r} holds {len(idx)} value(s) longer than "
            f"{limit:,} characters (the longest: {pc.max(lengths).as_py():,})",
            rows=lines[idx].tolist(), columns=[header],
            hint="a paste or an export went wrong in the listed cells: correct them at the "
                 "source and export the file again")


def check_formulas(arr: pa.Array, lines: np.ndarray, name: str, header: str) -> None:
    idx = _where(pc.match_substring_regex(arr, FORMULA_RE))
    if len(idx):
        raise ExtractError(
            "formula_text", f"{name}: column {header!r} holds {len(idx)} value(s) that start "
            "like a spreadsheet formula ('=', '@', or '+'/'-' followed by text); they would run "
            "as formulas when the data is opened in Excel", rows=lines[idx].tolist(),
            columns=[header], hint="no field of the contract is a formula: remove the formulas "
            "(the file was edited by hand or tampered with) or export the file again from the "
            "source system")


def check_letters(arr: pa.Array, letters: str, lines: np.ndarray, name: str,
                  header: str) -> None:
    pattern, expected = _LETTER_RULES[letters]
    bad = _where(pc.match_substring_regex(arr, pattern))
    if not len(bad):
        return
    culprit = describe_lookalike(arr[int(bad[0])].as_py(), letters)
    raise ExtractError(
        "lookalike_letters", f"{name}: column {header!r} should hold {expected}, but "
        f"{len(bad)} value(s) contain {culprit}", rows=lines[bad].tolist(), columns=[header],
        hint="retype the value in the source system with the right keyboard layout (the "
             "letters look the same on screen but do not match the registry or the reference "
             "data), then export the file again")


def describe_lookalike(value: str, letters: str) -> str:
    """'the Latin letter 'O' (U+004F) where the digit '0' is expected' for the first
    offending character of value (the character, never the value: it may be personal)."""
    for i, ch in enumerate(value):
        if letters == "digits" and ch in DIGIT_TWINS:
            return f"{_name(ch)} where the digit '{DIGIT_TWINS[ch]}' is expected"
        if letters == "latin" and _script(ch) == "CYRILLIC":
            twin = CYRILLIC_TWINS.get(ch)
            return _name(ch) + (f" that looks like the Latin '{twin}'" if twin else "")
        if letters == "cyrillic" and ch in LATIN_TWINS:
            return f"{_name(ch)} that looks like the Cyrillic '{LATIN_TWINS[ch]}'"
        if letters == "words" and i and ch.isalpha() and value[i - 1].isalpha() \
                and {_script(ch), _script(value[i - 1])} == {"LATIN", "CYRILLIC"}:
            latin = ch if _script(ch) == "LATIN" else value[i - 1]
            return f"a word mixing Latin and Cyrillic letters ({_name(latin)})"
    return "look-alike letters"


def _script(ch: str) -> str:
    try:
        return unicodedata.name(ch).split()[0]
    except ValueError:
        return ""


def _name(ch: str) -> str:
    script = _script(ch).capitalize() or "a"
    return f"the {script} letter '{ch}' (U+{ord(ch):04X})"


def check_title_words(text: str, name: str, row: int, what: str) -> None:
    """A subject name in a title line/row typed half in the Latin layout."""
    arr = pa.array([text], pa.string())
    check_letters(arr, "words", np.array([row]), name, what)
