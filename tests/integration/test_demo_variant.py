"""The `variant` demo region (issue 13, item 5): every way it differs from the default
region, checked on the generated files themselves (read back with independent readers,
not with the pipeline's parsers). A shrunken tier XS (40 schools, years 2024 and 2026)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.file_names import _PATTERNS
from rsoko_pipelines.demo.generate import generate
from rsoko_pipelines.demo.region import build_region

SEED = 20250607
FOOTERS = ("Средние", "Минимальная граница", "Всего участников")


@pytest.fixture(scope="module")
def variant(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("variant_xs")
    generate("XS", SEED, out, workers=1, n_schools=40, quiet=True, profile="variant")
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def files(manifest: dict, source: str, year: int | None = None) -> list[dict]:
    return [f for f in manifest["files"] if f["source"] == source
            and (year is None or f["academic_year"] == year)]


def registry(out: Path, manifest: dict, year: int) -> pd.DataFrame:
    (entry,) = files(manifest, "schools", year)
    return pd.read_csv(out / entry["path"], sep=";", dtype=str, encoding="utf-8-sig",
                       keep_default_na=False)


def gia_sheet(path: Path) -> tuple[str, pd.DataFrame]:
    """(title line, participant rows as text) of a РИС ГИА sheet; footers dropped."""
    lines = path.read_bytes().decode("cp1251").split("\r\n")
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=";"))
    rows = [r for r in rows[1:] if r and r[0] not in FOOTERS]
    return lines[0], pd.DataFrame(rows, columns=next(csv.reader([lines[1]], delimiter=";")))


def vpr_rows(path: Path) -> pd.DataFrame:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = [str(v) for v in rows[3] if v != ""]
    data = [r[:len(header)] for r in rows[4:] if any(v not in ("", None) for v in r)]
    return pd.DataFrame(data, columns=header)


def test_years_with_a_gap_and_sources_missing_in_some_years(variant):
    out, m = variant
    assert m["profile"] == "variant" and m["years"] == [2024, 2026]
    assert m["not_delivered"] == {"literacy": [2026], "olympiad": [2024], "rpr": [2024, 2026]}
    assert not (out / "rpr").exists()
    assert sorted(p.name for p in (out / "literacy").iterdir()) == ["2024"]
    assert sorted(p.name for p in (out / "olympiad").iterdir()) == ["2026"]
    for source in ("schools", "ege", "oge", "vpr"):
        assert sorted(p.name for p in (out / source).iterdir()) == ["2024", "2026"], source
    # and tier S of the profile: three years, 2024 missing
    assert build_region("S", SEED, n_schools=30, profile="variant").years == [2023, 2025, 2026]


def test_region_and_municipality_codes(variant):
    out, m = variant
    assert m["region_code"] == "03"
    for year in m["years"]:
        reg = registry(out, m, year)
        assert reg["Код ОО"].str.fullmatch(r"03\d{4}").all()
        assert reg["Код МСУ"].str.fullmatch(r"\d{3}").all()          # always three digits
        assert reg["Код МСУ"].str.startswith("0").any()               # leading zeros kept
        logins = reg.loc[reg["Логин ФИС ОКО"] != "", "Логин ФИС ОКО"]
        assert logins.str.fullmatch(r"sch\d{6}").all()


def test_gia_codes_unique_only_within_the_municipality(variant):
    out, m = variant
    reg = registry(out, m, 2024)
    gia = reg[reg["Код ОО РИС ГИА"] != ""]
    assert not gia.duplicated(["Код МСУ", "Код ОО РИС ГИА"]).any()
    per_code = gia.groupby("Код ОО РИС ГИА")["Код МСУ"].nunique()
    assert (per_code >= 2).any(), "the same РИС ГИА code should occur in several МСУ"
    assert "0001" in set(gia["Код ОО РИС ГИА"])


def test_merger_into_a_new_school_and_closed_schools_leave_the_registry(variant):
    out, m = variant
    first, last = (set(registry(out, m, y)["Код ОО"]) for y in m["years"])
    reorganised = [r for r in m["reorganised_schools"] if r["academic_year"] == 2026]
    new = [r for r in reorganised if r["successor_code"] not in first]
    assert len(new) == 2 and len({r["successor_code"] for r in new}) == 1
    successor = new[0]["successor_code"]
    assert successor in last
    reg = registry(out, m, 2026)
    merged = reg[reg["Код ОО"].isin([r["school_code"] for r in new])]
    assert (merged["Статус"] == "реорганизована").all()
    assert (merged["Код ОО правопреемника"] == successor).all()
    assert (merged["Численность обучающихся"] == "0").all()
    # the merged schools had results before the merger (ВПР logins, ГИА codes)
    before = registry(out, m, 2024).set_index("Код ОО").loc[[r["school_code"] for r in new]]
    assert (before["Логин ФИС ОКО"] != "").all() and (before["Код ОО РИС ГИА"] != "").all()


def test_removed_lines_keep_answer_strings_and_annulled_participants_sit_again(variant):
    out, m = variant
    removed_with_answers = 0
    sittings: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
    spaced = 0
    for entry in files(m, "ege") + files(m, "oge"):
        title, df = gia_sheet(out / entry["path"])
        code, date = title.split(" - ")[0], title.rsplit(" ", 1)[1]
        if "Статус" in df:
            gone = df[df["Статус"].isin(["Удален", "Аннулирован"])]
            assert (gone["Первичный балл"] == "").all()
            removed_with_answers += int((gone["Задания с кратким ответом"]
                                         + gone["Задания с развёрнутым ответом"] != "").sum())
        spaced += int(df["Серия документа"].str.contains(" ").sum())
        status = df["Статус"] if "Статус" in df else pd.Series("", index=df.index)
        for s, n, st in zip(df["Серия документа"], df["Номер документа"], status):
            sittings[(entry["source"], entry["academic_year"], code,
                      s.replace(" ", "") + n)].append((date, st))
    assert removed_with_answers > 0
    assert spaced > 0
    resits = [v for v in sittings.values()
              if len(v) == 2 and sorted(v)[0][1] == "Аннулирован" and sorted(v)[1][1] == ""]
    assert resits, "an annulled participant sits again on a later day"


def test_gve_electives(variant):
    out, m = variant
    codes = {f["slice"]["subject_code"] for f in files(m, "oge")}
    assert codes & {f"{c}" for c in range(53, 69)}, codes


def test_vpr_layouts_per_school_one_year_regional_the_next(variant):
    out, m = variant
    assert {f["slice"]["layout"] for f in files(m, "vpr", 2024)} == {"school"}
    assert {f["slice"]["layout"] for f in files(m, "vpr", 2026)} == {"region"}
    forms_2026 = Counter((f["slice"]["subject_code"], f["slice"]["grade"])
                         for f in files(m, "vpr", 2026))
    assert set(forms_2026.values()) == {1}                    # one file per form
    assert len(forms_2026) == len(ref.vpr_forms("VPR", 2026))
    for entry in files(m, "vpr", 2024)[:25]:
        assert vpr_rows(out / entry["path"])["Логин ОО"].nunique() == 1


def test_vpr_codes_numbered_within_each_school(variant):
    out, m = variant
    (entry,) = [f for f in files(m, "vpr", 2026)
                if (f["slice"]["subject_code"], f["slice"]["grade"]) == ("rus", 5)]
    df = vpr_rows(out / entry["path"])
    codes = df["Код участника"].astype(str)
    assert codes.str.fullmatch(r"\d{5}").all() and codes.str.startswith("0").all()
    assert not df.duplicated(["Логин ОО", "Код участника"]).any()
    assert df.groupby("Код участника")["Логин ОО"].nunique().max() >= 2


def test_vpr_marks_off_the_boundaries_are_listed(variant):
    out, m = variant
    off = [f for f in files(m, "vpr") if f["slice"].get("n_marks_off_boundaries")]
    assert off and all("mark_off_boundaries" in f["quirks"] for f in off)
    entry = off[0]
    df = vpr_rows(out / entry["path"])
    primary = df["Первичный балл"].astype(int).to_numpy()
    expected = ref.score_to_mark("VPR", entry["academic_year"], entry["slice"]["subject_code"],
                                 entry["slice"]["grade"], primary)
    assert int((df["Отметка"].astype(int).to_numpy() != expected).sum()) == \
        entry["slice"]["n_marks_off_boundaries"]


def test_literacy_codes_unique_only_within_the_school(variant):
    out, m = variant
    (entry,) = files(m, "literacy")
    df = pd.read_csv(out / entry["path"], sep=";", dtype=str)
    assert df["Код участника"].str.fullmatch(r"\d{3}").all()
    assert not df.duplicated(["Код ОО", "Код участника", "Направление"]).any()
    assert df.groupby("Код участника")["Код ОО"].nunique().max() >= 2


def test_olympiad_one_mixed_file_delivered_twice(variant):
    out, m = variant
    entries = files(m, "olympiad", 2026)
    assert len(entries) == 2
    digests = {hashlib.sha256((out / e["path"]).read_bytes()).hexdigest() for e in entries}
    assert len(digests) == 1
    (dup,) = [e for e in entries if "duplicate_delivery" in e["quirks"]]
    assert dup["slice"]["duplicate_of"] in {e["path"] for e in entries}
    df = pd.read_csv(out / entries[0]["path"], sep=";", dtype=str)
    assert set(df["Этап"]) == {"школьный", "муниципальный", "региональный", "заключительный"}
    fractional = df["Балл"][df["Балл"].str.contains(r"[.,]")]
    assert fractional.str.contains(",").any() and fractional.str.contains(r"\.").any()
    assert {"призёр", "призер"} <= set(df["Статус"])


def test_file_names_are_free(variant):
    out, m = variant
    names = [Path(f["path"]).name for f in m["files"]]
    pattern = re.compile("|".join(
        re.escape(p).replace(r"\{k\}", r"\d+").replace(r"\{k:03d\}", r"\d{3}")
        .replace(r"\{ext\}", r"\.[a-z]+").replace(r"\{EXT\}", r"\.[A-Z]+") for p in _PATTERNS))
    assert all(pattern.fullmatch(n.removeprefix("повторная отправка ")) for n in names)
    assert any("." not in n for n in names)                     # no extension
    assert any(n.endswith((".CSV", ".XLSX")) for n in names)    # upper-case extension
    # no name carries its subject: the content decides
    for f in files(m, "vpr", 2026):
        assert f["slice"]["subject"].lower() not in Path(f["path"]).name.lower()
