"""Enrolments in additional education of the demo region (extracts.md ``additional_ed``): the
export of the regional «Навигатор дополнительного образования детей», CSV UTF-8 ``;``, one
row per enrolment active at any time in the academic year. One file for the region (one per
municipality of residence when the region has more than ``REGION_FILE_MAX_ROWS`` rows).

**Planted coverage.** For every municipality and year a coverage share is drawn (45–78 %)
and exactly ``round(share × population 5–18)`` children aged 5–18 living there are enrolled
(the population is demo/population.py's, the contract's denominator), spread over the ages in
proportion to the population (teenagers a little less). The manifest records the resulting
coverage (enrolled ÷ population × 100) per municipality: the mart must find it exactly, which
it only does if it counts each child once, by residence, by age = academic_year − 1 − year of
birth, and only real enrolments. The quirks that would break a naive count:

* children in several programmes (1 + Poisson(0.6), at most 5: ≈ 1.6 rows per child), often
  of several направленности (a child counts once in «все» and once per направленность);
* applications that never became enrolments (``Статус`` = ``заявка``): children with only
  applications, and extra applications of enrolled children;
* children outside the 5–18 band (3–4-year-olds, 19-year-olds) who are enrolled too;
* children outside the registry (``Код ОО`` empty: pre-schoolers, and some school-age
  children of schools outside the registry).

The navigator's child id (``Идентификатор ребёнка``) is a 12-digit pseudonym, unique in the
region and year. Each municipality of residence is simulated from its own random stream, so
memory stays bounded at the country tier (one file per municipality there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.population import simulate_population
from rsoko_pipelines.demo.records import FileRecord

SOURCE = "additional_ed"
COLUMNS = ["Идентификатор ребёнка", "Год рождения", "Код МСУ", "Код ОО", "ОВЗ", "Организация",
           "ИНН организации", "Программа", "Направленность", "Дата зачисления",
           "Дата отчисления", "Статус", "Источник финансирования"]
FOCUS = ("техническая", "естественнонаучная", "физкультурно-спортивная", "художественная",
         "туристско-краеведческая", "социально-гуманитарная")
FOCUS_P = np.array([0.14, 0.10, 0.27, 0.25, 0.06, 0.18])
PROGRAMS = {
    "техническая": ["Робототехника", "Лего-конструирование", "3D-моделирование", "Программирование на Python"],
    "естественнонаучная": ["Юный эколог", "Занимательная химия", "Астрономия для школьников"],
    "физкультурно-спортивная": ["Футбол", "Плавание", "Самбо", "Лёгкая атлетика", "Шахматы"],
    "художественная": ["Хореография", "Вокальная студия", "Изостудия «Палитра»", "Театральная студия"],
    "туристско-краеведческая": ["Юный турист", "Краеведение родного края"],
    "социально-гуманитарная": ["Школа вожатого", "Юный журналист", "Английский для малышей", "Волонтёры"],
}
FUNDING = ("сертификат ПФ", "бюджет", "платно")
FUNDING_P = np.array([0.4, 0.5, 0.1])
COVERAGE_RANGE = (0.45, 0.78)
AGE_WEIGHT = {**{a: 1.0 for a in range(5, 15)}, 15: 0.9, 16: 0.85, 17: 0.8, 18: 0.7}
REGION_FILE_MAX_ROWS = 1_500_000


def coverage_share(region, year: int) -> dict[str, float]:
    """The drawn coverage share of every municipality in ``year`` (persistent + a drift)."""
    codes = region.municipalities["msu_code"].tolist()
    base = region.rng(SOURCE, "coverage").uniform(*COVERAGE_RANGE, len(codes))
    drift = region.rng(SOURCE, year, "drift").normal(0.0, 0.015, len(codes))
    return dict(zip(codes, np.clip(base + drift, 0.4, 0.85).tolist()))


def _allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights`` (largest remainders), each part ≤ cap."""
    out = np.zeros(len(weights), dtype=np.int64)
    free = caps > 0
    left = total
    while left > 0 and free.any():
        w = np.where(free, weights, 0.0)
        raw = left * w / w.sum()
        part = np.floor(raw).astype(np.int64)
        rem = left - int(part.sum())
        order = np.argsort(-(raw - part), kind="stable")
        part[order[:rem]] += 1
        part = np.minimum(part, caps - out)
        out += part
        left = total - int(out.sum())
        free = out < caps
        if part.sum() == 0:
            break
    return out


def enrolled_children(region, year: int) -> pd.DataFrame:
    """Children aged 5–18 enrolled, per municipality × age (the planted numerator)."""
    key = ("additional_ed_children", year)
    if key in region._cache:
        return region._cache[key]
    pop = simulate_population(region, year)
    share = coverage_share(region, year)
    rows = []
    for msu, part in pop.groupby("msu_code", sort=True):
        band = part[(part["age"] >= 5) & (part["age"] <= 18)]
        total = int(round(share[msu] * int(band["population"].sum())))
        ages = band["age"].to_numpy()
        n = _allocate(total, band["population"].to_numpy() * np.array([AGE_WEIGHT[a] for a in ages]),
                      band["population"].to_numpy())
        rows.append(pd.DataFrame({"msu_code": msu, "age": ages, "children": n,
                                  "population": band["population"].to_numpy()}))
    df = pd.concat(rows, ignore_index=True)
    region._cache[key] = df
    return df


def planted_coverage(region) -> list[dict]:
    """Per year × municipality: children 5–18 enrolled, population 5–18, coverage %."""
    out = []
    for year in region.years:
        df = enrolled_children(region, year).groupby("msu_code", sort=True)[
            ["children", "population"]].sum()
        for msu, r in df.iterrows():
            out.append({"academic_year": int(year), "msu_code": str(msu),
                        "children_5_18": int(r["children"]),
                        "population_5_18": int(r["population"]),
                        "coverage_pct": 100.0 * int(r["children"]) / int(r["population"])})
    return out


def _providers(schools: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, tuple]:
    """A municipality's providers: a centre of additional education and its schools (any
    направленность), and a sports school (физкультурно-спортивная only)."""
    names = ["МБУ ДО «Центр детского творчества»", *schools["school_name"].head(5)]
    general = pd.DataFrame({"name": names,
                            "inn": rng.integers(10**9, 10**10 - 1, len(names)).astype(str)})
    sport = ("МБУ ДО «Спортивная школа»", str(rng.integers(10**9, 10**10 - 1)))
    return general, sport


def simulate_municipality(region, year: int, msu: str, msu_index: int) -> pd.DataFrame:
    """The navigator rows of the children living in one municipality (its own random
    stream, so a region file and per-municipality files hold the same rows)."""
    rng = region.rng(SOURCE, year, msu)
    kids = enrolled_children(region, year)
    kids = kids[kids["msu_code"] == msu]
    schools = region.schools_in(year)
    schools = schools[schools["msu_code"] == msu]
    # children: enrolled 5–18 (counted), enrolled outside the band, applications only
    age = np.repeat(kids["age"].to_numpy(), kids["children"].to_numpy())
    n5 = len(age)
    n_extra, n_apps = round(n5 * 0.04), round(n5 * 0.05)
    age = np.concatenate([age, rng.choice(np.array([3, 4, 19]), n_extra, p=[0.45, 0.45, 0.10]),
                          rng.integers(5, 19, n_apps)])
    kind = np.concatenate([np.zeros(n5, int), np.ones(n_extra, int), np.full(n_apps, 2)])
    n = len(age)
    child_id = (10**11 + (year % 100) * 10**9 + msu_index * 10**6
                + rng.permutation(n)).astype(str)
    birth_year = year - 1 - age
    ovz = rng.random(n) < 0.05
    # the child's school: a school of the municipality (by size) for ages 7–17, none for
    # pre-schoolers; some school-age children attend schools outside the registry
    school = np.full(n, "", dtype=object)
    idx = np.flatnonzero((age >= 7) & (age <= 17))
    if len(schools) and len(idx):
        w = schools["n_students"].to_numpy(dtype=float) + 1.0
        school[idx] = schools["school_code"].to_numpy()[rng.choice(len(schools), len(idx),
                                                                   p=w / w.sum())]
    school[(rng.random(n) < 0.04) & (age >= 7)] = ""
    # enrolments per child and their направленности
    k = np.where(kind == 2, 1, np.minimum(1 + rng.poisson(0.6, n), 5))
    child = np.repeat(np.arange(n), k)
    m = len(child)
    first = rng.choice(len(FOCUS), n, p=FOCUS_P)
    focus = first[child].copy()
    later = np.ones(m, bool)
    later[np.concatenate(([0], np.cumsum(k)[:-1])).astype(int)] = False
    other = rng.choice(len(FOCUS), m, p=FOCUS_P)
    switch = later & (rng.random(m) < 0.5)
    focus[switch] = other[switch]
    focus_name = np.asarray(FOCUS, dtype=object)[focus]
    flat = np.asarray([p for f in FOCUS for p in PROGRAMS[f]], dtype=object)
    sizes = np.array([len(PROGRAMS[f]) for f in FOCUS])
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    program = flat[offsets[focus] + (rng.random(m) * sizes[focus]).astype(int)]
    general, sport = _providers(schools, rng)
    j = (rng.random(m) * len(general)).astype(int)
    prov_name = general["name"].to_numpy().astype(object)[j]
    prov_inn = general["inn"].to_numpy().astype(object)[j]
    at_sport = (focus_name == "физкультурно-спортивная") & (rng.random(m) < 0.5)
    prov_name[at_sport], prov_inn[at_sport] = sport
    # status and dates: applications, then 80 % enrolled, 20 % left during the year
    start = np.datetime64(f"{year - 1}-09-01")
    status = np.where(kind[child] == 2, "заявка",
                      np.where(rng.random(m) < 0.8, "зачислен", "отчислен")).astype(object)
    continuing = rng.random(m) < 0.4
    enrol = np.where(continuing, start - rng.integers(1, 700, m).astype("timedelta64[D]"),
                     start + rng.integers(0, 240, m).astype("timedelta64[D]"))
    leave = enrol + rng.integers(30, 300, m).astype("timedelta64[D]")
    end = np.datetime64(f"{year}-08-31")
    leave = np.where(leave < start, start + rng.integers(0, 60, m).astype("timedelta64[D]"),
                     np.minimum(leave, end))
    leave = np.maximum(leave, enrol)
    funding = np.asarray(FUNDING, dtype=object)[rng.choice(3, m, p=FUNDING_P)]

    def fmt(d):     # few distinct dates: format each once
        uniq, inverse = np.unique(d, return_inverse=True)
        return pd.to_datetime(uniq).strftime("%d.%m.%Y").to_numpy().astype(object)[inverse]

    df = pd.DataFrame({
        "Идентификатор ребёнка": child_id[child],
        "Год рождения": birth_year[child],
        "Код МСУ": msu,
        "Код ОО": school[child],
        "ОВЗ": np.where(ovz[child], "да", "нет"),
        "Организация": prov_name,
        "ИНН организации": prov_inn,
        "Программа": program,
        "Направленность": focus_name,
        "Дата зачисления": fmt(enrol),
        "Дата отчисления": np.where(status == "отчислен", fmt(leave), ""),
        "Статус": status,
        "Источник финансирования": funding,
    })
    # extra applications of enrolled children (never enrolments themselves)
    enrolled = np.flatnonzero(df["Статус"].to_numpy() != "заявка")
    extra = df.iloc[np.sort(rng.choice(enrolled, round(0.04 * len(enrolled)), replace=False))]
    extra = extra.assign(**{"Статус": "заявка", "Дата отчисления": ""})
    df = pd.concat([df, extra], ignore_index=True)
    return df.sort_values("Идентификатор ребёнка", kind="stable").reset_index(drop=True)


def simulate_enrolments(region, year: int) -> pd.DataFrame:
    """The whole region's navigator rows (municipalities in code order)."""
    codes = region.municipalities["msu_code"].tolist()
    return pd.concat([simulate_municipality(region, year, c, i) for i, c in enumerate(codes)],
                     ignore_index=True)


def generate_additional_ed(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write the navigator export of ``years`` under ``<out_dir>/additional_ed/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    quirks = ("several_programmes_per_child", "applications_not_enrolled",
              "children_outside_5_18", "children_outside_registry")
    codes = region.municipalities["msu_code"].tolist()
    for year in years:
        folder = Path(SOURCE) / str(year)
        expected = 1.7 * int(enrolled_children(region, year)["children"].sum())
        if expected <= REGION_FILE_MAX_ROWS:      # one export for the region
            parts = [(None, simulate_enrolments(region, year))]
        else:                                     # one per municipality, one at a time
            parts = ((c, simulate_municipality(region, year, c, i)) for i, c in enumerate(codes))
        for msu, part in parts:
            name = f"Навигатор_{year}.csv" if msu is None else f"Навигатор_{year}_{msu}.csv"
            rel = folder / name
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            part.to_csv(path, sep=";", index=False, encoding="utf-8", lineterminator="\n")
            records.append(FileRecord(source=SOURCE, academic_year=year, path=rel, rows=len(part),
                                      slice={} if msu is None else {"msu_code": str(msu)},
                                      quirks=quirks))
    return records
