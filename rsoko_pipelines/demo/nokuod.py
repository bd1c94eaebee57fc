"""НОКУОД results (extracts.md ``nokuod``): CSV UTF-8, ``;``, decimal comma, one file per
year of assessment. Each school is assessed about once in three years (a fixed phase per
school); about 5 % of schools are never assessed (manifest ``nokuod_never_assessed``).
The total is the mean of the five criteria, rounded to one decimal (within the contract's
±0,1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.records import FileRecord

SOURCE = "nokuod"
CRITERIA = ["Открытость и доступность информации", "Комфортность условий",
            "Доступность для инвалидов", "Доброжелательность, вежливость работников",
            "Удовлетворённость условиями"]
NEVER = 0.05


def schedule(region) -> pd.DataFrame:
    """school_code → phase (assessed when (year − phase) % 3 == 0) or -1 (never)."""
    codes = np.sort(region.schools["school_code"].unique())
    rng = region.rng(SOURCE, "schedule")
    phase = rng.integers(0, 3, len(codes))
    phase = np.where(rng.random(len(codes)) < NEVER, -1, phase)
    return pd.DataFrame({"school_code": codes, "phase": phase})


def never_assessed(region) -> list[str]:
    """Schools active in the last year that no loaded year assesses."""
    sched = schedule(region).set_index("school_code")["phase"]
    active = region.schools_in(region.years[-1])["school_code"]
    assessed = set()
    for year in region.years:
        assessed |= set(sched.index[(sched >= 0) & ((year - sched) % 3 == 0)])
    return sorted(set(active) - assessed)


def _decimal(values: np.ndarray, digits: int) -> np.ndarray:
    return np.char.replace(np.char.mod(f"%.{digits}f", values), ".", ",")


def results_frame(region, year: int) -> pd.DataFrame:
    rng = region.rng(SOURCE, year)
    sched = schedule(region).set_index("school_code")["phase"]
    schools = region.schools_in(year)
    phase = sched.loc[schools["school_code"]].to_numpy()
    s = schools[(phase >= 0) & ((year - phase) % 3 == 0)].reset_index(drop=True)
    n = len(s)
    level = rng.normal(88.0, 5.0, n)
    crit = np.clip(level[:, None] + rng.normal(0.0, 4.0, (n, 5)), 35.0, 100.0).round(1)
    crit[:, 2] = np.clip(crit[:, 2] - rng.uniform(0, 15, n), 20.0, 100.0).round(1)
    total = np.round(crit.mean(axis=1), 1)
    inn = np.char.add(np.char.add("07", s["school_code"].to_numpy().astype(str)), "17")
    df = pd.DataFrame({"Код ОО": s["school_code"].to_numpy(), "ИНН": inn,
                       "Наименование ОО": s["school_name"].to_numpy()})
    for i, c in enumerate(CRITERIA):
        df[c] = _decimal(crit[:, i], 1)
    df["Итоговый балл"] = _decimal(total, 1)
    df["Число опрошенных"] = np.maximum(
        (s["n_students"].to_numpy() * rng.uniform(0.2, 0.6, n)).astype(np.int64), 5)
    return df


def generate_nokuod(region, out_dir: Path, years=None) -> list[FileRecord]:
    """One CSV per year under ``<out_dir>/nokuod/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int)
                                                     else years))
    records = []
    for year in years:
        df = results_frame(region, year)
        rel = Path(SOURCE) / str(year) / f"НОКУОД_{year}.csv"
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        bom = b"\xef\xbb\xbf" if year % 2 else b""
        path.write_bytes(bom + df.to_csv(sep=";", index=False, lineterminator="\r\n")
                         .encode("utf-8"))
        records.append(FileRecord(SOURCE, year, rel, len(df), {},
                                  ("decimal_comma",) + (("bom",) if bom else ())))
    return records
