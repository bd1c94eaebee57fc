"""File names as operators leave them (profiles with ``free_file_names``), and a file
delivered twice.

extracts.md: «File names are free: operators rename files. The subject, grade and date
come from the file's content, never from its name.» So a profile may rename every file of
the region: no subject, grade or date in the name, sometimes no extension, sometimes an
upper-case one, sometimes a name that points to another subject. Names never start with
``.`` or ``~$`` and never end like a partial download: those are not extracts
(``ingest/landing.py``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from rsoko_pipelines.demo.records import FileRecord

_PATTERNS = (
    "выгрузка ({k}){ext}",
    "Копия файла {k}{EXT}",
    "results_{k:03d}",
    "{k} итоговый{ext}",
    "Отчёт №{k} от 12.06{ext}",
    "ведомость математика {k}{ext}",     # whatever the content: the name may mislead
    "Новая папка - файл {k}{ext}",
)


def free_name(k: int, suffix: str, rng: np.random.Generator) -> str:
    pattern = _PATTERNS[int(rng.integers(0, len(_PATTERNS)))]
    return pattern.format(k=k, ext=suffix.lower(), EXT=suffix.upper())


def rename_freely(records: list[FileRecord], out_dir: Path,
                  rng: np.random.Generator) -> list[FileRecord]:
    """Rename every file of ``records`` (one generator unit: one source, and one year or
    all years) to a free name within its folder; the records follow."""
    out = []
    for k, rec in enumerate(records, start=1):
        old = Path(rec.path)
        new = old.with_name(free_name(k, old.suffix, rng))
        os.replace(Path(out_dir) / old, Path(out_dir) / new)
        out.append(replace(rec, path=new, quirks=tuple(sorted({*rec.quirks, "free_name"}))))
    return out


def deliver_twice(rec: FileRecord, out_dir: Path) -> FileRecord:
    """The same bytes under a second name in the same folder (the pipeline loads it once)."""
    copy = Path(rec.path).with_name("повторная отправка " + Path(rec.path).name)
    shutil.copyfile(Path(out_dir) / rec.path, Path(out_dir) / copy)
    return replace(rec, path=copy, slice={**rec.slice, "duplicate_of": Path(rec.path).as_posix()},
                   quirks=tuple(sorted({*rec.quirks, "duplicate_delivery"})))
