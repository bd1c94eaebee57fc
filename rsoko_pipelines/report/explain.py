"""Plain-language sentences for the marts' flags, for readers who do not know the column
names: the ВПР objectivity markers, the context quartile, the results group. A marker this
module does not know yet is explained by its column description from the database."""

from __future__ import annotations

from rsoko_pipelines.report.html import num


def _f(value, digits: int = 1) -> str:
    return num(value, digits) or "—"


MARKERS = {
    "marker_raised": lambda r: (
        f"Отметки за ВПР чаще, чем обычно в регионе, выше отметок по журналу: "
        f"{_f(r.get('pct_raised'))} % работ при пороге {_f(r.get('region_p90_pct_raised'))} % "
        "(90-й процентиль школ региона)."),
    "marker_boundary": lambda r: (
        f"Пик на границе отметки «3»: учеников с первичным баллом {_f(r.get('boundary_score'), 0)}"
        f" (минимум для «3») в {_f(r.get('boundary_peak_ratio'))} раза больше, чем с баллом на "
        "1–2 ниже (признак «дотягивания» до тройки; порог — 3 раза)."),
    "marker_high_vs_region": lambda r: (
        f"Средний первичный балл выше среднего по школам региона на {_f(r.get('z_vs_region'))} "
        "стандартного отклонения, хотя школа не лицей, не гимназия и не СОШ с УИОП."),
    "marker_task_inversion": lambda r: (
        "Задания повышенного и высокого уровня выполнены не хуже базовых (разница "
        f"{_f(r.get('bpv_minus_basic'))} п. п.): при самостоятельном выполнении так почти не "
        "бывает (признак Рособрнадзора: ответы могли быть известны)."),
    "marker_not_confirmed": lambda r: (
        f"Высокие результаты ВПР (z = {_f(r.get('z_vs_region'))}) не подтверждаются ОГЭ по тому "
        f"же предмету (z = {_f(r.get('oge_z_same_subject'))})."),
}


def markers_in_words(row: dict, descriptions: dict) -> list[str]:
    """One sentence per marker that is set on this vpr_objectivity row."""
    out = []
    for column, value in row.items():
        if not column.startswith("marker_") or not value:
            continue
        explain = MARKERS.get(column)
        if explain is not None:
            out.append(explain(row))
        else:
            text = descriptions.get(("vpr_objectivity", column)) or column
            out.append(text.split(" / ")[0] + ".")
    return out


QUARTILES = {1: "наименее благоприятный (1-я четверть школ региона)",
             2: "ниже среднего (2-я четверть)",
             3: "выше среднего (3-я четверть)", 4: "наиболее благоприятный (4-я четверть)"}


def context_in_words(school: dict, low: dict | None) -> str:
    parts = []
    quartile = school.get("context_quartile")
    if quartile is not None:
        parts.append(f"Социальный контекст (ИСБШ {_f(school.get('social_index'), 2)}): "
                     f"{QUARTILES.get(int(quartile), str(quartile))}.")
    if school.get("context_cluster"):
        parts.append(f"Тип: {school['context_cluster']} учащихся.")
    if low:
        group = low.get("results_group")
        if group:
            parts.append(f"Группа по результатам: «{group}».")
        if low.get("is_low_results"):
            reason = ("повторно ниже порога по той же процедуре" if low.get("repeat_failing")
                      else f"{low.get('n_procedures_failing')} процедур(ы) с долей "
                           "неудовлетворительных результатов ≥ 30 %")
            parts.append(f"Школа с низкими результатами (ШНОР): {reason}.")
        if low.get("was_low_results_last_year") and not low.get("is_low_results"):
            parts.append("В прошлом году была в списке ШНОР, в этом — вышла из него.")
    return " ".join(parts) or "Контекстные данные не загружены."
