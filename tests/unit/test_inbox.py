"""The inbox layout (rsoko_pipelines/inbox.py): `<inbox>/<source>/<academic_year>/<file>`.
Ingest, the planner, the inbox assets and `rsoko extract check` read the inbox only through
this module, so what is an extract, which folders are years and when a folder has changed
are decided here once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rsoko_pipelines import inbox
from rsoko_pipelines.settings import SOURCES


def _file(path: Path, data: bytes = b"x", mtime_ns: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


@pytest.fixture()
def box(tmp_path) -> Path:
    root = tmp_path / "inbox"
    _file(root / "ege" / "2025" / "01_20250603.csv", b"abc", 1_700_000_000_000_000_000)
    _file(root / "ege" / "2025" / "june" / "02_20250610.csv", b"abcd", 1_700_000_001_000_000_000)
    _file(root / "ege" / "2024" / "01_20240603.csv", b"a", 1_600_000_000_000_000_000)
    (root / "ege" / "2023").mkdir(parents=True)                 # an empty year
    (root / "ege" / "old").mkdir()                              # not a year
    _file(root / "ege" / "2022.csv")                            # a file named like a year
    (root / "ege" / "20245").mkdir()                            # five digits: not a year
    _file(root / "vpr" / "2026" / "rus4.xlsx")
    return root


@pytest.mark.parametrize("name", [
    ".hidden.csv", "~$Ведомость.xlsx", "file.csv.part", "file.partial", "file.CRDOWNLOAD",
    "x.tmp", "x.download", "Thumbs.db", "desktop.ini", ".DS_Store"])
def test_not_extracts_are_ignored(name):
    assert inbox.is_ignored(Path("inbox/ege/2025") / name)


@pytest.mark.parametrize("name", ["01_20250603.csv", "Ведомость ЕГЭ.csv", "rus4.xlsx",
                                  "part.csv", "tmp_file.csv", "a.partial.csv"])
def test_extracts_are_not_ignored(name):
    assert not inbox.is_ignored(Path(name))


def test_year_folders_are_four_digit_directories(box):
    assert inbox.is_year("2025") and not inbox.is_year("20245") and not inbox.is_year("old")
    folders = inbox.year_folders(box, "ege")
    assert list(folders) == [2023, 2024, 2025]                  # sorted, ints
    assert folders[2025] == box / "ege" / "2025"
    assert inbox.year_folders(box, "olympiad") == {}            # no folder at all
    assert inbox.years(box, SOURCES) == [2023, 2024, 2025, 2026]
    assert inbox.years(box, ["ege"]) == [2023, 2024, 2025]


def test_files_recurse_skip_ignored_keep_links_never_directories(box):
    folder = box / "ege" / "2025"
    _file(folder / "~$01_20250603.csv")
    _file(folder / "03.csv.part")
    (folder / "looks_like_a_file.csv").mkdir()
    os.symlink("/nonexistent/target.csv", folder / "dangling.csv")
    found = [p.relative_to(folder).as_posix() for p in inbox.files(box, "ege", 2025)]
    assert found == ["01_20250603.csv", "dangling.csv", "june/02_20250610.csv"]
    assert inbox.files(box, "ege", 2023) == [] and inbox.files(box, "ege", 1999) == []


def test_location_of_a_path():
    assert inbox.location(Path("/x/inbox/ege/2025/a.csv"), SOURCES) == ("ege", 2025)
    assert inbox.location(Path("/x/inbox/unknown/2025/a.csv"), SOURCES) == (None, 2025)
    assert inbox.location(Path("/x/inbox/ege/latest/a.csv"), SOURCES) == ("ege", None)
    assert inbox.location(Path("a.csv"), SOURCES) == (None, None)


def test_fingerprints_change_with_name_size_and_mtime_only(box):
    folder = box / "ege" / "2025"
    first = inbox.folder_fingerprint(box, "ege", 2025)
    assert first and len(first) == 20
    assert inbox.folder_fingerprint(box, "ege", 2025) == first          # stable
    assert inbox.folder_fingerprint(box, "ege", 2023) is None           # empty year
    # what is not an extract does not change it (a half-copied file starts no night)
    _file(folder / "04.csv.part", b"half")
    _file(folder / "~$01_20250603.csv")
    assert inbox.folder_fingerprint(box, "ege", 2025) == first
    # same bytes, new mtime
    f = folder / "01_20250603.csv"
    os.utime(f, ns=(1_700_000_000_000_000_001, 1_700_000_000_000_000_001))
    touched = inbox.folder_fingerprint(box, "ege", 2025)
    assert touched != first
    # new size, same mtime
    _file(f, b"abcX", 1_700_000_000_000_000_001)
    assert inbox.folder_fingerprint(box, "ege", 2025) not in (first, touched)
    # a renamed file
    before = inbox.folder_fingerprint(box, "ege", 2025)
    f.rename(folder / "renamed.csv")
    assert inbox.folder_fingerprint(box, "ege", 2025) != before
    # the fingerprint does not depend on where the inbox is (relative names)
    other = box.parent / "moved"
    box.rename(other)
    assert inbox.folder_fingerprint(other, "ege", 2024) is not None


def test_source_fingerprints_and_file_table(box):
    prints = inbox.source_fingerprints(box, "ege")
    assert set(prints) == {"2024", "2025"}                       # text years, empty left out
    assert prints["2024"] == inbox.folder_fingerprint(box, "ege", 2024)
    assert inbox.source_fingerprints(box, "literacy") == {}
    assert inbox.file_table(box, "ege") == [
        {"year": 2024, "file": "01_20240603.csv", "bytes": 1},
        {"year": 2025, "file": "01_20250603.csv", "bytes": 3},
        {"year": 2025, "file": "june/02_20250610.csv", "bytes": 4}]
