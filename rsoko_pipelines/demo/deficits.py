"""Diagnostics of professional deficits (extracts.md ``deficits``): XLSX in the ФИС ОКО form's
layout, one file per diagnostic and academic year. Row 1 the title (the calendar year of the
autumn or of the spring), row 2 'Максимальный балл: n', row 3 the block above each element
column, row 4 the header. Quirks: СНИЛС with and without separators, empty element cells
(not answered), a person diagnosed in two subjects, persons diagnosed again the next year
(the model: demo/staff_model.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.staff import ru_date, snils_text
from rsoko_pipelines.demo.staff_model import build_staff_model
from rsoko_pipelines.demo.xlsx import write_xlsx

SOURCE = "deficits"
FILE_NAMES = {"Управленческие компетенции": "управленческие"}


def element_header(spec: pd.DataFrame) -> list[str]:
    return [f"{e} ({m}б)" for e, m in zip(spec["element"], spec["max_points"])]


def generate_deficits(region, out_dir: Path) -> list[FileRecord]:
    """One XLSX per diagnostic and year under ``<out_dir>/deficits/<year>/``."""
    model = build_staff_model(region)
    out_dir = Path(out_dir)
    persons = model.persons.set_index("person_id")
    records = []
    for (year, diagnostic), g in model.diagnostics.groupby(["academic_year", "diagnostic"],
                                                            sort=True):
        rng = region.rng(SOURCE, year, diagnostic)
        spec = model.elements[diagnostic]
        headers = element_header(spec)
        points = np.vstack([model.scores[i] for i in g["diag_id"]])
        total = np.nansum(points, axis=1)
        df = pd.DataFrame(points, columns=headers)
        df.insert(0, "СНИЛС", snils_text(persons.loc[g["person_id"], "snils"], rng, 0.5))
        df.insert(1, "Код ОО", g["school_code"].to_numpy())
        df.insert(2, "Должность", g["position"].to_numpy())
        df.insert(3, "Дата диагностики", [ru_date(d) for d in g["diagnostic_date"]])
        df["Итого"] = total
        # the calendar year the diagnostic ran in: autumn (year before) or spring
        first = min(g["diagnostic_date"])
        title = f"Диагностика профессиональных дефицитов {first.year}: {diagnostic}"
        blocks = ["", "", "", ""] + list(spec["block"]) + [""]
        kinds = {c: "s" for c in ("СНИЛС", "Код ОО", "Должность", "Дата диагностики")}
        kinds.update({h: "n" for h in headers})
        kinds["Итого"] = "n"
        name = FILE_NAMES.get(diagnostic, diagnostic.lower().replace(" ", "_"))
        rel = Path(SOURCE) / str(year) / f"диагностика_{name}_{year}.xlsx"
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        write_xlsx(out_dir / rel, df, raw_rows=[[title], [f"Максимальный балл: "
                                                          f"{int(spec['max_points'].sum())}"],
                                                blocks],
                   column_kinds=kinds, sheet_name="Результаты")
        quirks = ["snils_both_forms"]
        if np.isnan(points).any():
            quirks.append("empty_element_cells")
        records.append(FileRecord(SOURCE, year, rel, len(df), {"diagnostic": diagnostic},
                                  tuple(quirks)))
    return records
