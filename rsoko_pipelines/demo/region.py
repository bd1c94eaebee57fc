"""The demo region: municipalities, schools per academic year, and the planted truths.

``build_region(tier, seed)`` is deterministic and fully vectorised (tier F, 40,000 schools,
builds in about a second). Every source generator reads the same :class:`Region` and draws
its random numbers from ``region.rng(<source>, <year>, ...)``, an independent stream per
name, so sources can run in any order or in parallel processes and still give the same
bytes.

The model in one paragraph. A school has a latent social factor ``s`` (city schools higher,
plus a municipality effect) that drives its context variables (parents with higher
education up; low-income, single-parent and vacancies down), and a latent ability shift
``school_effect`` in student-SD units (mean ≈ 0, SD ≈ 0.3 between schools) correlated with
``s`` and with the kind of school (лицей/гимназия up, вечерняя down), drifting a little from
year to year. On top of that three disjoint planted sets are forced, year by year, most
members persisting from one year to the next:

* ``is_low_results`` (~3.5 %): grades 9 and 11, big enough cohorts (≥ 10 results per
  procedure), ``school_effect`` ≈ −2.4 so that ≥ 30 % of results fail in every procedure;
* ``is_resilient`` (~3 %): not лицей/гимназия/СОШ с УИОП, grades up to 11, context forced
  into the least favourable quartile of the ИСБШ (marts.md ``school_context``) and
  ``school_effect`` ≈ +0.75 (top quartile of results, but below z = 2 of school means);
* ``is_inflating_vpr`` (~4 %): the ВПР generator raises marks over journal marks, makes a
  spike at the 2→3 boundary and pushes means up.

With more than one year, a few schools per year are reorganised into another school of the
same МСУ (status ``реорганизована``, ``successor_code`` set; the successor takes over their
students from that year on) and a couple are liquidated. Those rows stay in the registry
with their status; only ``status == 'действующая'`` schools have participants.

A generator *profile* (``demo/profiles.py``) may change the region's code, years and
identifiers; the ``variant`` profile also draws its own random streams, so it is another
region, not the default one renamed. The default profile gives the original region.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rsoko_pipelines.demo.profiles import DEFAULT, Profile, get_profile

REGION_CODE = DEFAULT.region_code

ACTIVE = "действующая"
REORGANISED = "реорганизована"
LIQUIDATED = "ликвидирована"

ADVANCED_KINDS = ("лицей", "гимназия", "СОШ с УИОП")
KINDS = (
    "СОШ", "СОШ с УИОП", "лицей", "гимназия", "НОШ", "ООШ",
    "школа-интернат", "кадетская школа", "вечерняя школа",
)


@dataclass(frozen=True)
class TierSpec:
    n_schools: int
    n_msu: int
    years: tuple[int, ...]
    total_students: int


TIERS: dict[str, TierSpec] = {
    # XS is for tests only: small, two years so "two years running" can be exercised.
    "XS": TierSpec(80, 4, (2024, 2025), 40_000),
    "S": TierSpec(600, 20, (2023, 2024, 2025), 300_000),
    "M": TierSpec(1_500, 45, (2025,), 1_300_000),
    # 2–3 digit МСУ codes give at most 1,099 distinct codes ('01'..'99', '000'..'999'),
    # so the country tier has 1,050 municipalities, not ~2,000 (extracts.md wins).
    "F": TierSpec(40_000, 1_050, (2025,), 18_000_000),
}

SCHOOL_COLUMNS = [
    "academic_year", "school_code", "school_name", "msu_code", "msu_name", "gia_code",
    "fis_login", "school_kind", "settlement", "n_students", "n_students_4_11", "n_teachers",
    "pct_ovz", "pct_nonnative", "pct_lowincome", "pct_singleparent", "pct_parents_higher_ed",
    "pct_vacancies", "status", "successor_code", "min_grade", "max_grade",
    "students_per_grade", "students_per_senior_grade", "school_effect",
    "is_inflating_vpr", "is_low_results", "is_resilient",
]


def _stream(seed: int, names: tuple) -> np.random.Generator:
    digest = hashlib.sha256(repr((int(seed),) + tuple(str(n) for n in names)).encode()).digest()
    words = np.frombuffer(digest, dtype=np.uint32).tolist()
    return np.random.default_rng(np.random.SeedSequence(words))


def _profiled(profile: Profile, names: tuple) -> tuple:
    """Stream names of a profile: the default profile keeps the original streams."""
    return tuple(names) if profile.name == DEFAULT.name else (profile.name,) + tuple(names)


@dataclass
class Region:
    tier: str
    seed: int
    years: list[int]
    region_code: str
    municipalities: pd.DataFrame
    schools: pd.DataFrame
    profile: Profile = DEFAULT
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def rng(self, *names) -> np.random.Generator:
        """An independent deterministic random stream for ``names`` (e.g. 'vpr', 2025)."""
        return _stream(self.seed, _profiled(self.profile, names))

    def schools_in(self, year: int, active_only: bool = True) -> pd.DataFrame:
        """The registry rows of one academic year (only active schools by default)."""
        df = self.schools[self.schools["academic_year"] == year]
        if active_only:
            df = df[df["status"] == ACTIVE]
        return df.reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------
_MSU_STEMS = (
    "Заречн", "Лесн", "Сосновск", "Берёзовск", "Озёрн", "Приречн", "Степн", "Луговск",
    "Красноярск", "Светлогорск", "Каменск", "Песчанск", "Ключевск", "Боровск", "Дубровск",
    "Ольховск", "Калиновск", "Рябиновск", "Кедровск", "Липовск", "Ясеневск", "Вишнёвск",
    "Яблоновск", "Грушевск", "Полевск", "Садовск", "Хлебородн", "Урожайн", "Солнечн",
    "Звёздн", "Северн", "Южн", "Восточн", "Западн", "Центральн", "Горн", "Холмск",
    "Долинск", "Ручейск", "Родниковск", "Крутоярск", "Белоярск", "Черноярск", "Сухоложск",
    "Мокрушинск", "Быстринск", "Тихоновск", "Троицк", "Никольск", "Покровск",
    "Успенск", "Воскресенск", "Преображенск", "Петровск", "Павловск", "Алексеевск",
    "Михайловск", "Григорьевск", "Фёдоровск", "Ивановск", "Сергиевск", "Андреевск",
    "Ключанск", "Медведск", "Волчанск", "Лисичанск", "Соболевск", "Бобровск",
    "Журавлёвск", "Лебяжинск", "Орловск", "Соколовск", "Ястребовск", "Голубинск",
)
_MSU_PREFIXES = ("", "Ново", "Старо", "Верхне", "Нижне", "Больше", "Мало", "Усть-")
_CITY_NAMES = (
    "Северогорск", "Приозёрск", "Краснодольск", "Светлоярск", "Каменогорск", "Новоречинск",
    "Железногорск", "Лесогорск", "Южноуральск", "Белокаменск", "Сосногорск", "Заозёрск",
)
_VILLAGES = (
    "Ивановка", "Петровка", "Берёзовка", "Сосновка", "Михайловка", "Александровка",
    "Никольское", "Покровское", "Троицкое", "Успенское", "Васильевка", "Андреевка",
    "Ключи", "Красный Яр", "Каменка", "Ольховка", "Дубровка", "Знаменка", "Воскресенское",
    "Богородское", "Степное", "Луговое", "Заречье", "Озёрки", "Малиновка", "Рябиновка",
    "Калиновка", "Вишнёвое", "Садовое", "Ягодное", "Кедровка", "Липовка", "Подгорное",
    "Высокое", "Новосёлово", "Старосёлово", "Черёмушки", "Хлебное", "Полевое", "Ясная Поляна",
)


def _msu_codes_three_digits(n: int, rng: np.random.Generator) -> list[str]:
    """Exactly three digits, several of them with a leading zero ('004', '017', '230')."""
    if n > 999:
        raise ValueError("at most 999 municipalities fit 3-digit codes")
    n_low = min(n, max(2, n // 3))                         # '001'..'099'
    low = rng.choice(np.arange(1, 100), min(n_low, 99), replace=False)
    high = rng.choice(np.arange(100, 1000), n - len(low), replace=False)
    return [f"{c:03d}" for c in sorted(np.concatenate([low, high]).tolist())]


def _msu_codes(n: int) -> list[str]:
    """2–3 digit codes with significant leading zeros: '01'.., then '0NN'/'NNN'."""
    k2 = min(99, max(1, round(0.6 * n)))
    two = [f"{i:02d}" for i in range(1, k2 + 1)]
    three = [f"{i:03d}" for i in range(k2 + 1, 1000)] + [f"{i:03d}" for i in range(0, k2 + 1)]
    codes = two + three
    if n > len(codes):
        raise ValueError(f"at most {len(codes)} municipalities fit 2–3 digit codes")
    return codes[:n]


def _msu_names(n: int, kinds: np.ndarray, rng: np.random.Generator) -> list[str]:
    combos = [p + (s.lower() if p and not p.endswith("-") else s)
              for p in _MSU_PREFIXES for s in _MSU_STEMS]
    order = rng.permutation(len(combos))
    names: list[str] = []
    city_i = 0
    for i in range(n):
        stem = combos[order[i % len(combos)]]
        rep = i // len(combos)
        if kinds[i] == "capital" or kinds[i] == "okrug":
            if city_i < len(_CITY_NAMES) and rep == 0:
                name = f"городской округ город {_CITY_NAMES[city_i]}"
                city_i += 1
            else:
                name = f"городской округ город {stem}{'' if stem.endswith('ск') else 'ск'}"
                name = name.replace("скск", "ск")
        else:
            suffix = "ий" if stem.endswith(("ск", "цк")) else "ый"
            kind = ("муниципальный район", "муниципальный округ")[i % 2]
            name = f"{stem}{suffix} {kind}"
        if rep:
            name = f"{name} № {rep + 1}"
        names.append(name)
    return names


def _school_names(df: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    n = len(df)
    kind = df["school_kind"].to_numpy()
    city = df["settlement"].to_numpy() == "город"
    # number within the municipality for city schools, a village name for village schools
    number = df.groupby("msu_code").cumcount().to_numpy() + 1
    village = np.asarray(_VILLAGES, dtype=object)[rng.integers(0, len(_VILLAGES), n)]
    place = np.where(city, "№ " + number.astype(str), "с. " + village.astype(str))
    full = {
        "СОШ": "Средняя общеобразовательная школа",
        "СОШ с УИОП": "Средняя общеобразовательная школа с углублённым изучением отдельных предметов",
        "лицей": "Лицей",
        "гимназия": "Гимназия",
        "НОШ": "Начальная общеобразовательная школа",
        "ООШ": "Основная общеобразовательная школа",
        "школа-интернат": "Школа-интернат среднего общего образования",
        "кадетская школа": "Кадетская школа",
        "вечерняя школа": "Вечерняя (сменная) общеобразовательная школа",
    }
    title = pd.Series(kind).map(full).to_numpy().astype(str)
    org = np.where(np.isin(kind, ["школа-интернат", "кадетская школа"]), "ГБОУ",
                   np.asarray(["МБОУ", "МАОУ", "МКОУ"])[rng.choice(3, n, p=[0.7, 0.2, 0.1])])
    return (pd.Series(org) + " «" + pd.Series(title) + " " + pd.Series(place) + "»").to_numpy()


# ---------------------------------------------------------------------------------------
# the social index exactly as marts.md defines it (used to force resilient context)
# ---------------------------------------------------------------------------------------
def social_index(df: pd.DataFrame) -> pd.Series:
    """ИСБШ: mean of z(higher ed), −z(low-income), −z(single-parent), −z(non-native)."""
    def z(col: str) -> pd.Series:
        x = df[col].astype(float)
        sd = x.std(ddof=0)
        return (x - x.mean()) / (sd if sd > 0 else 1.0)
    return (z("pct_parents_higher_ed") - z("pct_lowincome") - z("pct_singleparent")
            - z("pct_nonnative")) / 4.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------
def build_region(tier: str = "S", seed: int = 20250607, n_schools: int | None = None,
                 profile: str | Profile | None = None) -> Region:
    """Build the demo region for ``tier`` (XS, S, M, F), deterministically from ``seed``.

    ``n_schools`` overrides the tier's school count (municipalities and students scale
    with it); tests use it to get a small region with the tier's years. ``profile``:
    ``default`` (the original region) or ``variant`` (see ``demo/profiles.py``).
    """
    tier = tier.upper()
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {sorted(TIERS)}")
    profile = get_profile(profile)
    region_code = profile.region_code
    spec = TIERS[tier]
    n = spec.n_schools if n_schools is None else int(n_schools)
    n_msu = spec.n_msu if n_schools is None else max(3, round(spec.n_msu * n / spec.n_schools))
    total_students = spec.total_students * n / spec.n_schools
    years = list(profile.years_for(tier, spec.years))

    def rng(*names) -> np.random.Generator:
        return _stream(seed, _profiled(profile, ("region", tier, n) + names))

    # --- municipalities -------------------------------------------------------------
    r = rng("msu")
    n_capital = max(1, n_msu // 25)
    msu_kind = np.full(n_msu, "district", dtype=object)
    msu_kind[:n_capital] = "capital"
    n_okrug = max(1, round(0.15 * n_msu))
    msu_kind[n_capital:n_capital + n_okrug] = "okrug"
    msu_codes = (_msu_codes_three_digits(n_msu, rng("msu codes")) if profile.three_digit_msu_codes
                 else _msu_codes(n_msu))
    msu_names = _msu_names(n_msu, msu_kind, r)
    weight = r.lognormal(0.0, 0.45, n_msu) * np.select(
        [msu_kind == "capital", msu_kind == "okrug"], [8.0, 2.2], 1.0)
    counts = np.floor(weight / weight.sum() * n).astype(int)
    counts = np.maximum(counts, 2 if n >= 2 * n_msu else 1)
    # fix the total exactly: add or remove schools from the largest municipalities
    diff = n - counts.sum()
    order = np.argsort(-weight, kind="stable")
    i = 0
    while diff != 0:
        j = order[i % n_msu]
        if diff > 0:
            counts[j] += 1
            diff -= 1
        elif counts[j] > 2:
            counts[j] -= 1
            diff += 1
        i += 1
    msu_effect = r.normal(0.0, 0.35, n_msu)          # social
    msu_ability = r.normal(0.0, 0.08, n_msu)         # results
    msu_nonnative = np.where(r.random(n_msu) < 0.15, r.normal(-0.8, 0.6, n_msu), -3.6)
    municipalities = pd.DataFrame({"msu_code": msu_codes, "msu_name": msu_names})

    msu_idx = np.repeat(np.arange(n_msu), counts)

    # --- schools (the universe; persistent attributes) -----------------------------
    r = rng("schools")
    kind_of_msu = msu_kind[msu_idx]
    p_city = np.select([kind_of_msu == "capital", kind_of_msu == "okrug"], [0.96, 0.85], 0.22)
    city = r.random(n) < p_city
    kinds = np.asarray(KINDS, dtype=object)
    p_kind_city = np.array([0.56, 0.06, 0.08, 0.09, 0.03, 0.05, 0.04, 0.03, 0.06])
    p_kind_village = np.array([0.55, 0.01, 0.003, 0.002, 0.08, 0.30, 0.035, 0.005, 0.015])
    p_kind_city /= p_kind_city.sum()
    p_kind_village /= p_kind_village.sum()
    u = r.random(n)
    k_city = np.searchsorted(np.cumsum(p_kind_city), u, side="right").clip(0, len(kinds) - 1)
    k_vil = np.searchsorted(np.cumsum(p_kind_village), u, side="right").clip(0, len(kinds) - 1)
    kind = kinds[np.where(city, k_city, k_vil)]

    min_grade = np.select(
        [kind == "кадетская школа", kind == "вечерняя школа",
         np.isin(kind, ["лицей", "гимназия"]) & (r.random(n) < 0.3)], [5, 9, 5], 1)
    max_grade = np.select([kind == "НОШ", kind == "ООШ"], [4, 9], 11)

    spg = np.where(city, r.lognormal(np.log(80.0), 0.45, n), r.lognormal(np.log(13.0), 0.6, n))
    spg = spg * np.select(
        [kind == "НОШ", kind == "ООШ", kind == "вечерняя школа", kind == "кадетская школа",
         kind == "школа-интернат"], [0.6, 0.7, 0.35, 0.7, 0.5], 1.0)
    senior_ratio = pd.Series(kind).map({
        "СОШ": 0.28, "СОШ с УИОП": 0.4, "лицей": 0.55, "гимназия": 0.55, "НОШ": 0.0,
        "ООШ": 0.0, "школа-интернат": 0.3, "кадетская школа": 0.5, "вечерняя школа": 1.2,
    }).to_numpy(dtype=float) * r.uniform(0.8, 1.2, n)
    n_junior = np.clip(np.minimum(max_grade, 9) - min_grade + 1, 0, None)
    n_senior = np.clip(max_grade - np.maximum(min_grade, 10) + 1, 0, None)
    raw_total = spg * (n_junior + senior_ratio * n_senior)
    spg = spg * (total_students / raw_total.sum())
    spg = np.maximum(np.rint(spg), 3).astype(np.int64)
    senior = np.where(n_senior > 0, np.maximum(np.rint(spg * senior_ratio), 2), 0).astype(np.int64)

    # latent social factor and context variables (persistent part)
    s = r.normal(0.0, 1.0, n) + np.where(city, 0.55, -0.55) + msu_effect[msu_idx]
    # лицеи, гимназии and СОШ с УИОП recruit from favourable contexts: they are rarely in
    # the least favourable quartile of the social index
    s = s + np.where(np.isin(kind, ADVANCED_KINDS), 1.6, 0.0)
    ctx_noise = r.normal(0.0, 1.0, (6, n))
    is_internat = kind == "школа-интернат"
    ctx = {
        "pct_parents_higher_ed": _sigmoid(-0.9 + 0.75 * s + 0.25 * ctx_noise[0]),
        "pct_lowincome": _sigmoid(-1.5 - 0.65 * s + 0.3 * ctx_noise[1] + 0.6 * is_internat),
        "pct_singleparent": _sigmoid(-1.2 - 0.3 * s + 0.3 * ctx_noise[2] + 0.5 * is_internat),
        "pct_nonnative": _sigmoid(msu_nonnative[msu_idx] - 0.15 * s + 0.5 * ctx_noise[3]),
        "pct_ovz": _sigmoid(-3.0 + 0.35 * ctx_noise[4] + 1.0 * is_internat),
        "pct_vacancies": _sigmoid(-3.0 - 0.3 * s + 0.5 * (~city) + 0.5 * ctx_noise[5]),
    }
    kind_effect = pd.Series(kind).map({
        "СОШ": 0.0, "СОШ с УИОП": 0.25, "лицей": 0.4, "гимназия": 0.35, "НОШ": 0.0,
        "ООШ": -0.1, "школа-интернат": -0.25, "кадетская школа": 0.05,
        "вечерняя школа": -0.6,
    }).to_numpy(dtype=float)
    # unfavourable context weighs on results: schools in about the least favourable 30 % of
    # ``s`` get a penalty growing with the distance and a soft ceiling a little below the
    # region's mean, so that only the planted resilient schools stand out there
    s_low = np.quantile(s, 0.3)
    base_effect = (0.12 * s - 0.1 * np.maximum(0.0, s_low - s) + msu_ability[msu_idx]
                   + kind_effect + r.normal(0.0, 0.2, n))
    cap, tau = -0.35, 0.08
    soft_capped = cap - tau * np.logaddexp(0.0, (cap - base_effect) / tau)
    base_effect = np.where(s < s_low, soft_capped, base_effect)
    base_effect -= np.average(base_effect, weights=spg)   # student-weighted mean 0

    # --- identifiers ---------------------------------------------------------------
    r = rng("codes")
    if n <= 9_999 and tier != "F":
        nums = np.sort(r.choice(np.arange(1, 10_000), n, replace=False))
        school_code = np.char.add(region_code, np.char.zfill(nums.astype(str), 4))
        login_nums = r.choice(np.arange(1, 10_000), n, replace=False)
        same = login_nums == nums
        while same.any():
            login_nums[same] = r.choice(np.arange(1, 10_000), int(same.sum()))
            same = (login_nums == nums) | (pd.Series(login_nums).duplicated().to_numpy())
        login_digits = np.char.add(region_code, np.char.zfill(login_nums.astype(str), 4))
    else:
        nums = np.sort(r.choice(1_000_000, n, replace=False))
        school_code = np.char.zfill(nums.astype(str), 6)
        login_nums = r.choice(1_000_000, n, replace=False)
        same = login_nums == nums
        while same.any():
            login_nums[same] = r.choice(1_000_000, int(same.sum()))
            same = (login_nums == nums) | (pd.Series(login_nums).duplicated().to_numpy())
        login_digits = np.char.zfill(login_nums.astype(str), 6)
    fis_login = np.char.add("sch", login_digits).astype(object)
    no_login = r.random(n) < 0.012
    fis_login[no_login] = None

    has_gia = max_grade >= 9
    # 4-digit РИС ГИА code unique within the МСУ: random order within МСУ, disjoint ranges
    order_key = r.random(n)
    tmp = pd.DataFrame({"msu": msu_idx, "key": np.where(has_gia, order_key, 2.0)})
    rank = tmp.groupby("msu")["key"].rank(method="first").to_numpy().astype(np.int64) - 1
    max_group = int(np.bincount(msu_idx[has_gia], minlength=n_msu).max()) if has_gia.any() else 1
    step = max(1, min(40, 9_998 // max(max_group, 1)))
    gia_num = 1 + rank * step + r.integers(0, step, n)
    if profile.gia_codes_per_msu:            # 0001, 0002… in every МСУ
        gia_num = 1 + rank
    gia_code = np.char.zfill(gia_num.astype(str), 4).astype(object)
    gia_code[~has_gia] = None

    base = pd.DataFrame({
        "school_code": school_code.astype(str),
        "msu_code": np.asarray(msu_codes, dtype=object)[msu_idx],
        "msu_name": np.asarray(msu_names, dtype=object)[msu_idx],
        "gia_code": gia_code,
        "fis_login": fis_login,
        "school_kind": kind,
        "settlement": np.where(city, "город", "село"),
        "min_grade": min_grade.astype(np.int64),
        "max_grade": max_grade.astype(np.int64),
    })
    base["school_name"] = _school_names(base, rng("names"))
    n_4_11_grades = np.clip(np.minimum(max_grade, 9) - np.maximum(min_grade, 4) + 1, 0, None)

    # --- per year ------------------------------------------------------------------
    frames = []
    effect = base_effect.copy()
    spg_y = spg.astype(float)
    status = np.full(n, ACTIVE, dtype=object)
    successor = np.full(n, None, dtype=object)
    absorbed_spg = np.zeros(n)
    absorbed_senior = np.zeros(n)
    planted = {"low": np.zeros(n, bool), "res": np.zeros(n, bool), "infl": np.zeros(n, bool)}
    ever = np.zeros(n, dtype=np.int8)       # 0 none, 1 low, 2 resilient, 3 inflating
    senior_y = senior.astype(float)
    forced = np.zeros(n, bool)
    for t, year in enumerate(years):
        ry = rng("year", year)
        if t > 0:
            effect = effect + ry.normal(0.0, 0.04, n)
            drift = ry.lognormal(0.0, 0.03, n)
            spg_y = spg_y * drift
            senior_y = senior_y * drift
        # status events (not in the first year): reorganisations into a bigger school
        if t > 0:
            active = status == ACTIVE
            is_successor = np.isin(base["school_code"].to_numpy(),
                                   [c for c in successor if c is not None])
            candidate = (active & (ever == 0) & ~is_successor
                         & (spg <= np.quantile(spg, 0.35)))
            n_reorg = max(1, round(0.005 * n))
            n_liq = max(1, round(0.0017 * n))
            cand_idx = np.flatnonzero(candidate)
            pick = ry.permutation(cand_idx)
            done = 0
            for i in pick:
                if done >= n_reorg:
                    break
                if base["school_code"].iat[i] in {c for c in successor if c is not None}:
                    continue
                same = np.flatnonzero(
                    (msu_idx == msu_idx[i]) & (status == ACTIVE) & (np.arange(n) != i)
                    & (max_grade >= max_grade[i]) & (min_grade <= min_grade[i]))
                if len(same) == 0:
                    continue
                j = same[np.argmax(spg[same])] if ry.random() < 0.5 else ry.choice(same)
                status[i] = REORGANISED
                successor[i] = base["school_code"].iat[j]
                absorbed_spg[j] += spg_y[i] + absorbed_spg[i]
                absorbed_senior[j] += senior_y[i] + absorbed_senior[i]
                done += 1
            successors = {c for c in successor if c is not None}
            codes_arr = base["school_code"].to_numpy()
            rest = [i for i in pick if status[i] == ACTIVE and codes_arr[i] not in successors]
            for i in rest[:n_liq]:
                status[i] = LIQUIDATED
        active = status == ACTIVE

        # planted sets, persisting ~85 % from one year to the next
        def eligible_base() -> np.ndarray:
            return active & (ever == 0) & (fis_login != None)  # noqa: E711
        big = (spg_y + absorbed_spg >= 12) & (senior_y + absorbed_senior >= 6)
        full_school = (max_grade == 11) & (min_grade <= 9)
        not_adv = ~np.isin(kind, ADVANCED_KINDS) & (kind != "вечерняя школа")
        elig = {
            "low": full_school & big & not_adv,
            "res": full_school & big & not_adv & (kind != "кадетская школа"),
            "infl": (min_grade <= 8) & (spg_y + absorbed_spg >= 12) & (kind != "вечерняя школа"),
        }
        share = {"low": 0.035, "res": 0.03, "infl": 0.04}
        code = {"low": 1, "res": 2, "infl": 3}
        # low-results schools lean towards unfavourable context (both groups exist)
        weight_for = {"low": np.exp(-0.7 * s), "res": np.exp(-0.9 * s), "infl": np.ones(n)}
        for key in ("low", "res", "infl"):
            target = max(1, round(share[key] * n))
            keep = planted[key] & active & (ry.random(n) < 0.85)
            need = target - int(keep.sum())
            pool = np.flatnonzero(eligible_base() & elig[key])
            if need > 0 and len(pool):
                w = weight_for[key][pool]
                add = ry.choice(pool, min(need, len(pool)), replace=False, p=w / w.sum())
                keep[add] = True
            planted[key] = keep
            ever[keep & (ever == 0)] = code[key]
        # the effect of planted schools in this year
        eff_y = effect.copy()
        eff_y[planted["low"]] = ry.normal(-2.4, 0.12, n)[planted["low"]]
        eff_y[planted["res"]] = ry.normal(0.75, 0.05, n)[planted["res"]]
        eff_y[planted["infl"]] = np.minimum(eff_y[planted["infl"]], 0.2)

        # resilient schools: context forced (persistently) into the least favourable
        # quartile of the social index, at about its 8th percentile
        new_res = planted["res"] & ~forced
        if new_res.any():
            m = int(new_res.sum())
            def q(col: str, p: float) -> float:
                return float(np.quantile(ctx[col][active], p))
            ctx["pct_parents_higher_ed"][new_res] = q("pct_parents_higher_ed", 0.08) * ry.uniform(0.7, 1.0, m)
            ctx["pct_lowincome"][new_res] = np.minimum(q("pct_lowincome", 0.90) * ry.uniform(1.0, 1.25, m), 0.9)
            ctx["pct_singleparent"][new_res] = np.minimum(q("pct_singleparent", 0.90) * ry.uniform(1.0, 1.2, m), 0.9)
            ctx["pct_nonnative"][new_res] = np.maximum(ctx["pct_nonnative"][new_res], q("pct_nonnative", 0.6))
            forced |= new_res
        # context this year (small noise around the persistent values)
        year_ctx = {}
        for name, v in ctx.items():
            year_ctx[name] = np.clip(v + ry.normal(0.0, 0.005, n), 0.0005, 0.995) * 100.0
        df_ctx = pd.DataFrame(year_ctx)
        df_ctx = df_ctx.clip(0.0, 99.9).round(1)

        spg_now = np.maximum(np.rint(spg_y + absorbed_spg), 3).astype(np.int64)
        senior_now = np.where(n_senior > 0,
                              np.maximum(np.rint(senior_y + absorbed_senior), 2), 0).astype(np.int64)
        n_students = spg_now * n_junior + senior_now * n_senior
        n_4_11 = spg_now * n_4_11_grades + senior_now * n_senior
        ratio = np.where(city, 16.0, 9.0) * ry.uniform(0.85, 1.15, n)
        n_teachers = np.maximum(np.rint(n_students / ratio + 2), 3).astype(np.int64)

        # a reorganised or liquidated school has no students of its own any more (the
        # successor counts them), so registry totals never double count
        gone = status != ACTIVE
        n_students = np.where(gone, 0, n_students)
        n_4_11 = np.where(gone, 0, n_4_11)
        n_teachers = np.where(gone, 0, n_teachers)
        spg_now = np.where(gone, 0, spg_now)
        senior_now = np.where(gone, 0, senior_now)

        frame = base.copy()
        frame.insert(0, "academic_year", np.int64(year))
        frame["n_students"] = n_students
        frame["n_students_4_11"] = n_4_11
        frame["n_teachers"] = n_teachers
        for col in ("pct_ovz", "pct_nonnative", "pct_lowincome", "pct_singleparent",
                    "pct_parents_higher_ed", "pct_vacancies"):
            frame[col] = df_ctx[col].to_numpy()
        frame["status"] = status.copy()
        frame["successor_code"] = successor.copy()
        frame["students_per_grade"] = spg_now
        frame["students_per_senior_grade"] = senior_now
        frame["school_effect"] = np.round(eff_y, 4)
        frame["is_inflating_vpr"] = planted["infl"].copy()
        frame["is_low_results"] = planted["low"].copy()
        frame["is_resilient"] = planted["res"].copy()
        frames.append(frame[SCHOOL_COLUMNS])

    schools = pd.concat(frames, ignore_index=True)
    for col in ("gia_code", "fis_login", "successor_code"):
        schools[col] = schools[col].astype(object)
        schools.loc[schools[col].isna(), col] = None
    if profile.merge_into_new_school or profile.drop_closed_schools:
        from rsoko_pipelines.demo.variant_registry import vary_registry

        schools = vary_registry(schools, profile, rng("variant registry"), region_code)
    from rsoko_pipelines.demo.planted import plant_methodology_truths   # issue 21

    schools = plant_methodology_truths(schools, lambda year: rng("methodology truths", year))
    schools = _with_planted_measure_effects(schools, years, seed)   # issue 19
    return Region(tier=tier, seed=int(seed), years=years, region_code=region_code,
                  municipalities=municipalities, schools=schools, profile=profile)


# ---------------------------------------------------------------------------------------
# issue 19: what the planted measures really do (demo/measure_plan.py)
# ---------------------------------------------------------------------------------------
def _with_planted_measure_effects(schools: pd.DataFrame, years: list[int], seed: int) -> pd.DataFrame:
    """``school_effect`` after the planted measures (a positive kind from t+1, the trend of
    the self-selection trap's context group); the plan draws from its own stream, the one
    the register generator uses too."""
    from rsoko_pipelines.demo.measure_plan import STREAM, apply_measure_effects

    return apply_measure_effects(schools, years, _stream(seed, (STREAM,)))
