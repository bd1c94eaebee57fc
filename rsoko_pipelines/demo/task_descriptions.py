"""Plausible task descriptions for the demo region: what each ВПР/РПР/ГИА task of the task
spec seeds (and each НИКО task of the demo's forms, demo/niko.py) tests, as ФИОКО's «обобщённый план варианта» (ВПР) and ФИПИ's specification
(ЕГЭ/ОГЭ) give it: a content element and a skill. Real ones are not public in a
machine-readable form; a region replaces this seed with the plans of its years.

Written once into `dbt_project/seeds/reference/ref_task_descriptions.csv` (committed):

    .venv/bin/python -m rsoko_pipelines.demo.task_descriptions

Deterministic: the content element cycles through the subject's content sections in task
order, the skill follows the task's level (ВПР/РПР) or answer part (ГИА)."""

from __future__ import annotations

import csv
from pathlib import Path

from rsoko_pipelines import reference as ref

OUT = ref.REFERENCE_DIR / "ref_task_descriptions.csv"
COLUMNS = ["procedure", "academic_year", "subject_code", "grade", "task", "content_element",
           "skill"]

CONTENT = {
    "rus": ["Орфография: правописание корней и приставок", "Пунктуация: знаки препинания в "
            "сложном предложении", "Морфология: части речи", "Синтаксис: грамматическая основа",
            "Орфоэпия: постановка ударения", "Лексика: значение слова в контексте",
            "Текст: основная мысль и тема", "Речевые нормы: грамматическая правильность"],
    "math": ["Натуральные числа и действия с ними", "Дроби и проценты", "Уравнения и их "
             "системы", "Функции и графики", "Геометрия: площади и периметры фигур",
             "Текстовые задачи на движение и работу", "Статистика и вероятность",
             "Логические задачи"],
    "math_prof": ["Планиметрия", "Векторы и координаты", "Стереометрия", "Теория вероятностей",
                  "Уравнения", "Производная и её применение", "Текстовые задачи",
                  "Неравенства", "Задачи с параметром", "Числа и их свойства"],
    "math_base": ["Вычисления и преобразования", "Практические расчёты", "Графики и диаграммы",
                  "Планиметрия", "Стереометрия", "Теория вероятностей"],
    "phys": ["Механика: кинематика", "Механика: законы Ньютона", "Законы сохранения",
             "Молекулярная физика", "Электродинамика", "Оптика", "Квантовая физика"],
    "chem": ["Строение атома", "Химическая связь", "Классы неорганических веществ",
             "Химические реакции", "Органическая химия", "Расчёты по уравнениям реакций"],
    "inf": ["Системы счисления", "Логика", "Алгоритмы и исполнители", "Программирование",
            "Электронные таблицы", "Информационные модели"],
    "bio": ["Клетка", "Организм", "Многообразие живых организмов", "Человек и его здоровье",
            "Эволюция", "Экосистемы"],
    "hist": ["Древняя Русь", "Россия в XVI–XVII вв.", "Российская империя", "Россия в XX в.",
             "Всеобщая история", "Работа с историческим источником", "Историческая карта"],
    "geo": ["Географическая карта", "Природа Земли", "Население мира", "Хозяйство России",
            "Природные зоны", "Климат"],
    "eng": ["Аудирование", "Чтение", "Грамматика", "Лексика", "Письменная речь", "Устная речь"],
    "deu": ["Аудирование", "Чтение", "Грамматика и лексика", "Письменная речь"],
    "fra": ["Аудирование", "Чтение", "Грамматика и лексика", "Письменная речь"],
    "spa": ["Аудирование", "Чтение", "Грамматика и лексика", "Письменная речь"],
    "soc": ["Человек и общество", "Экономика", "Социальные отношения", "Политика", "Право",
            "Духовная культура"],
    "lit": ["Древнерусская литература", "Литература XIX века", "Литература XX века",
            "Теория литературы", "Анализ поэтического текста"],
    "pe": ["Знания о физической культуре", "Способы двигательной деятельности",
           "Физическое совершенствование", "Здоровый образ жизни"],
    "obzr": ["Безопасность в быту", "Безопасность на транспорте", "Первая помощь",
             "Безопасность в природной среде", "Основы обороны государства"],
    "env": ["Человек и природа", "Тела и вещества", "Природные зоны России", "Человек и общество",
            "Правила безопасного поведения", "Работа с картой"],
}
SKILL_BY_LEVEL = {
    "Б": "Знать и применять в знакомой ситуации (базовый уровень)",
    "П": "Применять знания в изменённой ситуации, решать задачу в несколько шагов "
         "(повышенный уровень)",
    "В": "Анализировать, обосновывать, строить развёрнутое решение (высокий уровень)",
}
SKILL_BY_PART = {
    "short": "Выполнять задание с кратким ответом: узнавать, вычислять, соотносить",
    "extended": "Давать развёрнутый ответ: объяснять, доказывать, решать задачу полностью",
}


def rows() -> list[dict]:
    out = []
    vpr = ref.load("ref_vpr_task_spec")
    for r in vpr.sort_values(["procedure", "academic_year", "subject_code", "grade",
                              "task_order"]).itertuples(index=False):
        topics = CONTENT[r.subject_code]
        out.append({"procedure": r.procedure, "academic_year": r.academic_year,
                    "subject_code": r.subject_code, "grade": r.grade, "task": r.task,
                    "content_element": topics[(r.task_order - 1) % len(topics)],
                    "skill": SKILL_BY_LEVEL[r.task_level]})
    subjects = ref.load("ref_gia_subjects").set_index(["procedure", "source_subject_code"])
    gia = ref.load("ref_gia_task_spec")
    for r in gia.sort_values(["procedure", "academic_year", "source_subject_code",
                              "task_no"]).itertuples(index=False):
        subject = subjects.loc[(r.procedure, r.source_subject_code)]
        topics = CONTENT[subject["subject_code"]]
        out.append({"procedure": subject["exam_kind"], "academic_year": r.academic_year,
                    "subject_code": subject["subject_code"],
                    "grade": 11 if subject["exam_kind"] == "EGE" else 9, "task": str(r.task_no),
                    "content_element": topics[(r.task_no - 1) % len(topics)],
                    "skill": SKILL_BY_PART[r.answer_part]})
    # НИКО: the demo's forms (demo/niko.py: subject as titled, grade, tasks with their level)
    # for every year of the task specs (a year outside its table reuses the nearest year's)
    from rsoko_pipelines.demo import niko

    codes = dict(ref.load("ref_niko_subjects")[["niko_subject", "subject_code"]]
                 .itertuples(index=False))
    for year in sorted(int(y) for y in vpr["academic_year"].unique()):
        for title, grade, tasks, _ in niko.forms_of(year):
            code = codes[title]
            topics = CONTENT[code]
            for order, (task, _max, level) in enumerate(tasks, start=1):
                out.append({"procedure": "NIKO", "academic_year": year, "subject_code": code,
                            "grade": grade, "task": task,
                            "content_element": topics[(order - 1) % len(topics)],
                            "skill": SKILL_BY_LEVEL[level]})
    return out


def write_seed(path: Path = OUT) -> int:
    data = rows()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    return len(data)


if __name__ == "__main__":
    print(f"{write_seed():,} task descriptions → {OUT}")
