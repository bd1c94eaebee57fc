"""Enrolments in additional education of the demo region (extracts.md ``additional_ed``): the
export of the regional «Навигатор дополнительного образования детей», CSV UTF-8 ``;``, one
row per enrolment active at any time in the academic year. One file for the region (one per
municipality of residence when the region has more than ``REGION_FILE_MAX_ROWS`` rows).

**Planted coverage.** For every municipality and year a coverage share is drawn (55–88 %)
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
region and year.
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
COVERAGE_RANGE = (0.55, 0.88)
AGE_WEIGHT = {**{a: 1.0 for a in range(5, 15)}, 15: 0.9, 16: 0.85, 17: 0.8, 18: 0.7}
REGION_FILE_MAX_ROWS = 1_500_000


def coverage_share(region, year: int) -> dict[str, float]:
    """The drawn coverage share of every municipality in ``year`` (persistent + a drift)."""
    codes = region.municipalities["msu_code"].tolist()
    base = region.rng(SOURCE, "coverage").uniform(*COVERAGE_RANGE, len(codes))
    drift = region.rng(SOURCE, year, "drift").normal(0.0, 0.015, len(codes))
    return dict(zip(codes, np.clip(base + drift, 0.5, 0.9).tolist()))


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


def _providers(region, year: int, rng: np.random.Generator) -> pd.DataFrame:
    """Per municipality: a centre of additional education, a sports school, and its schools."""
    schools = region.schools_in(year)
    rows = []
    for msu, part in schools.groupby("msu_code", sort=True):
        rows.append((msu, "МБУ ДО «Центр детского творчества»", "all"))
        rows.append((msu, "МБУ ДО «Спортивная школа»", "физкультурно-спортивная"))
        for name in part["school_name"].head(5):
            rows.append((msu, name, "all"))
    df = pd.DataFrame(rows, columns=["msu_code", "name", "focus"])
    df["inn"] = (rng.integers(10**9, 10**10 - 1, len(df))).astype(str)
    return df


def simulate_enrolments(region, year: int) -> pd.DataFrame:
    rng = region.rng(SOURCE, year)
    kids = enrolled_children(region, year)
    schools = region.schools_in(year)
    # children: enrolled 5–18 (counted), enrolled outside the band, applications only
    msu = np.repeat(kids["msu_code"].to_numpy(), kids["children"].to_numpy())
    age = np.repeat(kids["age"].to_numpy(), kids["children"].to_numpy())
    n5 = len(msu)
    per_msu = kids.groupby("msu_code")["children"].sum()
    extra_msu = np.repeat(per_msu.index.to_numpy(), np.rint(per_msu.to_numpy() * 0.04).astype(int))
    extra_age = rng.choice(np.array([3, 4, 19]), len(extra_msu), p=[0.45, 0.45, 0.10])
    apps_msu = np.repeat(per_msu.index.to_numpy(), np.rint(per_msu.to_numpy() * 0.05).astype(int))
    apps_age = rng.integers(5, 19, len(apps_msu))
    msu = np.concatenate([msu, extra_msu, apps_msu])
    age = np.concatenate([age, extra_age, apps_age])
    kind = np.concatenate([np.zeros(n5, int), np.ones(len(extra_msu), int), np.full(len(apps_msu), 2)])
    n = len(msu)
    child_id = (10**11 + (year % 100) * 10**9 + rng.permutation(n)).astype(str)
    birth_year = year - 1 - age
    ovz = rng.random(n) < 0.05
    # the child's school: a school of the municipality (by size) for ages 7–17, none for
    # pre-schoolers; some school-age children attend schools outside the registry
    school = np.full(n, "", dtype=object)
    by_msu = {m: p for m, p in schools.groupby("msu_code")}
    for m in np.unique(msu):
        idx = np.flatnonzero((msu == m) & (age >= 7) & (age <= 17))
        part = by_msu.get(m)
        if part is None or not len(idx):
            continue
        w = part["n_students"].to_numpy(dtype=float) + 1.0
        school[idx] = part["school_code"].to_numpy()[rng.choice(len(part), len(idx), p=w / w.sum())]
    school[(rng.random(n) < 0.04) & (age >= 7)] = ""
    # enrolments per child and their направленности
    k = np.where(kind == 2, 1, np.minimum(1 + rng.poisson(0.6, n), 5))
    child = np.repeat(np.arange(n), k)
    first = rng.choice(len(FOCUS), n, p=FOCUS_P)
    focus = first[child].copy()
    later = np.ones(len(child), bool)
    later[np.concatenate(([0], np.cumsum(k)[:-1]))] = False
    other = rng.choice(len(FOCUS), len(child), p=FOCUS_P)
    switch = later & (rng.random(len(child)) < 0.5)
    focus[switch] = other[switch]
    focus_name = np.asarray(FOCUS, dtype=object)[focus]
    prog_pick = rng.random(len(child))
    flat = np.asarray([p for f in FOCUS for p in PROGRAMS[f]], dtype=object)
    sizes = np.array([len(PROGRAMS[f]) for f in FOCUS])
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    program = flat[offsets[focus] + (prog_pick * sizes[focus]).astype(int)]
    providers = _providers(region, year, rng)
    general = providers[providers["focus"] == "all"]
    prov_by_msu = {m: p.reset_index(drop=True) for m, p in general.groupby("msu_code")}
    sport_by_msu = {m: p.iloc[0] for m, p in
                    providers[providers["focus"] != "all"].groupby("msu_code")}
    prov_name = np.empty(len(child), dtype=object)
    prov_inn = np.empty(len(child), dtype=object)
    cm = msu[child]
    u = rng.random(len(child))
    for m in np.unique(cm):
        idx = np.flatnonzero(cm == m)
        p = prov_by_msu[m]
        j = (u[idx] * len(p)).astype(int)
        prov_name[idx] = p["name"].to_numpy()[j]
        prov_inn[idx] = p["inn"].to_numpy()[j]
    sport = focus_name == "физкультурно-спортивная"
    sport_school = rng.random(len(child)) < 0.5
    for m in np.unique(cm):
        ss = sport_by_msu[m]
        idx = np.flatnonzero((cm == m) & sport & sport_school)
        prov_name[idx], prov_inn[idx] = ss["name"], ss["inn"]
    # status and dates: applications, then 80 % enrolled, 20 % left during the year
    start = np.datetime64(f"{year - 1}-09-01")
    status = np.where(kind[child] == 2, "заявка",
                      np.where(rng.random(len(child)) < 0.8, "зачислен", "отчислен")).astype(object)
    continuing = rng.random(len(child)) < 0.4
    enrol = np.where(continuing, start - rng.integers(1, 700, len(child)).astype("timedelta64[D]"),
                     start + rng.integers(0, 240, len(child)).astype("timedelta64[D]"))
    leave = enrol + rng.integers(30, 300, len(child)).astype("timedelta64[D]")
    end = np.datetime64(f"{year}-08-31")
    leave = np.where(leave < start, start + rng.integers(0, 60, len(child)).astype("timedelta64[D]"),
                     np.minimum(leave, end))
    leave = np.maximum(leave, enrol)
    funding = np.asarray(FUNDING, dtype=object)[rng.choice(3, len(child), p=FUNDING_P)]

    def fmt(d):     # few distinct dates: format each once
        uniq, inverse = np.unique(d, return_inverse=True)
        return pd.to_datetime(uniq).strftime("%d.%m.%Y").to_numpy().astype(object)[inverse]

    df = pd.DataFrame({
        "Идентификатор ребёнка": child_id[child],
        "Год рождения": birth_year[child],
        "Код МСУ": cm,
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
    extra = df[df["Статус"] != "заявка"].sample(frac=0.04, random_state=int(rng.integers(2**31)))
    extra = extra.assign(**{"Статус": "заявка", "Дата отчисления": ""})
    df = pd.concat([df, extra], ignore_index=True)
    return df.sort_values(["Код МСУ", "Идентификатор ребёнка"], kind="stable").reset_index(drop=True)


def generate_additional_ed(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write the navigator export of ``years`` under ``<out_dir>/additional_ed/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    quirks = ("several_programmes_per_child", "applications_not_enrolled",
              "children_outside_5_18", "children_outside_registry")
    for year in years:
        df = simulate_enrolments(region, year)
        folder = Path(SOURCE) / str(year)
        parts = ([(None, df)] if len(df) <= REGION_FILE_MAX_ROWS
                 else list(df.groupby("Код МСУ", sort=True)))
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
