"""Bytes → text per the source's encoding contract (strict; see extract/sources/<source>.yaml).

Why strict: windows-1251 decodes *any* byte sequence, so UTF-8 text read as windows-1251 does
not fail — it turns «11А» into «11Рђ» and lands silently. The same holds for a file that
mixes both encodings (lines pasted from another export). So before decoding a
windows-1251 source we look for lines that are valid UTF-8 with Cyrillic, and a UTF-8
source that fails to decode is reported line by line, so the operator knows which
lines were pasted from elsewhere.
"""

from __future__ import annotations

import re

from rsoko_pipelines.extract.errors import ExtractError

UTF8_BOM = b"\xef\xbb\xbf"
_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")
MAX_LINES = 50


_LABELS = {"cp1251": "windows-1251", "utf-8-sig": "UTF-8 with BOM"}


def enc_label(spec) -> str:
    encoding = spec.get("encoding")
    if isinstance(encoding, list):
        return " or ".join(_LABELS.get(e, "UTF-8") for e in encoding)
    return _LABELS.get(encoding, "UTF-8")


def utf8_cyrillic_lines(data: bytes, limit: int = MAX_LINES) -> list[int]:
    """1-based numbers of lines that are valid UTF-8 holding Cyrillic (at most `limit`). A
    windows-1251 line with Cyrillic is practically never valid UTF-8 (its letters are bytes
    0xC0–0xFF, which UTF-8 allows only as lead bytes), so such a line was written as UTF-8."""
    found: list[int] = []
    pos, line_no, counted_to = 0, 1, 0
    while len(found) < limit and (m := _UTF8_CYRILLIC.search(data, pos)):
        start = data.rfind(b"\n", 0, m.start()) + 1
        end = data.find(b"\n", m.end())
        end = len(data) if end < 0 else end
        line_no += data.count(b"\n", counted_to, start)
        counted_to = start
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            found.append(line_no)
        pos = end + 1
    return found


def not_utf8_lines(data: bytes, limit: int = MAX_LINES) -> dict[int, bytes]:
    """{1-based line number: bytes} of lines that are not valid UTF-8 (at most `limit`);
    error path only."""
    bad = {}
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad[number] = line
            if len(bad) >= limit:
                break
    return bad


def decode_bytes(data: bytes, spec, name: str, warnings: list[str]) -> str:
    if not data.strip(b" \t\r\n\x00" + UTF8_BOM):
        raise ExtractError("empty_file", f"{name}: the file is empty",
                           hint="re-export the extract; an empty file carries no data")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4096]:
        raise ExtractError(
            "encoding", f"{name}: the file is UTF-16 (or binary), expected "
            f"{enc_label(spec)}", hint=f"save the file as CSV in {enc_label(spec)}")
    encoding = spec.get("encoding")
    if isinstance(encoding, list):         # e.g. [utf-8-sig, cp1251]: both occur
        return _decode_either(data, spec, name, warnings)
    if encoding == "cp1251":
        return _decode_cp1251(data, name)
    return _decode_utf8(data, spec, name, warnings)


def _decode_either(data: bytes, spec, name: str, warnings: list[str]) -> str:
    """UTF-8 with BOM or windows-1251 (the staff register: both occur). The BOM decides; a
    file without one that is valid UTF-8 is UTF-8 (windows-1251 Cyrillic is never valid
    UTF-8), read with a warning; otherwise it is windows-1251, strictly (mixed lines fail)."""
    if data.startswith(UTF8_BOM):
        return _decode_utf8(data, {"bom": "expected"}, name, warnings)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_cp1251(data, name, hint=f"save the whole file in {enc_label(spec)}")
    if not data.isascii():
        warnings.append(f"{name}: UTF-8 without a BOM (expected {enc_label(spec)}); read as "
                        "UTF-8")
    return text


def _decode_cp1251(data: bytes, name: str, hint: str | None = None) -> str:
    hint = hint or ("export the sheet from РИС ГИА again in windows-1251 (cp1251), or re-save "
                    "it with that encoding")
    if data.startswith(UTF8_BOM):
        raise ExtractError("encoding", f"{name}: the file is UTF-8 (it starts with a UTF-8 "
                           "BOM), expected windows-1251", hint=hint)
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            mixed = utf8_cyrillic_lines(data)
            if mixed:
                raise ExtractError(
                    "encoding", f"{name}: the file mixes encodings: {len(mixed)}"
                    f"{'+' if len(mixed) >= MAX_LINES else ''} line(s) are UTF-8, the rest "
                    "windows-1251 (lines pasted from another file?)", rows=mixed,
                    hint=hint + " (do not paste lines from other files)") from None
        else:
            raise ExtractError("encoding", f"{name}: the file is UTF-8 with Cyrillic text, "
                               "expected windows-1251", hint=hint)
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ExtractError("encoding", f"{name}: line {line} (byte offset {err.start}) is not "
                           "valid windows-1251", rows=[line], hint=hint) from None


def _decode_utf8(data: bytes, spec, name: str, warnings: list[str]) -> str:
    if data.startswith(UTF8_BOM):
        data = data[3:]
    elif spec.get("bom") == "expected":
        warnings.append(f"{name}: no UTF-8 BOM at the start (expected one); read as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    bad = not_utf8_lines(data)
    looks = ""
    try:
        b"".join(bad.values()).decode("cp1251")
        looks = " (they look like windows-1251)"
    except UnicodeDecodeError:
        pass
    mixed = utf8_cyrillic_lines(data, limit=1)
    what = "the file mixes encodings: " if mixed else "the file is not UTF-8: "
    raise ExtractError(
        "encoding", f"{name}: {what}{len(bad)}{'+' if len(bad) >= MAX_LINES else ''} line(s) "
        f"are not valid UTF-8{looks}", rows=list(bad),
        hint="save the whole file as CSV UTF-8" + (" with BOM" if spec.get("bom") == "expected"
                                                    else "") + " and drop it again")
