"""The inbox layout, in one place: `<inbox>/<source>/<academic_year>/<any file name>`.

Listing, the files that are not extracts, the academic-year folders and the fingerprints
the night's planner compares. Ingest, the planner, the inbox assets and `rsoko extract
check` all read the inbox through this module, so they agree on what a file is.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

# Not extracts: Excel's owner files (`~$name.xlsx`, present while a workbook is open), files
# still being copied or downloaded, and the shell's own files. Hidden files too (`.name`).
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".part", ".partial", ".crdownload", ".tmp", ".download")
IGNORED_NAMES = {"thumbs.db", "desktop.ini"}
YEAR_FOLDER = re.compile(r"^\d{4}$")   # the year in which the academic year ends


def is_ignored(path: Path) -> bool:
    name = path.name.lower()
    return (name.startswith(IGNORED_PREFIXES) or name.endswith(IGNORED_SUFFIXES)
            or name in IGNORED_NAMES)


def is_year(name: str) -> bool:
    return bool(YEAR_FOLDER.match(name))


def year_folders(inbox_dir: Path, source: str) -> dict[int, Path]:
    """{academic year: folder} of one source (folders not named like a year are ignored)."""
    base = Path(inbox_dir) / source
    if not base.is_dir():
        return {}
    return {int(p.name): p for p in sorted(base.iterdir()) if p.is_dir() and is_year(p.name)}


def years(inbox_dir: Path, sources) -> list[int]:
    """Academic years present under any of the sources."""
    return sorted({y for s in sources for y in year_folders(inbox_dir, s)})


def files(inbox_dir: Path, source: str, academic_year: int) -> list[Path]:
    """The extracts of one source × year folder (also in sub-folders), sorted. Symbolic
    links are listed too (even dangling ones) so that ingest quarantines them, never
    follows them; directories — even one named like a file — are not extracts."""
    folder = Path(inbox_dir) / source / str(academic_year)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if (p.is_symlink() or p.is_file()) and not is_ignored(p))


def location(path: Path, sources) -> tuple[str | None, int | None]:
    """(source, academic year) of a path laid out as `…/<source>/<year>/<file>`; either is
    None when the path does not say it."""
    year, source = path.parent.name, path.parent.parent.name
    return (source if source in sources else None, int(year) if is_year(year) else None)


def _digest(entries) -> str:
    digest = hashlib.sha256()
    for entry in sorted(entries):
        digest.update("\0".join(map(str, entry)).encode() + b"\n")
    return digest.hexdigest()[:20]


def folder_fingerprint(inbox_dir: Path, source: str, academic_year: int) -> str | None:
    """Names, sizes and mtimes of the folder's extracts (no hashing: a quiet night costs one
    `stat` per file). None when the folder has no extract."""
    folder = Path(inbox_dir) / source / str(academic_year)
    entries = []
    for path in files(inbox_dir, source, academic_year):
        stat = path.lstat()
        entries.append((path.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns))
    return _digest(entries) if entries else None


def source_fingerprints(inbox_dir: Path, source: str) -> dict[str, str]:
    """{academic year (as text): fingerprint} of every non-empty year folder of a source."""
    found = {}
    for year in year_folders(inbox_dir, source):
        fingerprint = folder_fingerprint(inbox_dir, source, year)
        if fingerprint:
            found[str(year)] = fingerprint
    return found


def file_table(inbox_dir: Path, source: str) -> list[dict]:
    """One row per extract of a source (year, file, bytes): what the inbox asset shows."""
    rows = []
    for year in year_folders(inbox_dir, source):
        folder = Path(inbox_dir) / source / str(year)
        for path in files(inbox_dir, source, year):
            rows.append({"year": year, "file": path.relative_to(folder).as_posix(),
                         "bytes": path.lstat().st_size})
    return rows
