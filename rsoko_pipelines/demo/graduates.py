"""Where graduates went, of the demo region (extracts.md ``graduates``).

XLSX, first sheet, header in row 1, one row per school × cohort (9, 11). Municipalities
collect the form: the first year arrives as one file for the region, later years as one
file per municipality, and **every municipality orders the columns its own way** (a fixed
permutation per municipality; names never change). The destination columns of the other
cohort are empty cells; the destinations always add up to ``Всего выпускников``.

The model: a cohort is the school's children per grade (9) or per senior grade (11); its
destinations are a multinomial draw from cohort probabilities shifted by the school's
``school_effect`` (stronger schools send more to grade 10 and to universities). The
**planted NEET municipalities** (about 15 % of the municipalities, at least one, persistent
from year to year) have 15–20 % of both cohorts «Не учатся и не работают» against about
1.5 % elsewhere; the manifest lists them with their planted share.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.xlsx import write_xlsx

SOURCE = "graduates"
KEY_COLUMNS = ["Код ОО", "Класс выпуска", "Всего выпускников"]
DEST_9 = {"10 класс своей ОО": 0.50, "10 класс другой ОО": 0.08, "СПО бюджет": 0.25,
          "СПО внебюджет": 0.08, "Профессиональное обучение": 0.02, "Работают": 0.01,
          "Не учатся и не работают": 0.015, "Другое": 0.02, "Нет сведений": 0.005}
DEST_11 = {"Вуз региона бюджет": 0.30, "Вуз региона внебюджет": 0.12,
           "Вуз другого региона бюджет": 0.12, "Вуз другого региона внебюджет": 0.06,
           "СПО": 0.20, "Профессиональное обучение": 0.02, "Служба в армии": 0.06,
           "Работают": 0.05, "Не учатся и не работают": 0.015, "Другое": 0.02,
           "Нет сведений": 0.005}
ALL_COLUMNS = KEY_COLUMNS + list(dict.fromkeys([*DEST_9, *DEST_11]))
NEET = "Не учатся и не работают"
NEET_SHARE_OF_MSU = 0.15
NEET_PLANTED = (0.15, 0.20)


def neet_municipalities(region) -> dict[str, float]:
    """{msu_code: planted NEET share} (persistent across years)."""
    codes = region.municipalities["msu_code"].tolist()
    rng = region.rng(SOURCE, "neet")
    k = max(1, round(NEET_SHARE_OF_MSU * len(codes)))
    pick = sorted(rng.choice(len(codes), k, replace=False))
    share = rng.uniform(*NEET_PLANTED, len(codes))
    return {codes[i]: float(round(share[i], 4)) for i in pick}


def planted_neet(region) -> list[dict]:
    planted = neet_municipalities(region)
    return [{"academic_year": int(y), "msu_code": c, "planted_neet_share": s}
            for y in region.years for c, s in sorted(planted.items())]


def _cohort_rows(schools: pd.DataFrame, cohort: int, probs: dict, neet: dict,
                 rng: np.random.Generator) -> pd.DataFrame:
    if cohort == 9:
        inside = (schools["min_grade"] <= 9) & (schools["max_grade"] >= 9)
        size_col = "students_per_grade"
    else:
        inside = schools["max_grade"] == 11
        size_col = "students_per_senior_grade"
    s = schools[inside & (schools[size_col] > 0)].reset_index(drop=True)
    total = np.maximum(1, np.rint(s[size_col].to_numpy() * rng.uniform(0.93, 1.0, len(s))))
    names = list(probs)
    base = np.array([probs[n] for n in names])
    effect = s["school_effect"].to_numpy(dtype=float)
    p = np.tile(base, (len(s), 1))
    # stronger schools: more continue (grade 10 / universities), fewer to СПО and work
    up = [i for i, n in enumerate(names) if n.startswith(("10 класс", "Вуз"))]
    down = [i for i, n in enumerate(names) if n.startswith(("СПО", "Работают", "Служба"))]
    p[:, up] *= np.exp(0.35 * effect)[:, None]
    p[:, down] *= np.exp(-0.35 * effect)[:, None]
    if cohort == 9:     # a school without grade 10 cannot keep its 9th-graders
        own = names.index("10 класс своей ОО")
        p[s["max_grade"].to_numpy() < 10, own] = 0.0
    j = names.index(NEET)
    share = np.array([neet.get(m, np.nan) for m in s["msu_code"]])
    planted = ~np.isnan(share)
    p /= p.sum(axis=1, keepdims=True)
    rest = 1.0 - np.where(planted, share, p[:, j])
    p[:, j] = 0.0
    p *= (rest / p.sum(axis=1))[:, None]
    p[:, j] = np.where(planted, share, 1.0 - rest)
    counts = np.array([rng.multinomial(int(t), pi) for t, pi in zip(total, p)])
    df = pd.DataFrame(counts, columns=names)
    df.insert(0, "Всего выпускников", total.astype(np.int64))
    df.insert(0, "Класс выпуска", cohort)
    df.insert(0, "Код ОО", s["school_code"].to_numpy())
    df["msu_code"] = s["msu_code"].to_numpy()
    return df


def simulate_graduates(region, year: int) -> pd.DataFrame:
    schools = region.schools_in(year)
    rng = region.rng(SOURCE, year)
    neet = neet_municipalities(region)
    frames = [_cohort_rows(schools, 9, DEST_9, neet, rng),
              _cohort_rows(schools, 11, DEST_11, neet, rng)]
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["msu_code", "Код ОО", "Класс выпуска"], kind="stable")
    return df.reset_index(drop=True)


def _column_order(region, msu: str) -> list[str]:
    """The municipality's own column order (fixed across years)."""
    rng = region.rng(SOURCE, "columns", msu)
    rest = ALL_COLUMNS[1:]
    order = [rest[i] for i in rng.permutation(len(rest))]
    return ["Код ОО", *order] if rng.random() < 0.5 else [*order[:3], "Код ОО", *order[3:]]


def _write(path: Path, df: pd.DataFrame, columns: list[str]) -> None:
    # the other cohort's destination columns are NaN after the concat: empty cells
    out = pd.DataFrame({c: (df[c].to_numpy() if c == "Код ОО"
                            else pd.array(df[c].to_numpy(), dtype="Int64")) for c in columns})
    write_xlsx(path, out, header=columns, column_kinds={"Код ОО": "s"}, sheet_name="Лист1")


def generate_graduates(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write the graduates forms of ``years`` under ``<out_dir>/graduates/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    names = region.municipalities.set_index("msu_code")["msu_name"]
    for year in years:
        df = simulate_graduates(region, year)
        folder = Path(SOURCE) / str(year)
        if year == region.years[0] and len(region.years) > 1:     # one file for the region
            rel = folder / f"Выпускники_{year}_регион.xlsx"
            _write(out_dir / rel, df, ALL_COLUMNS)
            records.append(FileRecord(source=SOURCE, academic_year=year, path=rel,
                                      rows=len(df), slice={"layout": "region"},
                                      quirks=("other_cohort_columns_empty",)))
            continue
        for msu, part in df.groupby("msu_code", sort=True):
            label = "".join(ch if ch.isalnum() else "_" for ch in str(names[msu]))[:40]
            rel = folder / f"Выпускники_{year}_{msu}_{label}.xlsx"
            _write(out_dir / rel, part, _column_order(region, str(msu)))
            records.append(FileRecord(
                source=SOURCE, academic_year=year, path=rel, rows=len(part),
                slice={"layout": "municipality", "msu_code": str(msu)},
                quirks=("column_order_of_the_municipality", "other_cohort_columns_empty")))
    return records
