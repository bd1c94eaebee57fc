"""The regional registry of schools: one CSV per academic year (extracts.md ``schools``).

UTF-8 with BOM, ``;`` separator, decimal comma, CRLF, the 19 columns in contract order.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.region import Region

# registry column -> Region.schools column, in the order of extracts.md
COLUMNS: dict[str, str] = {
    "Код ОО": "school_code",
    "Наименование ОО": "school_name",
    "Код МСУ": "msu_code",
    "Муниципалитет": "msu_name",
    "Код ОО РИС ГИА": "gia_code",
    "Логин ФИС ОКО": "fis_login",
    "Вид ОО": "school_kind",
    "Тип местности": "settlement",
    "Численность обучающихся": "n_students",
    "Численность обучающихся 4-11 классов": "n_students_4_11",
    "Численность педагогов": "n_teachers",
    "Доля обучающихся с ОВЗ, %": "pct_ovz",
    "Доля обучающихся с неродным русским языком, %": "pct_nonnative",
    "Доля обучающихся из малообеспеченных семей, %": "pct_lowincome",
    "Доля обучающихся из неполных семей, %": "pct_singleparent",
    "Доля родителей с высшим образованием, %": "pct_parents_higher_ed",
    "Доля вакантных ставок педагогов, %": "pct_vacancies",
    "Статус": "status",
    "Код ОО правопреемника": "successor_code",
}
PCT_COLUMNS = [k for k, v in COLUMNS.items() if v.startswith("pct_")]


def _decimal(x: pd.Series) -> pd.Series:
    """One decimal, comma as separator; '12,0' is written as '12' like spreadsheets do."""
    s = x.astype(float).map("{:.1f}".format).str.replace(".", ",", regex=False)
    return s.str.replace(r",0$", "", regex=True)


def registry_frame(region: Region, year: int) -> pd.DataFrame:
    df = region.schools[region.schools["academic_year"] == year]
    df = df.sort_values("school_code", kind="stable")
    out = pd.DataFrame({ru: df[col].to_numpy() for ru, col in COLUMNS.items()})
    for col in PCT_COLUMNS:
        out[col] = _decimal(out[col])
    for col in ("Код ОО РИС ГИА", "Логин ФИС ОКО", "Код ОО правопреемника"):
        out[col] = out[col].where(out[col].notna(), "")
    return out


def write_registry(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(sep=";", index=False, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def generate_schools(region: Region, out_dir: Path) -> list[FileRecord]:
    out_dir = Path(out_dir)
    records = []
    for year in region.years:
        df = registry_frame(region, year)
        rel = Path("schools") / str(year) / f"reestr_oo_{year}.csv"
        write_registry(df, out_dir / rel)
        quirks = []
        if (df["Статус"] != "действующая").any():
            quirks.append("reorganised_or_liquidated")
        if (df["Логин ФИС ОКО"] == "").any():
            quirks.append("missing_fis_login")
        records.append(FileRecord("schools", year, rel, len(df), {}, tuple(quirks)))
    return records
