"""The register of management measures (extracts.md ``measures``): one CSV per academic year.

UTF-8 (the 2nd year with a BOM), ``;``, one row per measure for one school or municipality,
dates ДД.ММ.ГГГГ, an empty end date for an ongoing measure. Each measure is listed in the
register of the academic year it starts in; a measure still running a year later is listed
again in that year's register with the same code (the pipeline counts it once). Quirks: the
kind is sometimes typed with «е» for «ё» or a capital letter; school-level rows sometimes
carry the school's `Код МСУ` as well.

What is planted (:mod:`rsoko_pipelines.demo.measure_plan`) is in the manifest
(``management_cycle``): every measure, the three effect groups with their true effect.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.measure_plan import STREAM, plan_register
from rsoko_pipelines.demo.records import FileRecord

SOURCE = "measures"
COLUMNS = ["Код меры", "Вид меры", "Направление", "Уровень", "Код ОО", "Код МСУ",
           "Дата начала", "Дата окончания", "Целевой показатель", "Основание"]


def register(region) -> pd.DataFrame:
    """The plan with a code per measure: `<start year>-<number>` (numbered in plan order)."""
    plan = plan_register(region.schools, region.years, region.rng(STREAM))
    plan = plan.sort_values(["start_academic_year", "start_date", "measure_kind", "level",
                             "msu_code", "school_code"], kind="stable", na_position="first")
    plan["number"] = plan.groupby("start_academic_year").cumcount() + 1
    plan["measure_code"] = [f"{y}-{k:04d}" for y, k in zip(plan["start_academic_year"],
                                                           plan["number"])]
    return plan.drop(columns="number").reset_index(drop=True)


def _fmt(d) -> str:
    return "" if d is None or pd.isna(d) else d.strftime("%d.%m.%Y")


def _basis(row, rng: np.random.Generator) -> str:
    if row.level == "МСУ" or row.measure_kind in ("программа поддержки ШНОР",
                                                   "перекрёстная проверка ВПР"):
        number = int(rng.integers(100, 2000))
        return (f"Приказ министерства образования № {number}-од от "
                f"{_fmt(row.start_date - pd.Timedelta(days=int(rng.integers(5, 30))))}")
    return f"План мероприятий МСУ {row.msu_code} на {row.start_academic_year - 1}/" \
           f"{row.start_academic_year % 100:02d} учебный год"


def register_frame(region, year: int, measures: pd.DataFrame) -> pd.DataFrame:
    """The rows of the register of academic `year`: measures starting in it, and those
    started earlier that still run on 1 September of year − 1 (listed again)."""
    start_of_year = pd.Timestamp(year - 1, 9, 1).date()
    active = set(region.schools_in(year, active_only=False)["school_code"])
    rows = measures[(measures["start_academic_year"] == year)
                    | ((measures["start_academic_year"] < year)
                       & measures["end_date"].map(lambda d: d is None or pd.isna(d)
                                                  or d >= start_of_year))]
    rows = rows[(rows["level"] == "МСУ") | rows["school_code"].isin(active)]
    rng = region.rng(SOURCE, year)
    kind = rows["measure_kind"].to_numpy(dtype=object).copy()
    u = rng.random(len(rows))
    kind = np.where(u < 0.1, [k.replace("ё", "е") for k in kind], kind)
    kind = np.where((u >= 0.1) & (u < 0.15), [k[:1].upper() + k[1:] for k in kind], kind)
    with_msu = rng.random(len(rows)) < 0.3
    out = pd.DataFrame({
        "Код меры": rows["measure_code"].to_numpy(),
        "Вид меры": kind,
        "Направление": rows["direction"].to_numpy(),
        "Уровень": rows["level"].to_numpy(),
        "Код ОО": rows["school_code"].fillna("").to_numpy(),
        "Код МСУ": np.where((rows["level"] == "МСУ").to_numpy() | with_msu,
                            rows["msu_code"].fillna("").to_numpy(), ""),
        "Дата начала": [_fmt(d) for d in rows["start_date"]],
        "Дата окончания": [_fmt(d) for d in rows["end_date"]],
        "Целевой показатель": rows["target_indicator"].to_numpy(),
        "Основание": [_basis(r, rng) for r in rows.itertuples(index=False)],
    })
    return out


def generate_measures(region, out_dir: Path) -> list[FileRecord]:
    """Write one register CSV per academic year under ``<out_dir>/measures/<year>/``."""
    out_dir = Path(out_dir)
    measures = register(region)
    records = []
    for i, year in enumerate(region.years):
        df = register_frame(region, year, measures)
        if df.empty:
            continue
        rel = Path(SOURCE) / str(year) / f"реестр_мер_{year}.csv"
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = df.to_csv(sep=";", index=False, lineterminator="\n")
        bom = b"\xef\xbb\xbf" if i == 1 else b""
        path.write_bytes(bom + text.encode("utf-8"))
        quirks = ["kind_spelling_variants", "school_rows_with_msu_code"]
        if bom:
            quirks.append("bom")
        if (df["Дата окончания"] == "").any():
            quirks.append("ongoing_without_end_date")
        if (df["Код меры"].str[:4].astype(int) < year).any():
            quirks.append("running_measures_listed_again")
        records.append(FileRecord(SOURCE, year, rel, len(df), {}, tuple(quirks)))
    return records


def management_truths(region) -> dict:
    """The planted truths of the management cycle for the manifest: every measure (as the
    registers list it, by first listing), and the effect groups with their true effects."""
    from rsoko_pipelines.demo.measure_plan import (EFFECT_GROUPS, POSITIVE_EFFECT_SD,
                                                    TRAP_CLUSTER, TRAP_QUARTILES,
                                                    TRAP_TREND_SD, effect_groups, effect_year)

    measures = register(region)
    groups = effect_groups(region.schools, region.years, region.rng(STREAM))
    t = effect_year(region.years)
    assert t is None or sorted(groups.loc[groups["role"] != "trap_trend", "school_code"]) == \
        sorted(measures.loc[measures["role"].isin(list(EFFECT_GROUPS)), "school_code"])
    effects = []
    for role, (kind, indicator, sd) in EFFECT_GROUPS.items():
        mine = measures[measures["role"] == role]
        codes = sorted(mine["school_code"])
        # without t−1 and t+1 in the tier the kinds start in the last year: nothing planted
        # (the mart says «ожидает данных t+1»)
        year = t if t is not None else (int(mine["start_academic_year"].max())
                                        if len(mine) else None)
        entry = {"role": role, "measure_kind": kind, "target_indicator": indicator,
                 "academic_year": year, "level": "school",
                 "effect_sd": sd if t is not None else None,
                 "expected_sign": (1 if sd > 0 else 0) if t is not None else None,
                 "expected_status": "рассчитан" if t is not None else "ожидает данных t+1",
                 "schools": codes}
        if role == "self_selection_trap":
            entry.update({"trend_sd_per_year": TRAP_TREND_SD,
                          "trend_cells": {"context_cluster": TRAP_CLUSTER,
                                          "context_quartiles": list(TRAP_QUARTILES)},
                          "trend_schools": int((groups["role"] == "trap_trend").sum())})
        effects.append(entry)
    listed = [{
        "measure_code": r.measure_code, "measure_kind": r.measure_kind,
        "level": "school" if r.level == "ОО" else "municipality",
        "school_code": r.school_code if isinstance(r.school_code, str) else None,
        "municipality_code": r.msu_code, "start_date": r.start_date.isoformat(),
        "end_date": None if r.end_date is None or pd.isna(r.end_date) else r.end_date.isoformat(),
        "target_indicator": r.target_indicator, "role": r.role, "answers": r.answers,
    } for r in measures.itertuples(index=False)]
    return {"effect_year": t, "positive_effect_sd": POSITIVE_EFFECT_SD, "effects": effects,
            "measures": listed}
