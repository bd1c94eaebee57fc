"""The staff register (extracts.md ``staff``): CSV, ``;``, one row per person × school ×
position, state on 20 September. Quirks: both encodings (windows-1251 and UTF-8 with BOM),
one regional file or one file per municipality depending on the year, СНИЛС written with
and without separators, a person in two schools, heads changing over the years (the model:
demo/staff_model.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.staff_model import build_staff_model, state_date

SOURCE = "staff"
COLUMNS = ["СНИЛС", "Фамилия", "Имя", "Отчество", "Дата рождения", "Код ОО", "Должность",
           "Предметы", "Квалификационная категория", "Дата присвоения категории",
           "Педагогический стаж, лет", "Дата назначения на должность", "Ставка",
           "Основное место работы"]
# per year (cycling): (layout, encoding of the regional file / of every other municipality)
LAYOUTS = (("region", "cp1251"), ("municipality", None), ("region", "utf-8-sig"))


def ru_date(d) -> str:
    return "" if d is None or (isinstance(d, float) and np.isnan(d)) else \
        f"{d.day:02d}.{d.month:02d}.{d.year:04d}"


def snils_text(snils: pd.Series, rng: np.random.Generator, dashed_share: float) -> np.ndarray:
    """СНИЛС as '123-456-789 01' (a share of rows) or '12345678901'."""
    s = snils.to_numpy().astype(str)
    dashed = np.array([f"{v[:3]}-{v[3:6]}-{v[6:9]} {v[9:]}" for v in s], dtype=object)
    return np.where(rng.random(len(s)) < dashed_share, dashed, s.astype(object))


def register_frame(region, year: int) -> pd.DataFrame:
    model = build_staff_model(region)
    rng = region.rng(SOURCE, year)
    a = model.assignments[model.assignments["academic_year"] == year]
    p = model.persons.set_index("person_id").loc[a["person_id"]]
    state = state_date(year)
    teacher = (a["position"] == "учитель").to_numpy()
    appointed = a["appointment_date"].to_numpy()
    # other positions: an appointment date within the person's teaching career
    exp = a["experience_years"].to_numpy()
    back = (rng.random(len(a)) * np.maximum(exp, 1) * 365).astype(int) + 1
    other_dates = [state - dt.timedelta(days=int(b)) for b in back]
    appointment = [ru_date(d if d is not None else o) for d, o in zip(appointed, other_dates)]
    rate = np.char.replace(np.char.mod("%.2f", a["rate"].to_numpy(dtype=float)), ".", ",")
    rate = np.char.rstrip(np.char.rstrip(rate, "0"), ",")
    df = pd.DataFrame({
        "СНИЛС": snils_text(p["snils"], rng, 0.6),
        "Фамилия": p["last_name"].to_numpy(), "Имя": p["first_name"].to_numpy(),
        "Отчество": p["middle_name"].to_numpy(),
        "Дата рождения": [ru_date(d) for d in p["birth_date"]],
        "Код ОО": a["school_code"].to_numpy(),
        "Должность": a["position"].to_numpy(),
        "Предметы": np.where(teacher, p["subjects"].to_numpy(), ""),
        "Квалификационная категория": p["category"].to_numpy(),
        "Дата присвоения категории": [ru_date(d) for d in p["category_date"]],
        "Педагогический стаж, лет": exp.astype(np.int64),
        "Дата назначения на должность": appointment,
        "Ставка": rate,
        "Основное место работы": np.where(a["is_main_job"].to_numpy(dtype=bool), "да", "нет"),
    })
    df["_msu"] = a["msu_code"].to_numpy()
    return df.sort_values(["Код ОО", "Должность", "Фамилия"], kind="stable").reset_index(drop=True)


def _write(df: pd.DataFrame, path: Path, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df[COLUMNS].to_csv(sep=";", index=False, lineterminator="\r\n")
    data = text.encode("cp1251") if encoding == "cp1251" else b"\xef\xbb\xbf" + text.encode()
    path.write_bytes(data)


def generate_staff(region, out_dir: Path) -> list[FileRecord]:
    """One regional file a year, or one per municipality (every other year), under
    ``<out_dir>/staff/<year>/``."""
    out_dir = Path(out_dir)
    records = []
    for t, year in enumerate(region.years):
        df = register_frame(region, year)
        two = df.groupby("СНИЛС")["Код ОО"].nunique()
        quirks = ["snils_both_forms"] + (["person_in_two_schools"] if (two > 1).any() else [])
        layout, encoding = LAYOUTS[t % len(LAYOUTS)]
        if layout == "region":
            rel = Path(SOURCE) / str(year) / f"кадры_на_20_09_{year - 1}.csv"
            _write(df, out_dir / rel, encoding)
            records.append(FileRecord(SOURCE, year, rel, len(df), {"layout": "region"},
                                      tuple(quirks + [encoding])))
            continue
        for i, (msu, part) in enumerate(df.groupby("_msu", sort=True)):
            enc = "cp1251" if i % 2 == 0 else "utf-8-sig"
            rel = Path(SOURCE) / str(year) / f"кадры_МСУ_{msu}.csv"
            _write(part, out_dir / rel, enc)
            records.append(FileRecord(SOURCE, year, rel, len(part),
                                      {"layout": "municipality", "msu_code": msu},
                                      tuple(quirks + [enc])))
    return records
