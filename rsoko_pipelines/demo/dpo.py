"""ДПО documents (extracts.md ``dpo``): the ФИС ФРДО upload layout, XLSX, header in row 1,
one file per provider and academic year of issue. Quirks: column order differs between
providers, programme names spelled several ways (case, quotes, «ё», spaces, punctuation),
unknown programmes (first aid, fire safety …), duplicates (`Дубликат`, same registration
number, issued later, possibly in a later year's file), СНИЛС with and without separators
and — at one provider — typed as numbers; recipients who are not in the staff register."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.staff import ru_date, snils_text
from rsoko_pipelines.demo.staff_model import (PROVIDERS, UNKNOWN_PROGRAMMES, academic_year_of,
                                              build_staff_model, programme_catalogue)
from rsoko_pipelines.demo.xlsx import write_xlsx

SOURCE = "dpo"
KIND_HEADER = ("Дополнительная профессиональная программа (повышение квалификации/ "
               "профессиональная переподготовка)")
COLUMNS = ["Вид документа", "Статус документа", "Серия документа", "Номер документа",
           "Регистрационный номер", "Дата выдачи документа", KIND_HEADER,
           "Наименование дополнительной профессиональной программы", "Год начала обучения",
           "Год окончания обучения", "Срок обучения, часов", "Фамилия получателя",
           "Имя получателя", "Отчество получателя", "Дата рождения получателя",
           "Пол получателя", "СНИЛС", "Форма обучения", "Источник финансирования обучения"]


def spelled(name: str, rng: np.random.Generator) -> str:
    """The same programme as providers type it: case, quotes, ё/е, spaces, punctuation."""
    k = int(rng.integers(0, 7))
    if k == 1:
        return name.upper()
    if k == 2:
        return f"«{name}»"
    if k == 3:
        return name.replace("ё", "е") if "ё" in name else name.replace(" ", "  ", 1)
    if k == 4:
        return f"\"{name.lower()}\"."
    if k == 5:
        return name.replace(":", " -") if ":" in name else name + "."
    if k == 6:
        return " " + name[0].lower() + name[1:] + " "
    return name


def documents_frame(region, year: int) -> pd.DataFrame:
    model = build_staff_model(region)
    rng = region.rng(SOURCE, year)
    docs = model.documents
    docs = docs[[academic_year_of(d) == year for d in docs["issue_date"]]]
    cat = programme_catalogue()
    seed_names = _spellings()
    p = model.persons.set_index("person_id").loc[docs["person_id"]]
    prog = docs["programme"].to_numpy()
    code = np.where(prog >= 0, cat["programme_code"].to_numpy()[np.maximum(prog, 0)], None)
    names = []
    for c, pr in zip(code, prog):
        if c is None:
            base = UNKNOWN_PROGRAMMES[-1 - pr]
        else:
            options = seed_names[c]
            base = options[int(rng.integers(0, len(options)))]
        names.append(spelled(base, rng))
    retrain = np.array([c is not None and str(c).startswith("retrain") for c in code])
    hours = np.where(retrain, rng.integers(256, 521, len(docs)),
                     rng.choice([16, 18, 24, 36, 36, 72, 72, 108], len(docs)))
    issue_year = np.array([d.year for d in docs["issue_date"]])
    prefix = np.asarray([PROVIDERS[i][0] for i in range(len(PROVIDERS))], dtype=object)
    original_year = np.array([d.year for d in docs["original_date"]])
    reg = [f"{prefix[pv]}-{oy}-{od:07d}" for pv, oy, od in
           zip(docs["provider"], original_year, docs["original_doc"])]
    dup = (docs["status"] == "Дубликат").to_numpy()
    df = pd.DataFrame({
        "Вид документа": np.where(retrain, "Диплом о профессиональной переподготовке",
                                  "Удостоверение о повышении квалификации"),
        "Статус документа": docs["status"].to_numpy(),
        "Серия документа": np.where(retrain, "ПП", "ПК") + np.char.mod("%02d", issue_year % 100),
        "Номер документа": np.char.zfill((docs["doc_id"].to_numpy() * 7919 % 999_983 + 1)
                                         .astype(str), 6),
        "Регистрационный номер": reg,
        "Дата выдачи документа": [ru_date(d) for d in docs["issue_date"]],
        KIND_HEADER: np.where(retrain, "профессиональная переподготовка",
                              "повышение квалификации"),
        "Наименование дополнительной профессиональной программы": names,
        "Год начала обучения": np.where(retrain | dup, original_year - 1, original_year),
        "Год окончания обучения": original_year,
        "Срок обучения, часов": hours,
        "Фамилия получателя": p["last_name"].to_numpy(),
        "Имя получателя": p["first_name"].to_numpy(),
        "Отчество получателя": p["middle_name"].to_numpy(),
        "Дата рождения получателя": [ru_date(d) for d in p["birth_date"]],
        "Пол получателя": p["sex"].to_numpy(),
        "СНИЛС": snils_text(p["snils"], rng, 0.5),
        "Форма обучения": rng.choice(["очная", "заочная", "очно-заочная",
                                      "очная с применением ДОТ"], len(docs)),
        "Источник финансирования обучения": rng.choice(
            ["бюджет субъекта РФ", "бюджет субъекта РФ", "средства работодателя",
             "средства обучающегося"], len(docs)),
    })
    df["_provider"] = docs["provider"].to_numpy()
    df["_snils_digits"] = p["snils"].to_numpy()
    return df


def _spellings() -> dict[str, list[str]]:
    from rsoko_pipelines import reference as ref

    seed = ref.load("ref_dpo_programmes")
    return {c: list(g["programme_name"]) for c, g in seed.groupby("programme_code")}


def generate_dpo(region, out_dir: Path) -> list[FileRecord]:
    """One XLSX per provider and academic year of issue under ``<out_dir>/dpo/<year>/``."""
    out_dir = Path(out_dir)
    records = []
    for year in region.years:
        df = documents_frame(region, year)
        for provider, part in df.groupby("_provider", sort=True):
            prefix, title = PROVIDERS[int(provider)]
            order = list(COLUMNS)
            region.rng(SOURCE, "columns", int(provider)).shuffle(order)   # varies by provider
            part = part.copy()
            kinds = {c: "s" for c in COLUMNS}
            kinds["Год начала обучения"] = kinds["Год окончания обучения"] = "n"
            kinds["Срок обучения, часов"] = "n"
            quirks = ["column_order", "programme_spellings", "snils_both_forms"]
            if int(provider) == 0:            # this provider's СНИЛС column holds numbers
                part["СНИЛС"] = part["_snils_digits"].astype(np.int64)
                kinds["СНИЛС"] = "n"
                quirks = ["column_order", "programme_spellings", "snils_as_numbers"]
            if (part["Статус документа"] == "Дубликат").any():
                quirks.append("duplicates")
            rel = Path(SOURCE) / str(year) / f"ФРДО_{prefix}_{year}.xlsx"
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            write_xlsx(out_dir / rel, part[order].reset_index(drop=True), header=order,
                       column_kinds=kinds, sheet_name="Документы")
            records.append(FileRecord(SOURCE, year, rel, len(part),
                                      {"provider": title}, tuple(quirks)))
    return records
