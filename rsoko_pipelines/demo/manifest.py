"""The ground-truth manifest of a generated demo region (``<out>/manifest.json``).

It lists every file written (source, academic year, relative path, sha256, bytes, data rows,
slice, quirks), totals per source, and the truths planted in the region, so tests and
benchmarks can check that the pipeline finds them. It holds no personal data and no
timestamps: the same tier and seed give a byte-identical manifest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.region import LIQUIDATED, REORGANISED, Region

GENERATOR_VERSION = "1.1.0"
MANIFEST_NAME = "manifest.json"


def file_digest(path: Path) -> tuple[str, int]:
    """(sha256 hex, size in bytes) of a file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


@dataclass
class FileEntry:
    source: str
    academic_year: int
    path: str              # relative to the output folder, '/'-separated
    sha256: str
    bytes: int
    rows: int
    slice: dict = field(default_factory=dict)
    quirks: list[str] = field(default_factory=list)

    @classmethod
    def from_record(cls, rec: FileRecord, out_dir: Path) -> "FileEntry":
        digest, size = file_digest(Path(out_dir) / rec.path)
        return cls(rec.source, int(rec.academic_year), Path(rec.path).as_posix(), digest, size,
                   int(rec.rows), dict(rec.slice), list(rec.quirks))


@dataclass
class Manifest:
    tier: str
    seed: int
    years: list[int]
    region_code: str
    files: list[FileEntry]
    truths: dict
    generator_version: str = GENERATOR_VERSION
    profile: str = "default"

    def totals(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            t = out.setdefault(f.source, {"files": 0, "rows": 0, "bytes": 0})
            t["files"] += 1
            t["rows"] += f.rows
            t["bytes"] += f.bytes
        return dict(sorted(out.items()))

    def to_dict(self) -> dict:
        return {
            "generator": "rsoko demo generator",
            "generator_version": self.generator_version,
            "tier": self.tier,
            "seed": self.seed,
            "years": self.years,
            "region_code": self.region_code,
            "profile": self.profile,
            "totals": self.totals(),
            **self.truths,
            "files": [vars(f) for f in self.files],
        }

    def write(self, out_dir: Path) -> Path:
        path = Path(out_dir) / MANIFEST_NAME
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=False)
        path.write_text(text + "\n", encoding="utf-8", newline="\n")
        return path

    @classmethod
    def read(cls, out_dir: Path) -> dict:
        return json.loads((Path(out_dir) / MANIFEST_NAME).read_text(encoding="utf-8"))


def planted_truths(region: Region, records: list[FileRecord]) -> dict:
    """The truths planted in the region, plus ГИА quirk counts taken from the files."""
    s = region.schools.sort_values(["academic_year", "school_code"], kind="stable")

    def pairs(mask) -> list[dict]:
        return [{"academic_year": int(y), "school_code": str(c)}
                for y, c in s.loc[mask, ["academic_year", "school_code"]].itertuples(index=False)]

    reorganised = [
        {"academic_year": int(y), "school_code": str(c), "successor_code": str(sc)}
        for y, c, sc in s.loc[s["status"] == REORGANISED,
                              ["academic_year", "school_code", "successor_code"]]
        .itertuples(index=False)
    ]
    gia = [r for r in records if r.source in ("ege", "oge")]
    from rsoko_pipelines.demo.directions_4_9 import planted as planted_directions_4_9

    def count(key: str, source: str | None = None) -> int:
        return int(sum(int(r.slice.get(key, 0)) for r in gia
                       if source is None or r.source == source))

    return {
        **staff_truths(region, records),
        **methodology_truths(s, records),
        "vpr_inflating_schools": pairs(s["is_inflating_vpr"].to_numpy()),
        "low_results_schools": pairs(s["is_low_results"].to_numpy()),
        "resilient_schools": pairs(s["is_resilient"].to_numpy()),
        "reorganised_schools": reorganised,
        "liquidated_schools": pairs((s["status"] == LIQUIDATED).to_numpy()),
        "gia_retakes": count("n_retake_rows"),
        "gia_removed": count("n_removed"),
        "gia_annulled": count("n_annulled"),
        "gia_by_source": {
            src: {"retakes": count("n_retake_rows", src), "removed": count("n_removed", src),
                  "annulled": count("n_annulled", src)}
            for src in sorted({r.source for r in gia})
        },
        # directions 4 and 9 (issue 18): NEET municipalities, coverage, school climate
        **planted_directions_4_9(region),
    }


STAFF_SOURCES = ("staff", "dpo", "deficits", "nokuod")


def staff_truths(region: Region, records: list[FileRecord]) -> dict:
    """Directions 6 and 7 (issue 17), when one of their sources was generated: the planted
    municipality deficit shares, targeted-ДПО counts, head turnarounds (demo/staff_model.py)
    and the schools НОКУОД never assessed (demo/nokuod.py)."""
    sources = {r.source for r in records}
    if not sources & set(STAFF_SOURCES):
        return {}
    from rsoko_pipelines.demo.nokuod import never_assessed
    from rsoko_pipelines.demo.staff_model import build_staff_model

    truths = {k: v for k, v in build_staff_model(region).truths.items() if k != "propensity"}
    truths["nokuod_never_assessed"] = never_assessed(region) if "nokuod" in sources else []
    return json.loads(json.dumps(truths, default=float))   # numpy scalars → plain numbers
def not_delivered(region: Region, records: list[FileRecord]) -> dict[str, list[int]]:
    """Source -> the region's years without a file of it (a profile that skips sources)."""
    delivered: dict[str, set[int]] = {}
    for r in records:
        delivered.setdefault(r.source, set()).add(int(r.academic_year))
    out = {}
    for source in sorted(set(region.profile.source_years) | set(delivered)):
        missing = [y for y in region.years if y not in delivered.get(source, set())]
        if missing:
            out[source] = missing
    return out


def methodology_truths(s, records: list[FileRecord]) -> dict:
    """The truths of issue 21 (demo/planted.py), in the years whose files carry them: ВПР
    (and, for the not-confirmed schools, ОГЭ) or the olympiad delivered that year."""
    years = {src: {int(r.academic_year) for r in records if r.source == src}
             for src in ("vpr", "oge", "olympiad")}
    s = s[s["status"] == "действующая"] if "status" in s else s

    def rows(mask, extra: dict, need: tuple[str, ...]) -> list[dict]:
        sel = s[mask & s["academic_year"].isin(set.intersection(*(years[n] for n in need)))]
        out = []
        for r in sel.itertuples(index=False):
            item = {"academic_year": int(r.academic_year), "school_code": str(r.school_code)}
            item.update({k: f(r) for k, f in extra.items()})
            out.append(item)
        return out

    if "vpr_leaked_form" not in s:
        return {}
    return {
        "vpr_leaked_answers": rows(
            s["vpr_leaked_form"].notna(),
            {"subject_code": lambda r: r.vpr_leaked_form.split(":")[0],
             "grade": lambda r: int(r.vpr_leaked_form.split(":")[1])}, ("vpr",)),
        "vpr_not_confirmed_schools": rows(
            s["vpr_not_confirmed_subject"].notna(),
            {"subject_code": lambda r: r.vpr_not_confirmed_subject}, ("vpr", "oge")),
        "vpr_inflating_lookalikes": rows(s["is_inflating_lookalike"].astype(bool), {}, ("vpr",)),
        "olympiad_generous_schools": rows(s["is_olympiad_generous"].astype(bool), {},
                                          ("olympiad",)),
    }


def build_manifest(region: Region, records: list[FileRecord], entries: list[FileEntry]) -> Manifest:
    entries = sorted(entries, key=lambda e: e.path)
    truths = planted_truths(region, records)
    if region.profile.name != "default":
        truths["not_delivered"] = not_delivered(region, records)
    if any(r.source == "measures" for r in records):      # issue 19: the management cycle
        from rsoko_pipelines.demo.measures import management_truths

        truths["management_cycle"] = management_truths(region)
    return Manifest(region.tier, region.seed, list(region.years), region.region_code, entries,
                    truths, profile=region.profile.name)
