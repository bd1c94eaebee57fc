"""ЕГЭ and ОГЭ (with ГВЭ-9, codes 51–68) result sheets as РИС ГИА exports them.

One file per subject × exam date under ``<out>/ege|oge/<year>/``: windows-1251, ``;``,
CRLF, a title line ``<code> - <name> <YYYY.MM.DD>``, the header, participant rows and up to
three footer rows (``Средние``, ``Минимальная граница``, ``Всего участников``).

How results are made (vectorised, per subject):

* the cohort: grade 11 (ЕГЭ) or grade 9 (ОГЭ) students of every active school with a РИС
  ГИА code, with names, a passport (series + number, stable within the year), a class;
* ability ``θ = school_effect + z_subject`` (``z_subject`` = 0.8 × general + 0.6 × own);
* points of task *k*: Binomial(max_k, sigmoid(o + c·θ − d_k)); the task structure comes
  from the seed ``ref_gia_task_spec``; ``o`` and ``c`` are calibrated per subject so that
  the mean result and the failing share of first attempts hit realistic targets
  (:data:`EGE_TARGETS`, :data:`OGE_TARGETS`: generator realism, not reference data);
* the primary score is the sum of the task points; ``Балл`` comes from the seed
  ``ref_ege_score_scale``, ``Оценка`` from ``ref_mark_boundaries`` (ОГЭ, ГВЭ-9, ЕГЭ 22);
* quirks: main and reserve days, re-takes of Russian and mathematics on a later date
  (the later result is the result of record), removed/annulled results with empty score
  cells, files without the optional ``Статус`` column (2023), footers missing or partial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.planted import NOT_CONFIRMED_OGE_SHIFT
from rsoko_pipelines.demo.records import FileRecord
from rsoko_pipelines.demo.region import Region

ENCODING = "cp1251"

# --- calibration targets: (mean result of first attempts, % failing first attempts) -------
# ЕГЭ: mean test score (22: mean mark); ОГЭ/ГВЭ: mean mark. Re-takes lower the failing share
# of the results of record by about a quarter for Russian and mathematics.
EGE_TARGETS: dict[str, tuple[float, float]] = {
    "01": (68.8, 2.4), "02": (61.0, 7.0), "03": (55.0, 5.0), "04": (57.0, 12.0),
    "06": (52.0, 13.0), "07": (56.0, 8.0), "08": (60.0, 5.0), "09": (70.0, 1.5),
    "10": (62.0, 3.0), "11": (68.0, 2.0), "12": (57.0, 14.0), "13": (68.0, 2.0),
    "18": (63.0, 5.0), "22": (4.1, 3.5), "25": (59.0, 10.0),
}
OGE_TARGETS: dict[str, tuple[float, float]] = {
    "01": (3.9, 4.5), "02": (3.5, 15.5), "03": (3.5, 3.0), "04": (3.9, 2.0),
    "05": (3.6, 4.0), "06": (3.4, 4.0), "07": (3.4, 5.0), "08": (3.6, 6.0),
    "09": (4.1, 1.0), "10": (4.0, 2.0), "11": (4.0, 2.0), "12": (3.4, 5.0),
    "13": (4.0, 2.0), "18": (4.0, 2.0), "51": (3.8, 4.0), "52": (3.6, 7.0),
}

# --- subject choice --------------------------------------------------------------------
# elective: (weight, ability tilt)
EGE_ELECTIVES: dict[str, tuple[float, float]] = {
    "12": (0.42, -0.1), "06": (0.22, 0.0), "03": (0.20, 0.45), "25": (0.18, 0.35),
    "07": (0.16, 0.0), "04": (0.14, 0.25), "09": (0.13, 0.35), "18": (0.08, 0.1),
    "08": (0.03, -0.1), "10": (0.004, 0.2), "11": (0.003, 0.3), "13": (0.001, 0.3),
}
EGE_N_ELECTIVES_P = (0.30, 0.42, 0.24, 0.04)          # 0, 1, 2, 3 electives
EGE_PROFILE_MATH_SHARE = 0.55
OGE_ELECTIVES: dict[str, tuple[float, float]] = {
    "12": (0.55, -0.1), "05": (0.42, 0.1), "08": (0.38, -0.2), "06": (0.32, 0.0),
    "09": (0.13, 0.4), "04": (0.09, 0.3), "03": (0.09, 0.4), "07": (0.04, 0.0),
    "18": (0.03, 0.1), "10": (0.003, 0.3), "11": (0.002, 0.3), "13": (0.001, 0.3),
}

# --- exam calendar (month, day): main days, reserve day, re-take day ----------------------
_Cal = tuple[tuple[tuple[int, int], ...], tuple[int, int], tuple[int, int] | None]
EGE_CALENDAR: dict[str, _Cal] = {
    "07": (((5, 23),), (6, 23), None), "18": (((5, 23),), (6, 23), None),
    "04": (((5, 23),), (6, 23), None), "22": (((5, 27),), (6, 25), (7, 4)),
    "02": (((5, 27),), (6, 25), (7, 4)), "12": (((5, 30),), (6, 26), None),
    "03": (((5, 30),), (6, 26), None), "06": (((6, 3),), (6, 23), None),
    "08": (((6, 3),), (6, 23), None), "09": (((6, 3),), (6, 26), None),
    "10": (((6, 3),), (6, 26), None), "11": (((6, 3),), (6, 26), None),
    "13": (((6, 3),), (6, 26), None), "01": (((6, 10),), (6, 24), (7, 3)),
    "25": (((6, 19), (6, 20)), (6, 23), None),
}
OGE_CALENDAR: dict[str, _Cal] = {
    "06": (((5, 21), (6, 16)), (6, 24), None), "12": (((5, 29), (6, 6)), (6, 24), None),
    "04": (((5, 26),), (6, 24), None), "05": (((5, 21), (5, 29), (6, 6)), (6, 25), None),
    "09": (((5, 22), (5, 23)), (6, 25), None), "10": (((5, 22),), (6, 25), None),
    "11": (((5, 22),), (6, 25), None), "13": (((5, 22),), (6, 25), None),
    "07": (((5, 26),), (6, 24), None), "03": (((5, 26), (6, 16)), (6, 24), None),
    "08": (((5, 29), (6, 6)), (6, 25), None), "18": (((6, 16),), (6, 24), None),
    "02": (((6, 3),), (6, 27), (7, 2)), "01": (((6, 9),), (6, 26), (7, 1)),
    "51": (((6, 9),), (6, 26), (7, 1)), "52": (((6, 3),), (6, 27), (7, 2)),
}
FOREIGN = {"09", "10", "11", "13"}
ORAL_TASKS = {"EGE": 4, "OGE": 3}     # the trailing extended tasks are the oral part

P_RESERVE = 0.02          # first attempt on the reserve day (illness, clash)
P_REMOVED = 0.0022        # removed or annulled (of first attempts)
P_RETAKE = 0.7            # failers of Russian/mathematics who sit again
RETAKE_GAIN = 0.45        # ability gain at the re-take (SD units)

# --- personal data ----------------------------------------------------------------------
_SURNAMES = (
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов "
    "Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев "
    "Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв "
    "Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов "
    "Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов "
    "Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков "
    "Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков "
    "Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов "
    "Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин "
    "Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников "
    "Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов "
    "Гришин Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев "
    "Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин "
    "Белоусов Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин Воронов Аксёнов "
    "Мальцев Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников "
    "Дёмин Хохлов Жданов Вишневский Островский Успенский Покровский Троицкий Соколовский "
    "Шевченко Коваленко Бондаренко Ткаченко Кравченко Лысенко Ким Пак Шульц Миллер"
).split()
_SURNAMES_NONNATIVE = (
    "Хабибуллин Галиев Сафин Мухаметов Алиев Гасанов Магомедов Ахмедов Исмаилов Валиев "
    "Гарипов Шарипов Юсупов Рахимов Каримов Нуриев Закиров Файзуллин Абдуллаев Мамедов"
).split()
_MALE = (
    "Александр Максим Артём Михаил Иван Дмитрий Даниил Кирилл Андрей Егор Никита Илья "
    "Алексей Матвей Тимофей Роман Сергей Владимир Ярослав Фёдор Георгий Константин Лев "
    "Николай Степан Марк Павел Арсений Денис Тимур Глеб Богдан Владислав Вадим Евгений "
    "Антон Олег Руслан Игорь Виктор"
).split()
_FEMALE = (
    "Анастасия Мария Анна Виктория Екатерина Дарья Полина Елизавета Софья Александра "
    "Ксения Алина Вероника Арина Варвара Валерия Кристина Юлия Ульяна Алёна Милана Ева "
    "Таисия Диана Василиса Ольга Татьяна Елена Наталья Ирина Евгения Маргарита Яна Карина "
    "Алиса Вера Надежда Любовь Злата Ангелина"
).split()
_PATRONYMICS = (  # (male, female) from the father's name
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"),
    ("Алексеевич", "Алексеевна"), ("Дмитриевич", "Дмитриевна"), ("Владимирович", "Владимировна"),
    ("Евгеньевич", "Евгеньевна"), ("Игоревич", "Игоревна"), ("Олегович", "Олеговна"),
    ("Николаевич", "Николаевна"), ("Михайлович", "Михайловна"), ("Иванович", "Ивановна"),
    ("Юрьевич", "Юрьевна"), ("Викторович", "Викторовна"), ("Павлович", "Павловна"),
    ("Денисович", "Денисовна"), ("Романович", "Романовна"), ("Максимович", "Максимовна"),
    ("Вадимович", "Вадимовна"), ("Константинович", "Константиновна"),
    ("Анатольевич", "Анатольевна"), ("Вячеславович", "Вячеславовна"), ("Артёмович", "Артёмовна"),
    ("Антонович", "Антоновна"), ("Ильич", "Ильинична"), ("Никитич", "Никитична"),
    ("Русланович", "Руслановна"), ("Валерьевич", "Валерьевна"), ("Геннадьевич", "Геннадьевна"),
    ("Васильевич", "Васильевна"), ("Петрович", "Петровна"), ("Фёдорович", "Фёдоровна"),
    ("Станиславович", "Станиславовна"), ("Владиславович", "Владиславовна"),
    ("Эдуардович", "Эдуардовна"), ("Григорьевич", "Григорьевна"), ("Тимурович", "Тимуровна"),
    ("Ренатович", "Ренатовна"),
)
_LETTERS = np.asarray(list("АБВГДЕЖЗИКЛМ"), dtype=object)


def _female(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ский"):
        return surname[:-4] + "ская"
    if surname.endswith("цкий"):
        return surname[:-4] + "цкая"
    return surname


_ALL_SURNAMES = sorted(set(_SURNAMES)) + sorted(set(_SURNAMES_NONNATIVE))
_N_NATIVE = len(set(_SURNAMES))
_SURNAME_M = np.asarray(_ALL_SURNAMES, dtype=object)
_SURNAME_F = np.asarray([_female(s) for s in _ALL_SURNAMES], dtype=object)
_PATR_M = np.asarray([m for m, _ in _PATRONYMICS] + [""], dtype=object)
_PATR_F = np.asarray([f for _, f in _PATRONYMICS] + [""], dtype=object)


def _zipf_weights(n: int, s: float = 0.8) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def _ncdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lookup(table: dict, code: str):
    """A subject's entry; a ГВЭ-9 elective (53–68) takes its ОГЭ subject's (code − 50)."""
    return table[code] if code in table else table[f"{int(code) - 50:02d}"]


def _not_confirmed_shift(schools: pd.DataFrame, exam: "Exam") -> np.ndarray:
    """Per school: NOT_CONFIRMED_OGE_SHIFT in the ОГЭ (not ГВЭ) of the subject whose ВПР the
    school inflates (demo/planted.py), else 0."""
    if exam.exam_kind != "OGE" or "vpr_not_confirmed_subject" not in schools:
        return np.zeros(len(schools))
    hit = (schools["vpr_not_confirmed_subject"] == exam.subject_code).to_numpy(dtype=bool)
    return np.where(hit, NOT_CONFIRMED_OGE_SHIFT, 0.0)


@dataclass(frozen=True)
class Exam:
    procedure: str          # EGE / OGE (the РИС ГИА procedure)
    year: int
    code: str               # source subject code ('01', '22', '51')
    name: str               # as in the title line
    subject_code: str       # unified code
    exam_kind: str          # EGE / OGE / GVE9
    result_kind: str        # test_score / mark
    maxes: np.ndarray       # max points per task, sheet order (short, then extended)
    is_short: np.ndarray    # bool per task
    is_oral: np.ndarray     # bool per task (foreign languages)
    result_of_primary: np.ndarray   # test score or mark for primary 0..max
    fail_of_primary: np.ndarray     # bool
    min_primary_pass: int           # lowest primary score that does not fail
    min_test_score: int | None

    @property
    def max_primary(self) -> int:
        return int(self.maxes.sum())


def _exam(procedure: str, year: int, code: str) -> Exam:
    subj = ref.gia_subjects()
    row = subj[(subj["procedure"] == procedure) & (subj["source_subject_code"] == code)].iloc[0]
    tasks = ref.gia_tasks(procedure, year, code)
    tasks = pd.concat([tasks[tasks["answer_part"] == "short"],
                       tasks[tasks["answer_part"] != "short"]], ignore_index=True)
    maxes = tasks["max_points"].to_numpy(dtype=np.int64)
    is_short = (tasks["answer_part"] == "short").to_numpy()
    is_oral = np.zeros(len(maxes), bool)
    if code in FOREIGN and procedure in ORAL_TASKS:
        is_oral[-ORAL_TASKS[procedure]:] = True
    m = int(maxes.sum())
    primary = np.arange(m + 1)
    min_test = None
    if row["result_kind"] == "test_score":
        result = np.asarray(ref.ege_scale(year, code), dtype=np.int64)
        if len(result) != m + 1:
            raise ValueError(f"ЕГЭ {year} {code}: scale has {len(result)} points, tasks sum {m}")
        min_test, _ = ref.ege_min_score(year, code)
        fail = result < int(min_test)
    else:
        kind = row["exam_kind"]
        bounds_proc = {"EGE": "EGE", "OGE": "OGE", "GVE9": "GVE9"}[kind]
        grade = 11 if kind == "EGE" else 9
        top = ref.max_primary(bounds_proc, year, row["subject_code"], grade)
        if top != m:
            raise ValueError(f"{procedure} {year} {code}: boundaries end at {top}, tasks sum {m}")
        result = ref.score_to_mark(bounds_proc, year, row["subject_code"], grade, primary)
        fail = result == 2
    return Exam(procedure, year, code, str(row["subject_name_ru"]), str(row["subject_code"]),
                str(row["exam_kind"]), str(row["result_kind"]), maxes, is_short, is_oral,
                result, fail, int(np.argmin(fail)) if (~fail).any() else m + 1, min_test)


def _calibrate(exam: Exam, theta: np.ndarray, diffs: np.ndarray,
               target_mean: float, target_fail_pct: float) -> tuple[float, float]:
    """(o, c) such that sigmoid(o + c·θ − d_k) points hit the target mean and failing %."""
    hist, edges = np.histogram(theta, bins=40)
    centers = (edges[:-1] + edges[1:]) / 2
    w = hist / max(hist.sum(), 1)
    maxes = exam.maxes.astype(float)
    s = np.arange(exam.max_primary + 1, dtype=float)
    res = exam.result_of_primary.astype(float)
    fail = exam.fail_of_primary.astype(float)

    def stats(o: float, c: float) -> tuple[float, float]:
        p = _sigmoid(o + c * centers[:, None] - diffs[None, :])
        mu = (maxes * p).sum(1)
        sd = np.sqrt((maxes * p * (1 - p)).sum(1) + 0.05)
        cdf = _ncdf((s[None, :] + 0.5 - mu[:, None]) / sd[:, None])
        cdf[:, -1] = 1.0
        dist = (w[:, None] * cdf).sum(0)      # no BLAS: cheap, and safe under oversubscription
        dist[1:] -= dist[:-1].copy()
        return float((dist * res).sum()), float((dist * fail).sum()) * 100.0

    def offset_for(c: float) -> float:
        lo, hi = -9.0, 9.0
        for _ in range(19):
            mid = (lo + hi) / 2
            if stats(mid, c)[0] < target_mean:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    lo, hi = math.log(0.15), math.log(6.0)
    for _ in range(14):
        mid = (lo + hi) / 2
        c = math.exp(mid)
        if stats(offset_for(c), c)[1] < target_fail_pct:
            lo = mid
        else:
            hi = mid
    c = math.exp((lo + hi) / 2)
    return offset_for(c), c


def _fmt_date(year: int, md: tuple[int, int]) -> str:
    return f"{year:04d}.{md[0]:02d}.{md[1]:02d}"


def _fmt_mean(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


# ---------------------------------------------------------------------------------------
# cohort
# ---------------------------------------------------------------------------------------
@dataclass
class Cohort:
    schools: pd.DataFrame     # sorted by msu_code, gia_code; with ppe codes
    school_i: np.ndarray
    z: np.ndarray
    female: np.ndarray
    surname: np.ndarray       # strings (object)
    name: np.ndarray
    patronymic: np.ndarray
    series: np.ndarray
    number: np.ndarray
    klass: np.ndarray
    gve: np.ndarray           # ГВЭ-9 instead of ОГЭ (OGE only)
    order: np.ndarray         # rank of the student in sheet order (school, class, name)


def _cohort(region: Region, year: int, procedure: str) -> Cohort:
    rng = region.rng("gia", procedure, year, "cohort")
    sch = region.schools_in(year)
    sch = sch[sch["gia_code"].notna()]
    if procedure == "EGE":
        sch = sch[(sch["max_grade"] >= 11) & (sch["min_grade"] <= 11)]
        base = sch["students_per_senior_grade"].to_numpy()
        grade = 11
        p_sit = 0.985
    else:
        sch = sch[(sch["max_grade"] >= 9) & (sch["min_grade"] <= 9)]
        base = sch["students_per_grade"].to_numpy()
        grade = 9
        p_sit = 0.9
    order = np.lexsort((sch["gia_code"].to_numpy().astype(str), sch["msu_code"].to_numpy().astype(str)))
    sch = sch.iloc[order].reset_index(drop=True)
    base = base[order]
    size = rng.binomial(base, p_sit)
    n = int(size.sum())
    school_i = np.repeat(np.arange(len(sch)), size)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.arange(n) - start[school_i]
    n_classes = np.maximum(1, np.ceil(size / 25)).astype(np.int64)
    per_class = np.maximum(1, np.ceil(size / n_classes)).astype(np.int64)
    letter = np.minimum(rank // per_class[school_i], len(_LETTERS) - 1)
    klass = (str(grade) + _LETTERS[letter]).astype(object)

    # ППЭ: a few per МСУ; a school's students sit in one ППЭ
    msu_ord = pd.factorize(sch["msu_code"])[0]
    n_in_msu = np.bincount(msu_ord)
    n_ppe = np.maximum(1, np.ceil(n_in_msu / 6)).astype(np.int64)
    ppe_no = rng.integers(0, 1 << 30, len(sch)) % n_ppe[msu_ord]
    ppe = (msu_ord * 13 + ppe_no + 100) % 10_000
    sch = sch.assign(ppe_code=np.char.zfill(ppe.astype(str), 4),
                     reserve_ppe=np.char.zfill(((msu_ord * 13 + 100) % 10_000).astype(str), 4))

    female = rng.random(n) < 0.52
    nonnative = rng.random(n) < sch["pct_nonnative"].to_numpy()[school_i] / 100.0 * 0.8
    s_native = rng.choice(_N_NATIVE, n, p=_zipf_weights(_N_NATIVE, 0.6))
    s_non = _N_NATIVE + rng.integers(0, len(_SURNAMES_NONNATIVE), n)
    s_idx = np.where(nonnative, s_non, s_native)
    surname = np.where(female, _SURNAME_F[s_idx], _SURNAME_M[s_idx])
    name = np.where(female, np.asarray(_FEMALE, dtype=object)[rng.choice(len(_FEMALE), n, p=_zipf_weights(len(_FEMALE)))],
                    np.asarray(_MALE, dtype=object)[rng.choice(len(_MALE), n, p=_zipf_weights(len(_MALE)))])
    p_idx = rng.integers(0, len(_PATRONYMICS), n)
    p_idx[rng.random(n) < 0.012] = len(_PATRONYMICS)       # no patronymic
    patronymic = np.where(female, _PATR_F[p_idx], _PATR_M[p_idx])

    # passport: series = 2 digits of the issuing region + 2 digits of the issue year;
    # ЕГЭ and ОГЭ cohorts have different issue years, so documents never collide.
    yy0 = (year - 4) if procedure == "EGE" else (year - 2)
    yy = (yy0 + rng.integers(0, 2, n)) % 100
    if region.tier == "F":
        reg2 = (msu_ord[school_i] % 89) + 1
    else:
        reg2 = np.where(rng.random(n) < 0.97, int(region.region_code), rng.integers(1, 90, n))
    series_num = reg2 * 100 + yy
    # numbers of different academic years come from disjoint quarters of 000000–999999, so
    # two different people never share a document across the years and procedures here
    offset = (year % 4) * 250_000
    number = offset + rng.integers(0, 250_000, n)
    key = series_num.astype(np.int64) * 1_000_000 + number
    while True:
        dup = pd.Series(key).duplicated().to_numpy()
        if not dup.any():
            break
        number[dup] = offset + rng.integers(0, 250_000, int(dup.sum()))
        key = series_num.astype(np.int64) * 1_000_000 + number
    series = np.char.zfill(series_num.astype(str), 4).astype(object)
    number_s = np.char.zfill(number.astype(str), 6).astype(object)

    z = rng.normal(0.0, 1.0, n)
    gve = np.zeros(n, bool)
    if procedure == "OGE":
        kind = sch["school_kind"].to_numpy()[school_i]
        p_gve = sch["pct_ovz"].to_numpy()[school_i] / 100.0 * 0.55
        p_gve = np.where(np.isin(kind, ["школа-интернат", "вечерняя школа"]), 0.2, p_gve)
        gve = rng.random(n) < p_gve
    keys = pd.DataFrame({"school": school_i, "klass": klass, "surname": surname, "name": name,
                         "patronymic": patronymic, "number": number_s})
    order = np.empty(n, dtype=np.int64)
    order[keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()] = np.arange(n)
    return Cohort(sch, school_i, z, female, surname, name, patronymic, series, number_s,
                  klass, gve, order)


def _choices(cohort: Cohort, region: Region, year: int, procedure: str) -> dict[str, np.ndarray]:
    """Student indices per source subject code."""
    rng = region.rng("gia", procedure, year, "choice")
    n = len(cohort.z)
    out: dict[str, np.ndarray] = {}
    if procedure == "EGE":
        everyone = np.arange(n)
        out["01"] = everyone
        pref = cohort.z + 0.7 * rng.normal(0, 1, n)
        cut = np.quantile(pref, 1 - EGE_PROFILE_MATH_SHARE) if n else 0.0
        out["02"] = everyone[pref >= cut]
        out["22"] = everyone[pref < cut]
        electives, p_k = EGE_ELECTIVES, EGE_N_ELECTIVES_P
        k = rng.choice(len(p_k), n, p=np.asarray(p_k))
        eligible = everyone
    else:
        sit = np.flatnonzero(~cohort.gve)
        gve = np.flatnonzero(cohort.gve)
        out["01"], out["02"], out["51"], out["52"] = sit, sit, gve, gve
        electives = OGE_ELECTIVES
        k = np.full(len(sit), 2)
        eligible = sit
    if procedure == "OGE" and region.profile.gve_electives and len(gve):
        # some ГВЭ-9 participants also sit one elective as ГВЭ (codes 53–68)
        r_gve = region.rng("gia", procedure, year, "gve electives")
        takers = gve[r_gve.random(len(gve)) < 0.35]
        picks = r_gve.choice(list(electives), len(takers),
                             p=np.array([v[0] for v in electives.values()])
                             / sum(v[0] for v in electives.values()))
        for code in sorted(set(picks.tolist())):
            out[f"{int(code) + 50:02d}"] = np.sort(takers[picks == code])
    codes = list(electives)
    w = np.log(np.array([electives[c][0] for c in codes]))
    tilt = np.array([electives[c][1] for c in codes])
    if len(eligible):
        g = -np.log(-np.log(rng.random((len(eligible), len(codes)))))
        score = w[None, :] + tilt[None, :] * cohort.z[eligible, None] + g
        ranked = np.argsort(-score, axis=1)
        for j, code in enumerate(codes):
            pos = np.argmax(ranked == j, axis=1)
            out[code] = eligible[pos < k]
    return {c: v for c, v in out.items() if len(v)}


# ---------------------------------------------------------------------------------------
# results of one subject
# ---------------------------------------------------------------------------------------
def _subject_results(region: Region, cohort: Cohort, exam: Exam, who: np.ndarray) -> pd.DataFrame:
    """One row per result (first attempts and re-takes) with points per task."""
    year, code = exam.year, exam.code
    rng = region.rng("gia", exam.procedure, year, code)
    targets = _lookup(EGE_TARGETS if exam.procedure == "EGE" else OGE_TARGETS, code)
    calendar = _lookup(EGE_CALENDAR if exam.procedure == "EGE" else OGE_CALENDAR, code)
    n = len(who)
    effect = cohort.schools["school_effect"].to_numpy()[cohort.school_i[who]]
    theta = effect + 0.8 * cohort.z[who] + 0.6 * rng.normal(0, 1, n)
    # task difficulties: short tasks easier than extended ones; deterministic per exam
    rd = region.rng("gia", exam.procedure, code, "difficulty", year)
    diffs = np.where(exam.is_short, rd.normal(-0.6, 0.9, len(exam.maxes)),
                     rd.normal(0.5, 0.8, len(exam.maxes)))
    o, c = _calibrate(exam, theta, diffs, *targets)
    # issue 21 (demo/planted.py): a school whose ВПР in this subject its ОГЭ does not confirm
    # is weaker in it (after the calibration, so nobody else's results move)
    theta = theta + _not_confirmed_shift(cohort.schools, exam)[cohort.school_i[who]]

    def draw(th: np.ndarray) -> np.ndarray:
        p = _sigmoid(o + c * th[:, None] - diffs[None, :])
        return rng.binomial(exam.maxes[None, :], p).astype(np.int16)

    points = draw(theta)
    primary = points.sum(1)
    main_days, reserve, retake = calendar
    day = np.asarray([_fmt_date(year, d) for d in main_days], dtype=object)[
        rng.integers(0, len(main_days), n)]
    on_reserve = rng.random(n) < P_RESERVE
    day[on_reserve] = _fmt_date(year, reserve)
    status = np.full(n, "", dtype=object)
    removed = rng.random(n) < P_REMOVED
    status[removed] = np.where(rng.random(int(removed.sum())) < 0.65, "Удален", "Аннулирован")
    first = pd.DataFrame({"student": who, "date": day, "status": status, "attempt": 1,
                          "primary": primary, "reserve_day": on_reserve})
    frames = [(first, points)]
    if region.profile.gia_resit_after_annulment:
        # an annulled result (a technical failure, not a violation) is sat again on the
        # reserve day; the later sitting is the result of record
        again = (status == "Аннулирован") & ~on_reserve
        if again.any():
            pts_r = draw(theta[again])
            frames.append((pd.DataFrame({
                "student": who[again], "date": _fmt_date(year, reserve), "status": "",
                "attempt": 2, "primary": pts_r.sum(1), "reserve_day": True}), pts_r))
    if retake is not None:
        failed = exam.fail_of_primary[primary] & ~removed
        again = failed & (rng.random(n) < P_RETAKE)
        if again.any():
            th2 = theta[again] + RETAKE_GAIN + 0.3 * rng.normal(0, 1, int(again.sum()))
            pts2 = draw(th2)
            second = pd.DataFrame({"student": who[again], "date": _fmt_date(year, retake),
                                   "status": "", "attempt": 2, "primary": pts2.sum(1),
                                   "reserve_day": False})
            frames.append((second, pts2))
    df = pd.concat([f for f, _ in frames], ignore_index=True)
    pts = np.concatenate([p for _, p in frames])
    df["result"] = exam.result_of_primary[df["primary"].to_numpy()]
    df.attrs["points"] = pts
    return df


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------
def _short_strings(points: np.ndarray, maxes: np.ndarray) -> np.ndarray:
    if points.shape[1] == 0:
        return np.full(points.shape[0], "", dtype=object)
    digits = (points + ord("0")).astype(np.uint8)
    chars = np.where(points == 0, ord("-"),
                     np.where(points == maxes[None, :], ord("+"), digits)).astype(np.uint8)
    chars = np.ascontiguousarray(chars)
    return chars.view(f"S{chars.shape[1]}").ravel().astype(str).astype(object)


def _extended_strings(points: np.ndarray, maxes: np.ndarray) -> np.ndarray:
    out = np.full(points.shape[0], "", dtype=object)
    for k, m in enumerate(maxes):
        table = np.asarray([f"{p}({m})" for p in range(int(m) + 1)], dtype=object)
        out = out + table[points[:, k]]
    return out


def _join(columns: list[np.ndarray]) -> np.ndarray:
    line = columns[0].astype(object)
    for col in columns[1:]:
        line = line + ";" + col
    return line


def _files_for_subject(region: Region, cohort: Cohort, exam: Exam, res: pd.DataFrame,
                       out_dir: Path, source: str, with_status: bool) -> list[FileRecord]:
    rng = region.rng("gia", exam.procedure, exam.year, exam.code, "files")
    points = res.attrs["points"]
    st = res["student"].to_numpy()
    sch = cohort.schools
    si = cohort.school_i[st]
    status = res["status"].to_numpy().astype(object)
    attempt = res["attempt"].to_numpy()
    reserve_day = res["reserve_day"].to_numpy()
    dates = res["date"].to_numpy().astype(str)
    removed = status != ""
    short = _short_strings(points[:, exam.is_short], exam.maxes[exam.is_short])
    ext = _extended_strings(points[:, ~exam.is_short], exam.maxes[~exam.is_short])
    primary = res["primary"].to_numpy()
    result = res["result"].to_numpy()
    foreign = bool(exam.is_oral.any())

    def num(a: np.ndarray) -> np.ndarray:
        out = a.astype(str).astype(object)
        out[removed] = ""
        return out

    if not region.profile.gia_answers_on_removed:
        short[removed] = ""
        ext[removed] = ""
    ppe = np.where(reserve_day | (attempt == 2), sch["reserve_ppe"].to_numpy()[si],
                   sch["ppe_code"].to_numpy()[si]).astype(object)
    header = ["№", "Код МСУ", "Код ОО", "Класс", "Код ППЭ", "Аудитория", "Фамилия", "Имя",
              "Отчество", "Серия документа", "Номер документа", "Задания с кратким ответом",
              "Задания с развёрнутым ответом"]
    tail_cols = [short, ext]
    if foreign:
        header += ["Первичный балл письменной части", "Первичный балл устной части"]
        tail_cols += [num(points[:, ~exam.is_oral].sum(1)), num(points[:, exam.is_oral].sum(1))]
    result_col = "Балл" if exam.result_kind == "test_score" else "Оценка"
    header += ["Первичный балл", result_col]
    tail_cols += [num(primary), num(result)]
    if with_status:
        header.append("Статус")
        tail_cols.append(status)
    # the fixed part of each line after "№;...;Аудитория;"
    series = cohort.series[st]
    share = region.profile.gia_spaced_series_share
    if share:
        spaced = region.rng("gia", exam.procedure, exam.year, exam.code, "series").random(len(st))
        series = np.where((spaced < share) | (attempt == 2),
                          pd.Series(series).str[:2].to_numpy() + " " + pd.Series(series).str[2:].to_numpy(),
                          series).astype(object)
    person = _join([cohort.surname[st], cohort.name[st], cohort.patronymic[st],
                    series, cohort.number[st], *tail_cols])
    lead = _join([sch["msu_code"].to_numpy()[si].astype(object),
                  sch["gia_code"].to_numpy()[si].astype(object), cohort.klass[st], ppe])
    width = len(header)
    i_primary, i_result = header.index("Первичный балл"), header.index(result_col)

    def footer(first: str, values: dict[int, str]) -> str:
        cells = [""] * width
        cells[0] = first
        for i, v in values.items():
            cells[i] = v
        return ";".join(cells)

    records = []
    for date in sorted(set(dates.tolist())):
        sel = np.flatnonzero(dates == date)
        sel = sel[np.argsort(cohort.order[st[sel]], kind="stable")]
        n = len(sel)
        room = pd.Series(ppe[sel]).groupby(ppe[sel]).cumcount().to_numpy() // 15 + 1
        lines = _join([np.arange(1, n + 1).astype(str).astype(object), lead[sel],
                       np.char.zfill(room.astype(str), 4).astype(object), person[sel]])
        scored = sel[~removed[sel]]
        footers, kinds = [], []
        if len(scored):
            footers.append(footer("Средние", {i_primary: _fmt_mean(primary[scored].mean()),
                                             i_result: _fmt_mean(result[scored].mean())}))
            kinds.append("mean")
        if exam.result_kind == "test_score":
            footers.append(footer("Минимальная граница", {i_result: str(exam.min_test_score)}))
        else:
            footers.append(footer("Минимальная граница",
                                  {i_primary: str(exam.min_primary_pass), i_result: "3"}))
        kinds.append("min")
        footers.append(footer("Всего участников", {1: str(n)}))
        kinds.append("total")
        u = rng.random()
        quirks = []
        if u < 0.12:
            footers, kinds = [], []
            quirks.append("no_footer")
        elif u < 0.3:
            keep = sorted(rng.choice(len(footers), rng.integers(1, len(footers)), replace=False))
            footers = [footers[i] for i in keep]
            kinds = [kinds[i] for i in keep]
            quirks.append("partial_footer")
        n_removed = int((status[sel] == "Удален").sum())
        n_annulled = int((status[sel] == "Аннулирован").sum())
        n_retake = int((attempt[sel] == 2).sum())
        if not with_status:
            quirks.append("no_status_column")
        if n_removed:
            quirks.append("removed")
        if n_annulled:
            quirks.append("annulled")
        if n_retake:
            quirks.append("retake")
        if reserve_day[sel].any():
            quirks.append("reserve_day")
        if foreign:
            quirks.append("written_oral_parts")
        title = f"{exam.code} - {exam.name} {date}"
        rel = Path(source) / str(exam.year) / f"{exam.code}_{date.replace('.', '')}.csv"
        text = "\r\n".join([title, ";".join(header), *lines.tolist(), *footers]) + "\r\n"
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(ENCODING))
        records.append(FileRecord(
            source, exam.year, rel, n,
            {"procedure": exam.exam_kind, "subject_code": exam.code,
             "subject": exam.subject_code, "exam_date": date.replace(".", "-"),
             "footers": kinds, "n_retake_rows": n_retake, "n_removed": n_removed,
             "n_annulled": n_annulled},
            tuple(quirks)))
    return records


def generate_gia(region: Region, out_dir: Path, procedure: str,
                 years: list[int] | None = None) -> list[FileRecord]:
    """Write all ЕГЭ (procedure 'EGE') or ОГЭ+ГВЭ-9 ('OGE') files of the region."""
    procedure = procedure.upper()
    source = {"EGE": "ege", "OGE": "oge"}[procedure]
    out_dir = Path(out_dir)
    records: list[FileRecord] = []
    for year in (years or region.years):
        cohort = _cohort(region, year, procedure)
        if len(cohort.z) == 0:
            continue
        choice = _choices(cohort, region, year, procedure)
        # the optional Статус column: always from 2024; in 2023 only where someone was removed
        for code in sorted(choice):
            exam = _exam(procedure, year, code)
            res = _subject_results(region, cohort, exam, choice[code])
            with_status = year >= 2024 or bool((res["status"] != "").any())
            records.extend(_files_for_subject(region, cohort, exam, res, out_dir, source,
                                              with_status))
    return records


def generate_ege(region: Region, out_dir: Path) -> list[FileRecord]:
    return generate_gia(region, out_dir, "EGE")


def generate_oge(region: Region, out_dir: Path) -> list[FileRecord]:
    return generate_gia(region, out_dir, "OGE")
