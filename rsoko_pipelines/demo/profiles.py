"""Generator profiles: the built-in demo region (``default``) and a second region that
differs from it in every way the input contract allows (``variant``, issue 13).

A profile only says *what* differs; each source generator asks ``region.profile`` where its
output may vary. The default profile reproduces the original demo region byte for byte.

What the ``variant`` region varies, contract line by line (``extracts.md``; see also
``docs/demo-variant.md``):

* inbox: years with a gap (S: 2023, 2025, 2026; XS: 2024, 2026); sources missing in some
  years (РПР never, literacy in one year only, no olympiad in the first year); file names
  chosen freely (no subject or date in them, some without an extension, some with an
  upper-case one, some misleading); one file delivered twice under two names (same bytes);
* identifiers: region code ``03``; municipality codes of exactly three digits, several with
  a leading zero; РИС ГИА school codes numbered from ``0001`` in every municipality (unique
  only within the МСУ, as the contract says, so the same code occurs in several МСУ);
* registry: two schools merge into a *new* school (a code that did not exist before); the
  registry of a later year no longer lists closed schools;
* ГИА: removed and annulled lines keep the scanned answer strings; an annulled participant
  sits again on the reserve day (the later sitting is the result of record); document series
  written with a space on some lines (``45 19``; the normalised document is the same);
  ГВЭ-9 electives (codes 53–68), not only 51 and 52;
* ВПР: only per-school files in one year, only regional files in the next; participant
  codes numbered within each school with leading zeros (``00017``), so the same code occurs
  in every school; a few marks that disagree with the seed boundaries (a data-quality
  finding, not a reason to drop the row);
* olympiad: one file per year with every stage, decimal comma and point mixed within the
  file, ``призёр`` and ``призер`` mixed within the file;
* literacy: participant codes unique only within the school (``001``, ``002``… in every
  school).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    region_code: str
    # academic years per tier; a tier not listed keeps its TierSpec years
    years: dict = field(default_factory=dict)
    three_digit_msu_codes: bool = False
    gia_codes_per_msu: bool = False          # РИС ГИА codes restart at 0001 in every МСУ
    merge_into_new_school: bool = False      # a reorganisation whose successor is new
    drop_closed_schools: bool = False        # closed schools leave later registries
    # source -> which of the region's years (by position) it is delivered in; absent: all
    source_years: dict = field(default_factory=dict)
    # VPR layout forced per year position: {position: 'school' | 'region'}
    vpr_layouts: dict = field(default_factory=dict)
    vpr_codes_per_school: bool = False       # '00017': numbered within the school
    vpr_marks_off_boundaries: int = 0        # works per year whose mark disagrees with the seed
    literacy_codes_per_school: bool = False
    gia_answers_on_removed: bool = False
    gia_resit_after_annulment: bool = False
    gia_spaced_series_share: float = 0.0
    gve_electives: bool = False
    olympiad_single_mixed_file: bool = False
    free_file_names: bool = False
    duplicate_delivery: bool = False

    def years_for(self, tier: str, default: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(self.years.get(tier, default))

    def delivers(self, source: str, year: int, years: list[int]) -> bool:
        """Whether ``source`` is delivered in ``year`` (one of the region's ``years``)."""
        positions = self.source_years.get(source)
        if positions is None:
            return True
        wanted = {years[p] for p in positions if -len(years) <= p < len(years)}
        return year in wanted

    def vpr_layout(self, year: int, years: list[int]) -> str | None:
        for position, layout in self.vpr_layouts.items():
            if -len(years) <= position < len(years) and years[position] == year:
                return layout
        return None


DEFAULT = Profile(name="default", region_code="07")

VARIANT = Profile(
    name="variant",
    region_code="03",
    years={"XS": (2024, 2026), "S": (2023, 2025, 2026), "M": (2026,), "F": (2026,)},
    three_digit_msu_codes=True,
    gia_codes_per_msu=True,
    merge_into_new_school=True,
    drop_closed_schools=True,
    # РПР never; literacy only in the next-to-last year; olympiad not in the first year
    source_years={"rpr": (), "literacy": (-2,), "olympiad": (1, 2)},
    # per-school files only in the next-to-last year, regional files only in the last
    vpr_layouts={-2: "school", -1: "region"},
    vpr_codes_per_school=True,
    vpr_marks_off_boundaries=3,
    literacy_codes_per_school=True,
    gia_answers_on_removed=True,
    gia_resit_after_annulment=True,
    gia_spaced_series_share=0.05,
    gve_electives=True,
    olympiad_single_mixed_file=True,
    free_file_names=True,
    duplicate_delivery=True,
)

PROFILES = {p.name: p for p in (DEFAULT, VARIANT)}


def get_profile(profile: "str | Profile | None") -> Profile:
    if profile is None:
        return DEFAULT
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[str(profile).lower()]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}") from None
