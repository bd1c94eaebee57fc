"""The demo region's teaching and management staff (directions 6 and 7): one deterministic
model shared by the generators of ``staff``, ``dpo`` and ``deficits`` (each unit rebuilds it
from the region in its own process; cached per process) and by the manifest's truths.

The model in one paragraph. Every active school of a year has ``n_teachers`` (registry)
persons: one head (``директор``), deputies (about one per 12 staff; half of them also teach),
specialists in bigger schools, teachers otherwise. A person has a СНИЛС (unique, valid
control number), a name, a birth date and a category; about 3 % of teachers also teach in a
second school of their municipality (a second row, ``Основное место работы`` = нет). From
one year to the next ~7 % of staff leave and are replaced by newcomers (young ones mostly),
and about 7 % of schools change their head (a new staff key with a new appointment date).
Planted: every school that is low-results in the first year gets a new head appointed on
1 September of that year; where the school is no longer low-results in the last year the
head "turned it around" (manifest ``head_turnarounds``), otherwise not
(``heads_not_turned_around``); random head changes avoid low-results schools.

Diagnostics: each year about 13 % of teachers sit the diagnostic of their main subject (a
few a second one), and about 25 % of heads and deputies the managerial one; a person has at
least one deficit with the planted propensity of their municipality (``deficit_shares``);
some are diagnosed again the next year, most of them improved. ДПО: background courses for
about 45 % of staff a year, plus courses after a diagnostic — targeted at a deficit block
(within 12 months) for about 35 % of those with a deficit, untargeted (another block or
subject, or after 13–15 months) for about 20 %; 2 % of documents get a duplicate later; a
few recipients are not in the staff register. The truths (targeted counts) are computed
from the generated documents with the contract's rules, independently of the pipeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rsoko_pipelines import reference as ref
from rsoko_pipelines.extract.personal import snils_control

MANAGERIAL = "Управленческие компетенции"
PRIMARY = "Начальные классы"
SUBJECTS = ("Русский язык", "Литература", "Математика", "Информатика", "Физика", "Химия",
            "Биология", "География", "История", "Обществознание", "Английский язык")
SUBJECT_WEIGHTS = np.array([16, 6, 18, 5, 6, 4, 5, 4, 7, 5, 10], dtype=float)
PRIMARY_SUBJECTS = "Русский язык, Математика, Окружающий мир, Литературное чтение"
SPECIALISTS = (  # (position, minimum staff of the school)
    ("педагог-психолог", 15), ("советник директора по воспитанию", 20),
    ("социальный педагог", 25), ("учитель-логопед", 25), ("педагог-организатор", 30),
    ("педагог дополнительного образования", 35))
CATEGORIES = ("без категории", "соответствие занимаемой должности", "первая", "высшая",
              "педагог-методист", "педагог-наставник")
NEW_CATEGORIES_SINCE = dt.date(2023, 9, 1)
TURNOVER = 0.07
HEAD_CHANGE = 0.07
SECOND_SCHOOL = 0.03
DIAG_TEACHERS = 0.13
DIAG_MANAGERS = 0.25
REDIAGNOSED = 0.40
DPO_BACKGROUND = 0.45
TARGETED = 0.35
UNTARGETED = 0.20
DUPLICATES = 0.02
OUTSIDERS = 0.08               # ДПО recipients who are not in the staff register
WINDOW_MONTHS = 12

_MALE = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
         "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
         "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин")
_FIRST_M = ("Александр", "Сергей", "Андрей", "Алексей", "Дмитрий", "Игорь", "Михаил", "Олег",
            "Николай", "Владимир", "Юрий", "Павел", "Виктор", "Евгений")
_FIRST_F = ("Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Марина", "Анна",
            "Галина", "Людмила", "Юлия", "Екатерина", "Надежда", "Валентина", "Оксана")
_PATRON = ("Александров", "Сергеев", "Андреев", "Алексеев", "Дмитриев", "Иванов", "Михайлов",
           "Николаев", "Владимиров", "Юрьев", "Павлов", "Викторов", "Петров", "Васильев")


def add_months(d: dt.date, months: int) -> dt.date:
    """DuckDB's `date + INTERVAL n MONTH`: the same day, clipped to the month's end."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


def state_date(year: int) -> dt.date:
    """The staff register's state date: 20 September of the academic year's start."""
    return dt.date(year - 1, 9, 20)


def academic_year_of(d: dt.date) -> int:
    return d.year + 1 if d.month >= 9 else d.year


def deficit_rule() -> dict:
    return ref.load("ref_deficit_rule").iloc[0].to_dict()


def is_deficit(points: np.ndarray, max_points: np.ndarray) -> np.ndarray:
    """The contract's element rule, with the thresholds of ref_deficit_rule."""
    rule = deficit_rule()
    mastery = 100.0 * points / max_points
    limit = np.where(max_points <= rule["small_max_points"], rule["threshold_small_pct"],
                     rule["threshold_pct"])
    return mastery < limit


@dataclass
class StaffModel:
    persons: pd.DataFrame           # person_id → snils, names, birth_date, sex, subjects …
    assignments: pd.DataFrame       # academic_year × person × school × position (register rows)
    diagnostics: pd.DataFrame       # one row per person diagnosed × diagnostic × year
    elements: dict                  # diagnostic → DataFrame(element, max_points, block)
    scores: dict                    # diag_id → np.ndarray of points (NaN = empty cell)
    documents: pd.DataFrame         # ДПО documents as written (originals and duplicates)
    truths: dict = field(default_factory=dict)
    deficit_sets: dict = field(default_factory=dict)   # diag_id → blocks with a deficit


# --------------------------------------------------------------------------------- persons
def _snils_bodies(rng: np.random.Generator, n: int) -> np.ndarray:
    """n unique 9-digit СНИЛС bodies above 001-001-998 (the range with a control rule)."""
    out = np.zeros(0, dtype=np.int64)
    while len(out) < n:
        draw = rng.integers(1_002_000, 999_999_999, size=int((n - len(out)) * 1.1) + 16)
        out = np.concatenate([out, draw])
        _, first = np.unique(out, return_index=True)
        out = out[np.sort(first)]
    return out[:n]


def _new_persons(rng: np.random.Generator, bodies: np.ndarray, start_id: int, year: int,
                 young: np.ndarray) -> pd.DataFrame:
    n = len(bodies)
    sex = np.where(rng.random(n) < 0.82, "ж", "м")
    age = np.where(young, rng.integers(22, 30, n), np.clip(rng.normal(47, 11, n), 24, 72))
    age = age.astype(np.int64)
    birth_year = year - 1 - age
    birth_day = rng.integers(0, 365, n)
    birth = [dt.date(int(y), 1, 1) + dt.timedelta(days=int(d)) for y, d in zip(birth_year,
                                                                                birth_day)]
    surname = np.asarray(_MALE, dtype=object)[rng.integers(0, len(_MALE), n)]
    surname = np.where(sex == "ж", surname + "а", surname)
    first = np.where(sex == "ж", np.asarray(_FIRST_F, dtype=object)[rng.integers(0, len(_FIRST_F), n)],
                     np.asarray(_FIRST_M, dtype=object)[rng.integers(0, len(_FIRST_M), n)])
    patron = np.asarray(_PATRON, dtype=object)[rng.integers(0, len(_PATRON), n)]
    patron = np.where(sex == "ж", patron + "на", patron + "ич")
    experience = np.where(young, rng.integers(0, 3, n),
                          np.clip(age - 22 - rng.integers(0, 6, n), 0, 60))
    body_text = np.char.zfill(bodies.astype(str), 9)
    snils = [b + snils_control(b) for b in body_text]
    subject_idx = rng.choice(len(SUBJECTS), n, p=SUBJECT_WEIGHTS / SUBJECT_WEIGHTS.sum())
    second_idx = rng.choice(len(SUBJECTS), n, p=SUBJECT_WEIGHTS / SUBJECT_WEIGHTS.sum())
    main = np.asarray(SUBJECTS, dtype=object)[subject_idx]
    second = np.asarray(SUBJECTS, dtype=object)[second_idx]
    primary = rng.random(n) < 0.25
    two = (rng.random(n) < 0.35) & (second != main)
    subjects = np.where(primary, PRIMARY_SUBJECTS, np.where(two, main + ", " + second, main))
    category = _category(rng, experience, year)
    return pd.DataFrame({
        "person_id": np.arange(start_id, start_id + n, dtype=np.int64),
        "snils": snils, "last_name": surname, "first_name": first, "middle_name": patron,
        "birth_date": birth, "sex": sex, "experience0": experience.astype(np.int64),
        "year0": np.int64(year), "subjects": subjects,
        "main_diagnostic": np.where(primary, PRIMARY, main),
        "second_diagnostic": np.where(two & ~primary, second, None),
        "category": category,
        "category_date": _category_dates(rng, category, year),
        "deficit_draw": rng.random(n),
    })


def _category(rng, experience: np.ndarray, year: int) -> np.ndarray:
    n = len(experience)
    new_ok = state_date(year) >= NEW_CATEGORIES_SINCE
    p = np.array([0.10, 0.20, 0.30, 0.35, 0.03, 0.02]) if new_ok else \
        np.array([0.10, 0.20, 0.30, 0.40, 0.0, 0.0])
    idx = rng.choice(len(CATEGORIES), n, p=p / p.sum())
    idx = np.where(experience < 2, 0, idx)
    return np.asarray(CATEGORIES, dtype=object)[idx]


def _category_dates(rng, category: np.ndarray, year: int) -> list:
    out = []
    state = state_date(year)
    for c in category:
        if c == "без категории":
            out.append(None)
        elif c in ("педагог-методист", "педагог-наставник"):
            span = (state - NEW_CATEGORIES_SINCE).days
            out.append(NEW_CATEGORIES_SINCE + dt.timedelta(days=int(rng.integers(0, span + 1))))
        else:
            out.append(state - dt.timedelta(days=int(rng.integers(30, 5 * 365))))
    return out


# --------------------------------------------------------------------------------- staff
def _appointment_between(rng, lo: dt.date, hi: dt.date) -> dt.date:
    if rng.random() < 0.5:            # most appointments are on the first days of September
        sept = dt.date(hi.year, 9, 1) if dt.date(hi.year, 9, 1) <= hi else dt.date(hi.year - 1, 9, 1)
        if lo < sept <= hi:
            return sept
    return lo + dt.timedelta(days=int(rng.integers(1, (hi - lo).days + 1)))


def _positions(n: int) -> list[str]:
    deputies = max(0, round(n / 12))
    out = ["директор"] + ["заместитель директора"] * deputies
    out += [p for p, minimum in SPECIALISTS if n >= minimum]
    out += ["учитель"] * max(0, n - len(out))
    return out[:max(n, 1)]


def build_staff_model(region) -> StaffModel:
    cached = region._cache.get("staff_model")
    if cached is None:
        cached = region._cache["staff_model"] = _build(region)
    return cached


def _build(region) -> StaffModel:
    rng = region.rng("staff_model")
    years = list(region.years)
    first_year, last_year = years[0], years[-1]
    schools_all = region.schools
    low = schools_all.pivot_table(index="school_code", columns="academic_year",
                                  values="is_low_results", aggfunc="first").fillna(False)
    ever_low = set(low.index[low.any(axis=1)])
    active_last = set(region.schools_in(last_year)["school_code"])
    turnaround, not_turned = [], []
    if len(years) >= 2:
        low_first = set(low.index[low[first_year].astype(bool)])
        for code in sorted(low_first & active_last):
            (not_turned if bool(low.at[code, last_year]) else turnaround).append(code)
    # every turned-around school and ~60 % of the others get the planted new head
    keep_not = [c for c in not_turned if rng.random() < 0.6]
    planted_heads = set(turnaround) | set(keep_not) if len(years) >= 2 else set()
    planted_date = dt.date(first_year, 9, 1)

    persons_frames, rows = [], []
    next_id = 0
    bodies = _snils_bodies(rng, int(region.schools["n_teachers"].sum() * 0.3) + 2000)
    body_pos = 0

    def take_persons(k: int, year: int, young: np.ndarray) -> pd.DataFrame:
        nonlocal next_id, body_pos, bodies
        if body_pos + k > len(bodies):
            bodies = np.concatenate([bodies, _snils_bodies(rng, k + 5000)])
            _, first = np.unique(bodies, return_index=True)
            bodies = bodies[np.sort(first)]
        frame = _new_persons(rng, bodies[body_pos:body_pos + k], next_id, year, young)
        body_pos += k
        next_id += k
        persons_frames.append(frame)
        return frame

    staff_of: dict[str, list[int]] = {}       # school → person ids (main school, last year)
    head_of: dict[str, tuple[int, dt.date]] = {}
    for t, year in enumerate(years):
        ry = region.rng("staff_model", year)
        schools = region.schools_in(year)
        new_staff: dict[str, list[int]] = {}
        for code, msu, n in schools[["school_code", "msu_code", "n_teachers"]].itertuples(
                index=False):
            n = int(max(n, 3))
            before = staff_of.get(code, [])
            head = head_of.get(code)
            stays = head is not None and head[0] in before
            # heads of (ever) low-results schools stay unless the plant replaces them, so
            # the planted appointment is the only change there
            kept = [p for p in before if ry.random() >= TURNOVER
                    or (code in ever_low and stays and p == head[0])]
            if t == 0:
                change, date = True, state_date(year) - dt.timedelta(
                    days=int(ry.integers(400, 20 * 365)))
            elif t == 1 and code in planted_heads:
                change, date = True, planted_date
            else:
                change = not stays or head[0] not in kept or (
                    code not in ever_low and ry.random() < HEAD_CHANGE)
                date = _appointment_between(ry, state_date(year - 1), state_date(year))
            if change and head is not None and head[0] in kept:
                kept.remove(head[0])                  # the old head leaves the school
            need = n - len(kept)
            fresh = []
            if need > 0:
                young = ry.random(need) < (0.5 if t > 0 else 0.1)
                fresh = take_persons(need, year, young)["person_id"].tolist()
            ids = kept + fresh
            if change:
                head = (ids[int(ry.integers(0, len(ids)))], date)
            head_of[code] = head
            others = [p for p in ids if p != head[0]]
            positions = _positions(len(others) + 1)[1:]
            rows.append((year, head[0], code, msu, "директор", head[1], 1.0, True))
            for pid, pos in zip(others, positions):
                rate = float(ry.choice([0.5, 0.75, 1.0, 1.0, 1.25, 1.5])) if pos == "учитель" \
                    else 1.0
                rows.append((year, pid, code, msu, pos, None, rate, True))
                if pos == "заместитель директора" and ry.random() < 0.5:
                    rows.append((year, pid, code, msu, "учитель", None, 0.5, True))
            new_staff[code] = ids
        staff_of = new_staff

    persons = pd.concat(persons_frames, ignore_index=True)
    assignments = pd.DataFrame(rows, columns=["academic_year", "person_id", "school_code",
                                              "msu_code", "position", "appointment_date",
                                              "rate", "is_main_job"])
    assignments = _second_schools(region, assignments)
    _persons_by_year(assignments, persons)
    model = StaffModel(persons=persons, assignments=assignments, diagnostics=pd.DataFrame(),
                       elements={}, scores={}, documents=pd.DataFrame())
    _diagnose(region, model)
    _documents(region, model)
    model.truths = _truths(region, model, turnaround, sorted(keep_not), planted_date)
    return model


def _second_schools(region, a: pd.DataFrame) -> pd.DataFrame:
    """About 3 % of teachers also teach in another school of their municipality (persistent
    per person: the same second school while both stay)."""
    rng = region.rng("staff_model", "second_school")
    teachers = a[(a["position"] == "учитель") & a["is_main_job"]].drop_duplicates(
        ["academic_year", "person_id"])
    chosen = set(teachers["person_id"].unique()[rng.random(teachers["person_id"].nunique())
                                                < SECOND_SCHOOL])
    extra = []
    by_year_msu = {k: g["school_code"].unique() for k, g in
                   a[a["position"] == "директор"].groupby(["academic_year", "msu_code"])}
    second_of: dict[int, str] = {}
    for year, pid, code, msu in teachers.loc[teachers["person_id"].isin(chosen),
                                             ["academic_year", "person_id", "school_code",
                                              "msu_code"]].itertuples(index=False):
        pool = [c for c in by_year_msu.get((year, msu), []) if c != code]
        if not pool:
            continue
        other = second_of.get(pid)
        if other not in pool:
            other = second_of[pid] = pool[int(rng.integers(0, len(pool)))]
        extra.append((year, pid, other, msu, "учитель", None, float(rng.choice([0.25, 0.5])),
                      False))
    return pd.concat([a, pd.DataFrame(extra, columns=a.columns)], ignore_index=True)


def _persons_by_year(a: pd.DataFrame, persons: pd.DataFrame) -> None:
    """Per-row person attributes of the register year: experience grows by a year a year."""
    p = persons.set_index("person_id")
    a["experience_years"] = (p.loc[a["person_id"], "experience0"].to_numpy()
                             + a["academic_year"].to_numpy() - p.loc[a["person_id"], "year0"].to_numpy())
    a["experience_years"] = a["experience_years"].clip(0, 60)


# --------------------------------------------------------------------------------- deficits
def element_spec(region, diagnostic: str) -> pd.DataFrame:
    """The elements of a diagnostic (the same every year): label, max points, block."""
    rng = region.rng("deficits_spec", diagnostic)
    k = int(rng.integers(20, 29))
    if diagnostic == MANAGERIAL:
        blocks = rng.choice(["У", "Н", "ПП"], k, p=[0.5, 0.25, 0.25])
    else:
        blocks = rng.choice(["П", "М", "ПП", "Н"], k, p=[0.4, 0.3, 0.15, 0.15])
    for b in (("У", "Н", "ПП") if diagnostic == MANAGERIAL else ("П", "М", "ПП", "Н")):
        if b not in blocks:
            blocks[int(rng.integers(0, k))] = b
    order = np.argsort([("П", "М", "ПП", "Н", "У").index(b) for b in blocks], kind="stable")
    blocks = blocks[order]
    max_points = rng.choice([1, 2, 3, 4], k, p=[0.15, 0.2, 0.35, 0.3])
    return pd.DataFrame({"element": [str(i + 1) for i in range(k)], "max_points": max_points,
                         "block": blocks})


def _value_tables() -> dict:
    """For max points 1…4: the point values that are a deficit, that are not, and that reach
    80 % (the rule of ref_deficit_rule)."""
    out = {}
    for m in range(1, 5):
        values = np.arange(0, m + 1, dtype=float)
        bad = is_deficit(values, np.full(len(values), float(m)))
        ok = values[~bad]
        out[m] = (values[bad], ok, ok[100.0 * ok / m >= 80])
    return out


def _points(rng, max_points: np.ndarray, deficit: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Integer points (persons × elements): below the rule's threshold where `deficit`, at or
    above it elsewhere (≥ 80 % for `strong` persons and 60 % of the other cells)."""
    tables = _value_tables()
    top = strong[:, None] | (rng.random(deficit.shape) < 0.6)
    u = rng.random(deficit.shape)
    out = np.zeros(deficit.shape)
    mx = np.broadcast_to(max_points[None, :], deficit.shape)
    for m, (bad, ok, high) in tables.items():
        for mask, table in ((deficit, bad), (~deficit & top, high), (~deficit & ~top, ok)):
            cell = mask & (mx == m)
            if cell.any():
                out[cell] = table[np.minimum((u[cell] * len(table)).astype(int),
                                             len(table) - 1)]
    return out


def _diagnose(region, model: StaffModel) -> None:
    years = list(region.years)
    a = model.assignments
    persons = model.persons.set_index("person_id")
    msus = sorted(a["msu_code"].unique())
    rng0 = region.rng("deficits", "propensity")
    propensity = dict(zip(msus, rng0.uniform(0.25, 0.65, len(msus))))
    main_rows = a[a["is_main_job"]].sort_values(["academic_year", "person_id", "position"])
    main_school = main_rows.drop_duplicates(["academic_year", "person_id"])
    diag_frames, scores, elements, sets = [], {}, {}, {}
    previous: dict[int, dict[str, np.ndarray]] = {}      # person → {diagnostic: points}
    next_id = 0
    for year in years:
        rng = region.rng("deficits", year)
        rows_y = main_school[main_school["academic_year"] == year]
        pid = rows_y["person_id"].to_numpy()
        pos = rows_y["position"].to_numpy()
        manager = np.isin(pos, ["директор", "заместитель директора"])
        again_any = np.array([p in previous for p in pid], dtype=bool)
        main_diag = persons.loc[pid, "main_diagnostic"].to_numpy()
        second = persons.loc[pid, "second_diagnostic"].to_numpy()
        u = rng.random(len(pid))
        redo_main = np.array([main_diag[i] in previous.get(p, ()) for i, p in enumerate(pid)]) \
            if again_any.any() else np.zeros(len(pid), bool)
        redo_mgr = np.array([MANAGERIAL in previous.get(p, ()) for p in pid]) \
            if again_any.any() else np.zeros(len(pid), bool)
        take_mgr = manager & ((u < DIAG_MANAGERS) | redo_mgr)
        take_sub = (pos == "учитель") & ((u < DIAG_TEACHERS) | redo_main)
        take_two = take_sub & (second != None) & (rng.random(len(pid)) < 0.05)  # noqa: E711
        picks = pd.concat([
            pd.DataFrame({"i": np.flatnonzero(take_mgr), "diagnostic": MANAGERIAL,
                          "position": pos[take_mgr]}),
            pd.DataFrame({"i": np.flatnonzero(take_sub), "diagnostic": main_diag[take_sub],
                          "position": "учитель"}),
            pd.DataFrame({"i": np.flatnonzero(take_two), "diagnostic": second[take_two],
                          "position": "учитель"})], ignore_index=True)
        picks["person_id"] = pid[picks["i"].to_numpy()]
        picks["school_code"] = rows_y["school_code"].to_numpy()[picks["i"].to_numpy()]
        picks["msu_code"] = rows_y["msu_code"].to_numpy()[picks["i"].to_numpy()]
        current: dict[int, dict[str, np.ndarray]] = {}
        for diagnostic, g in picks.groupby("diagnostic", sort=True):
            if diagnostic not in elements:
                elements[diagnostic] = element_spec(region, diagnostic)
            mx = elements[diagnostic]["max_points"].to_numpy()
            k, n = len(mx), len(g)
            rg = region.rng("deficits", year, diagnostic)
            p = np.where(diagnostic == MANAGERIAL, 0.5,
                         g["msu_code"].map(propensity).to_numpy(dtype=float))
            has = rg.random(n) < p
            n_bad = rg.integers(1, 5, n)
            order = np.argsort(rg.random((n, k)), axis=1)
            deficit = (np.argsort(order, axis=1) < n_bad[:, None]) & has[:, None]
            improve = rg.random(n) < 0.7
            for row, person in enumerate(g["person_id"].to_numpy()):
                before = previous.get(person, {}).get(diagnostic)
                if before is not None and improve[row]:      # re-diagnosed, improved
                    bad_before = np.flatnonzero(is_deficit(np.nan_to_num(before), mx))
                    deficit[row] = False
                    deficit[row, bad_before[:max(0, len(bad_before) - 1
                                                 - int(rg.integers(0, 2)))]] = True
            pts = _points(rg, mx, deficit, rg.random(n) < 0.5)
            empty = deficit & (pts == 0) & (rg.random((n, k)) < 0.3)
            pts = np.where(empty, np.nan, pts)               # not answered: an empty cell
            month = rg.choice([10, 11, 12, 2, 3, 4], n)
            day = rg.integers(1, 28, n)
            dates = [dt.date(year - 1 if m >= 9 else year, int(m), int(d))
                     for m, d in zip(month, day)]
            ids = np.arange(next_id, next_id + n)
            next_id += n
            blocks = elements[diagnostic]["block"].to_numpy()
            bad_cells = is_deficit(np.nan_to_num(pts), np.broadcast_to(mx, pts.shape))
            keep = rg.random(n) < REDIAGNOSED
            for row, (i, person) in enumerate(zip(ids, g["person_id"].to_numpy())):
                scores[int(i)] = pts[row]
                sets[int(i)] = frozenset(blocks[bad_cells[row]])
                if keep[row] and bad_cells[row].any():
                    current.setdefault(int(person), {})[diagnostic] = pts[row]
            diag_frames.append(pd.DataFrame({
                "diag_id": ids, "academic_year": year, "person_id": g["person_id"].to_numpy(),
                "school_code": g["school_code"].to_numpy(), "msu_code": g["msu_code"].to_numpy(),
                "position": g["position"].to_numpy(), "diagnostic": diagnostic,
                "diagnostic_date": dates}))
        previous = current
    model.diagnostics = pd.concat(diag_frames, ignore_index=True).sort_values(
        "diag_id", kind="stable").reset_index(drop=True)
    model.scores = scores
    model.elements = elements
    model.deficit_sets = sets
    model.truths["propensity"] = propensity


def deficit_blocks(model: StaffModel, diag_id: int, diagnostic: str = "") -> frozenset:
    """The blocks in which a diagnostic result has at least one deficit element."""
    return model.deficit_sets[diag_id]


# --------------------------------------------------------------------------------- ДПО
def programme_catalogue() -> pd.DataFrame:
    """One row per programme of the seed (its first spelling), with its blocks as a set."""
    seed = ref.load("ref_dpo_programmes")
    first = seed.drop_duplicates("programme_code").copy()
    first["block_set"] = first["blocks"].map(lambda s: set(str(s).split()))
    first = first.reset_index(drop=True)
    # plain None for "any diagnostic" (pandas would turn it into NaN in a text column)
    first["diagnostic"] = pd.Series([None if pd.isna(d) else str(d) for d in first["diagnostic"]],
                                    dtype=object)
    return first


UNKNOWN_PROGRAMMES = ("Оказание первой помощи пострадавшим", "Пожарно-технический минимум",
                      "Охрана труда в образовательной организации",
                      "Антитеррористическая защищённость образовательных организаций")
PROVIDERS = (("ИРО", "Институт развития образования"), ("ЦНППМ", "ЦНППМ"),
             ("АНО", "АНО ДПО «Педагогический университет»"), ("ВУЗ", "Региональный университет"))


def targets(programme: pd.Series, diagnostic: str, block: str) -> bool:
    """Whether a programme addresses a deficit block of a diagnostic (the contract's rule as
    this project reads it: the programme's blocks include the block, and it is a programme of
    that diagnostic or of none in particular)."""
    return block in programme["block_set"] and (programme["diagnostic"] is None
                                                or programme["diagnostic"] == diagnostic)


def _target_table(cat: pd.DataFrame, diagnostics) -> dict:
    """(diagnostic, block) → the programme indices that address it."""
    out: dict[tuple, list[int]] = {}
    for diagnostic in diagnostics:
        for block in ("П", "М", "ПП", "Н", "У"):
            out[(diagnostic, block)] = [i for i in range(len(cat))
                                        if targets(cat.iloc[i], diagnostic, block)]
    return out


def _documents(region, model: StaffModel) -> None:
    years = list(region.years)
    data_end = dt.date(years[-1], 8, 31)
    data_start = dt.date(years[0] - 1, 9, 1)
    cat = programme_catalogue()
    a = model.assignments
    rng = region.rng("dpo", "documents")
    docs = []    # person_id, programme index (-1-k unknown), issue_date, planted kind

    def add(pid, prog, date, kind):
        if data_start <= date <= data_end:
            docs.append((pid, prog, date, kind))

    general = np.flatnonzero([d is None for d in cat["diagnostic"]])
    for year in years:
        ry = region.rng("dpo", year)
        staff_y = a[a["academic_year"] == year].drop_duplicates("person_id")
        ids = staff_y["person_id"].to_numpy()
        take = ids[ry.random(len(ids)) < DPO_BACKGROUND]
        for pid in take:
            u = ry.random()
            if u < 0.12:
                prog = -1 - int(ry.integers(0, len(UNKNOWN_PROGRAMMES)))
            elif u < 0.55:
                prog = int(general[int(ry.integers(0, len(general)))])
            else:
                prog = int(ry.integers(0, len(cat)))
            date = dt.date(year - 1, 9, 1) + dt.timedelta(days=int(ry.integers(0, 364)))
            add(int(pid), prog, date, "background")
    # after a diagnostic
    table = _target_table(cat, model.diagnostics["diagnostic"].unique())
    for row in model.diagnostics.itertuples(index=False):
        blocks = deficit_blocks(model, row.diag_id, row.diagnostic)
        if not blocks:
            continue
        u = rng.random()
        if u < TARGETED:
            block = sorted(blocks)[int(rng.integers(0, len(blocks)))]
            fits = table[(row.diagnostic, block)]
            if fits:
                prog = fits[int(rng.integers(0, len(fits)))]
                add(row.person_id, prog, row.diagnostic_date
                    + dt.timedelta(days=int(rng.integers(20, 330))), "targeted")
        elif u < TARGETED + UNTARGETED:
            if rng.random() < 0.5:        # a course that does not address the deficits
                hit = {i for b in blocks for i in table[(row.diagnostic, b)]}
                misses = [i for i in range(len(cat)) if i not in hit]
                prog = misses[int(rng.integers(0, len(misses)))]
                date = row.diagnostic_date + dt.timedelta(days=int(rng.integers(20, 330)))
            else:                          # the right course, but too late
                block = sorted(blocks)[0]
                fits = table[(row.diagnostic, block)]
                if not fits:
                    continue
                prog = fits[int(rng.integers(0, len(fits)))]
                date = add_months(row.diagnostic_date, WINDOW_MONTHS) + dt.timedelta(
                    days=int(rng.integers(15, 90)))
            add(row.person_id, prog, date, "untargeted")
    frame = pd.DataFrame(docs, columns=["person_id", "programme", "issue_date", "planted"])
    # recipients outside the staff register (kindergartens, colleges …)
    n_out = int(len(frame) * OUTSIDERS)
    outsiders = _new_persons(rng, _snils_bodies(rng, n_out + 50)[-n_out:] + 0, -10_000_000,
                             years[-1], rng.random(n_out) < 0.2) if n_out else None
    if outsiders is not None:
        outsiders = outsiders[~outsiders["snils"].isin(set(model.persons["snils"]))]
        model.persons = pd.concat([model.persons, outsiders.assign(outsider=True)],
                                  ignore_index=True)
        out_docs = pd.DataFrame({
            "person_id": outsiders["person_id"].to_numpy(),
            "programme": rng.integers(0, len(cat), len(outsiders)),
            "issue_date": [data_start + dt.timedelta(days=int(d)) for d in
                           rng.integers(0, (data_end - data_start).days, len(outsiders))],
            "planted": "outsider"})
        frame = pd.concat([frame, out_docs], ignore_index=True)
    frame = frame.sort_values(["issue_date", "person_id", "programme"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame["doc_id"] = np.arange(len(frame))
    frame["provider"] = rng.integers(0, len(PROVIDERS), len(frame))
    frame["status"] = "Оригинал"
    frame["original_date"] = frame["issue_date"]
    frame["original_doc"] = frame["doc_id"]
    # duplicates: a later re-issue with a new series/number and the same registration number
    dup_idx = np.flatnonzero(rng.random(len(frame)) < DUPLICATES)
    dups = frame.iloc[dup_idx].copy()
    dups["issue_date"] = [d + dt.timedelta(days=int(k)) for d, k in
                          zip(dups["issue_date"], rng.integers(30, 400, len(dups)))]
    dups = dups[dups["issue_date"] <= data_end]
    dups["status"] = "Дубликат"
    dups["doc_id"] = np.arange(len(frame), len(frame) + len(dups))
    frame = pd.concat([frame, dups], ignore_index=True)
    model.documents = frame


# --------------------------------------------------------------------------------- truths
def _truths(region, model: StaffModel, turnaround, not_turned, planted_date) -> dict:
    years = list(region.years)
    d = model.diagnostics
    subject = d[d["diagnostic"] != MANAGERIAL].copy()
    subject["has_deficit"] = [bool(model.deficit_sets[i]) for i in subject["diag_id"]]
    person = subject.groupby(["academic_year", "msu_code", "person_id"])["has_deficit"].any()
    share = person.groupby(["academic_year", "msu_code"]).agg(["size", "sum"]).reset_index()
    deficit_shares = [
        {"academic_year": int(y), "municipality_code": str(m),
         "planted_propensity_pct": round(100.0 * model.truths["propensity"][m], 2),
         "diagnosed": int(n), "with_deficit": int(k), "share_pct": round(100.0 * k / n, 4)}
        for y, m, n, k in share.itertuples(index=False)]
    # targeted ДПО per year × diagnostic × block (persons once), from the documents of record
    cat = programme_catalogue()
    table = _target_table(cat, d["diagnostic"].unique())
    docs = model.documents
    of_record = docs[docs["status"] == "Оригинал"][["person_id", "programme", "original_date"]]
    by_person = {pid: g for pid, g in of_record.groupby("person_id")}
    counts: dict[tuple, set] = {}
    total: dict[tuple, set] = {}
    for row in d.itertuples(index=False):
        blocks = deficit_blocks(model, row.diag_id, row.diagnostic)
        g = by_person.get(row.person_id)
        end = add_months(row.diagnostic_date, WINDOW_MONTHS)
        hit_any = False
        for block in blocks:
            hit = False
            if g is not None:
                fits = table[(row.diagnostic, block)]
                for prog, date in zip(g["programme"], g["original_date"]):
                    if prog >= 0 and row.diagnostic_date < date <= end and prog in fits:
                        hit = True
                        break
            if hit:
                counts.setdefault((row.academic_year, row.diagnostic, block), set()).add(
                    row.person_id)
                hit_any = True
        if hit_any:
            total.setdefault((row.academic_year, row.diagnostic), set()).add(row.person_id)
    targeted = [{"academic_year": int(y), "diagnostic": g, "block": b,
                 "targeted_dpo": len(p)} for (y, g, b), p in sorted(counts.items())]
    targeted += [{"academic_year": int(y), "diagnostic": g, "block": "все",
                  "targeted_dpo": len(p)} for (y, g), p in sorted(total.items())]
    planted = docs[docs["status"] == "Оригинал"]["planted"].value_counts().to_dict()
    a = model.assignments
    two = a.groupby(["academic_year", "person_id"])["school_code"].nunique()
    heads = a[a["position"] == "директор"].groupby("school_code")["person_id"].nunique()
    return {
        "deficit_shares": deficit_shares,
        "targeted_dpo": targeted,
        "head_turnarounds": [{"academic_year": years[-1], "school_code": c,
                              "head_since": planted_date.isoformat()} for c in turnaround],
        "heads_not_turned_around": [{"academic_year": years[-1], "school_code": c,
                                     "head_since": planted_date.isoformat()}
                                    for c in not_turned],
        "staff_counts": {
            "persons_in_two_schools": int((two > 1).sum()),
            "schools_with_head_change": int((heads > 1).sum()),
            "dpo_duplicates": int((docs["status"] == "Дубликат").sum()),
            "dpo_targeted_planted": int(planted.get("targeted", 0)),
            "dpo_untargeted_planted": int(planted.get("untargeted", 0)),
            "dpo_unknown_programme_documents": int((docs["programme"] < 0).sum()),
            "rediagnosed_persons": int(d.duplicated(["person_id", "diagnostic"]).sum()),
        },
    }
