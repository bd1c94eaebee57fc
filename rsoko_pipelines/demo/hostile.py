"""A corpus of broken and hostile extracts, made from the files of a generated demo tier.

What operators really drop into the inbox is not what the contract promises: files saved in
the wrong encoding, cut off while copying, edited in Excel, pasted together, renamed, dropped
twice, linked instead of copied, filed under the wrong year. Every :class:`Case` takes a
real generated file, breaks it in one way and states what the platform must do with it, and
*why* — what a regional data engineer would expect (``description``):

- ``load``       — the file loads: exactly ``rows`` rows, and ``values`` (SQL aggregates over
  the file's landing rows, computed here from our own reading of the file) hold;
- ``quarantine`` — the file is quarantined; the report names ``check``, the ``lines`` and
  the ``message`` fragments (the file's own column headers, what is wrong);
- ``duplicate``  — the same bytes were loaded before under another name: nothing new loads;
- ``ignore``     — not an extract at all (an Excel owner file, a folder): left alone.

``build_corpus(base_inbox, out)`` writes the corpus in inbox layout under ``out`` (plus
``out/cases.json``); ``select_base(base_inbox)`` lists the files of the *base* inbox the
corpus expects to be loaded first (the registries of schools and a few result files; load
cases are made from other files, so no case replaces a base file's slice).
``install_corpus(out, inbox)`` copies the corpus into an inbox (keeping symbolic links).
Command line: ``rsoko demo hostile --from <generated tier> --out <dir>``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

from rsoko_pipelines.demo import hostile_csv, hostile_gia, hostile_xlsx
from rsoko_pipelines.demo.hostile_case import EXPECTATIONS, MIN_ROWS, OUTSIDE, Case, Ctx

__all__ = ["Case", "Ctx", "EXPECTATIONS", "MIN_ROWS", "OUTSIDE", "build_corpus",
           "install_corpus", "select_base"]


def select_base(base_inbox: Path) -> list[str]:
    """The base inbox: both registries of schools and a few files of each result source of
    the last year, all loaded before the corpus arrives."""
    base_inbox = Path(base_inbox)
    manifest = json.loads((base_inbox / "manifest.json").read_text(encoding="utf-8"))
    years = sorted(manifest["years"])
    picks = {"ege": 2, "oge": 1, "vpr": 2, "rpr": 1, "olympiad": 1, "literacy": 1}
    out = [p.relative_to(base_inbox).as_posix() for y in years
           for p in sorted((base_inbox / "schools" / str(y)).glob("*.csv"))]
    for source, n in picks.items():
        folder = base_inbox / source / str(years[-1])
        out += [p.relative_to(base_inbox).as_posix() for p in sorted(folder.glob("*.*"))[:n]]
    return out


def build_corpus(base_inbox: Path, out: Path) -> list[Case]:
    """Write every case under `out` (inbox layout) and `out/cases.json`; return the cases."""
    base_inbox, out = Path(base_inbox), Path(out)
    manifest = json.loads((base_inbox / "manifest.json").read_text(encoding="utf-8"))
    years = sorted(manifest["years"])
    if len(years) < 2:
        raise ValueError("the hostile corpus needs a tier with two years (XS or S)")
    if out.exists() and any(out.iterdir()) and not (out / "cases.json").is_file():
        raise ValueError(f"{out} is not empty and holds no earlier corpus (cases.json); "
                         "choose an empty or new folder")
    shutil.rmtree(out, ignore_errors=True)   # an earlier corpus only (checked above)
    out.mkdir(parents=True)
    rows = {f["path"]: f["rows"] for f in manifest.get("files", ())}
    ctx = Ctx(base_inbox, out, years, select_base(base_inbox), rows)
    builders = (*hostile_gia.CASES, *hostile_csv.CASES, *hostile_xlsx.CASES)
    cases = [build(ctx) for build in builders]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert all(c.expect in EXPECTATIONS for c in cases)
    (out / "cases.json").write_text(json.dumps(
        {"base_inbox": str(base_inbox), "base": ctx.base, "future_year": ctx.future,
         "cases": [asdict(c) for c in cases]}, ensure_ascii=False, indent=2), encoding="utf-8")
    return cases


def install_corpus(out: Path, inbox: Path, sources=None) -> None:
    """Copy the corpus (its <source>/ folders, or only those of `sources`; symbolic links
    as links) into an inbox. A broken registry of schools fails the blocking check of
    raw/schools, which holds back every result source of that year in the same run: drop
    the `schools` cases in a run of their own to see the other cases load."""
    for folder in sorted(Path(out).iterdir()):
        if folder.is_dir() and folder.name != OUTSIDE and (
                sources is None or folder.name in sources):
            shutil.copytree(folder, Path(inbox) / folder.name, symlinks=True,
                            dirs_exist_ok=True)
