"""The three kinds of report page: the region (its scorecard against the targets), a
municipality and a school (results against the region with trends, deficit tasks named,
objectivity markers in words, context, recommendations when that mart is published)."""

from __future__ import annotations

from collections import defaultdict
from html import escape

from rsoko_pipelines.report import charts
from rsoko_pipelines.report.data import ReportData
from rsoko_pipelines.report.explain import context_in_words, markers_in_words
from rsoko_pipelines.report.html import SUPPRESSED_NOTE, figure, num, page, section, table

# Result indicators drawn as trends on municipality and school pages (they exist at every level).
TREND_INDICATORS = ("EGE_FAIL_PCT", "OGE_FAIL_PCT", "VPR_BASIC_PCT", "EGE_80PLUS_PCT",
                    "OGE_GOOD_PCT", "LIT_BELOW2_PCT")
DEFICITS_CHARTED = 15


def year_label(year: int) -> str:
    return f"{year - 1}/{str(year)[-2:]}"


class Index:
    """indicators by (code, level, municipality, school) -> {year: row}."""

    def __init__(self, rows: list[dict]):
        self.rows = defaultdict(dict)
        self.names = {}
        for r in rows:
            key = (r["indicator_code"], r["level"], r["municipality_code"], r["school_code"])
            self.rows[key][r["academic_year"]] = r
            self.names[r["indicator_code"]] = r
        self.codes = list(self.names)

    def get(self, code, level, msu=None, school=None) -> dict:
        return self.rows.get((code, level, msu, school), {})


def _footer(data: ReportData) -> str:
    return (f"Источник: опубликованные витрины rsoko, версия {data.version} "
            f"(опубликована {data.published_at} UTC). Учебный год отчёта: "
            f"{year_label(data.latest_year)}. {SUPPRESSED_NOTE}")


def _meets(row: dict | None) -> str:
    if not row or row.get("meets_target") is None:
        return ""
    return "<span class='ok'>✓ достигнута</span>" if row["meets_target"] else \
        "<span class='bad'>✗ не достигнута</span>"


def _missing(row: dict | None) -> str:
    return (row or {}).get("missing_reason") or ""


# ------------------------------------------------------------------------------ region

def region_page(data: ReportData, idx: Index) -> str:
    y, prev = data.latest_year, (data.years[-2] if len(data.years) > 1 else None)
    rows = []
    for code in idx.codes:
        series = idx.get(code, "region")
        now, before = series.get(y), series.get(prev) if prev else None
        meta = idx.names[code]
        rows.append({"direction": meta["direction"], "name": meta["indicator_name"],
                     "code": code, "unit": meta["unit"], "value": (now or {}).get("value"),
                     "previous": (before or {}).get("value"), "target": meta["target"],
                     "meets": _meets(now), "why": _missing(now),
                     "is_suppressed": (now or {}).get("is_suppressed")})
    scorecard = table([("direction", "Направление", "int"), ("name", "Показатель", "text"),
                       ("code", "Код", "text"), ("unit", "Ед.", "text"),
                       ("previous", year_label(prev) if prev else "—", "num"),
                       ("value", year_label(y), "num"), ("target", "Цель", "num"),
                       ("meets", "Цель достигнута?", "html"), ("why", "Почему нет значения",
                                                                 "text")], rows)
    pct = [r for r in rows if r["unit"] == "%" and r["value"] is not None]
    chart = charts.bar_chart(f"Показатели в %, {year_label(y)}: значение и цель",
                             [r["code"] for r in pct], [r["value"] for r in pct],
                             targets=[r["target"] for r in pct])
    targeted = [c for c in idx.codes if idx.names[c]["target"] is not None]
    trends = figure(charts.trend_grid([(
        idx.names[c]["indicator_name"],
        {"регион": [idx.get(c, "region").get(yr, {}).get("value") for yr in data.years]},
        idx.names[c]["unit"], idx.names[c]["target"]) for c in targeted], data.years)) \
        if targeted else ""
    msu_rows = []
    for m in data.municipalities:
        row = {"name": f"<a href='msu/{escape(m['code'])}.html'>{escape(m['name'] or m['code'])}"
                       f"</a>", "xlsx": f"<a href='xlsx/msu_{escape(m['code'])}.xlsx'>XLSX</a>"}
        for c in TREND_INDICATORS[:3] + ("LOW_RESULTS_SCHOOLS_PCT", "VPR_FLAGGED_SCHOOLS_PCT"):
            row[c] = idx.get(c, "municipality", m["code"]).get(y, {}).get("value")
        msu_rows.append(row)
    msu_table = table([("name", "Муниципалитет", "html"), ("xlsx", "Таблицы", "html")]
                      + [(c, idx.names[c]["indicator_name"] if c in idx.names else c, "num")
                         for c in TREND_INDICATORS[:3] + ("LOW_RESULTS_SCHOOLS_PCT",
                                                          "VPR_FLAGGED_SCHOOLS_PCT")], msu_rows)
    body = (section("Показатели региона против целей", scorecard
                    + f"<div class='charts'>{figure(chart)}</div>", "scorecard")
            + section("Динамика показателей с целевыми значениями",
                      f"<div class='charts'>{trends}</div>", "trends")
            + section("Муниципалитеты", msu_table, "municipalities"))
    return page("Регион: мониторинг качества образования", [("Регион", None)], body,
                _footer(data))


# --------------------------------------------------------------- municipality and school

def _results_vs_region(data: ReportData, idx: Index, level: str, msu: str,
                       school: str | None) -> str:
    y = data.latest_year
    rows, panels = [], []
    for code in idx.codes:
        own = idx.get(code, level, msu, school)
        if not own:
            continue
        meta = idx.names[code]
        region = idx.get(code, "region")
        municipal = idx.get(code, "municipality", msu) if level == "school" else {}
        now = own.get(y) or {}
        rows.append({"name": meta["indicator_name"], "unit": meta["unit"],
                     "value": now.get("value"), "msu": municipal.get(y, {}).get("value"),
                     "region": region.get(y, {}).get("value"), "target": meta["target"],
                     "meets": _meets(now), "is_suppressed": now.get("is_suppressed")})
        if code in TREND_INDICATORS:
            series = {("школа" if level == "school" else "муниципалитет"):
                      [own.get(yr, {}).get("value") for yr in data.years]}
            if level == "school":
                series["муниципалитет"] = [municipal.get(yr, {}).get("value") for yr in data.years]
            series["регион"] = [region.get(yr, {}).get("value") for yr in data.years]
            panels.append((meta["indicator_name"], series, meta["unit"], meta["target"]))
    cols = [("name", "Показатель", "text"), ("unit", "Ед.", "text"),
            ("value", "Значение", "num")]
    if level == "school":
        cols.append(("msu", "Муниципалитет", "num"))
    cols += [("region", "Регион", "num"), ("target", "Цель", "num"),
             ("meets", "Цель", "html")]
    return (f"<h3>{year_label(y)}</h3>" + table(cols, rows)
            + "<h3>Динамика по годам</h3>"
            + (f"<div class='charts'>{figure(charts.trend_grid(panels, data.years))}</div>"
               if panels else "<p class='note'>Нет данных.</p>"))


def _results_table(data: ReportData, level: str, msu: str, school: str | None) -> str:
    region = {(r["procedure"], r["subject_code"], r["grade"]): r for r in data.results
              if r["level"] == "region"}
    rows = []
    for r in data.results:
        if r["level"] != level or r["municipality_code"] != msu or r["school_code"] != school:
            continue
        reg = region.get((r["procedure"], r["subject_code"], r["grade"]), {})
        mean = r["mean_test_score"] if r["mean_test_score"] is not None else r["mean_mark"]
        reg_mean = reg.get("mean_test_score") if reg.get("mean_test_score") is not None \
            else reg.get("mean_mark")
        rows.append({**r, "mean": mean, "region_mean": reg_mean,
                     "region_failed": reg.get("pct_failed")})
    return table([("procedure_name", "Процедура", "text"), ("subject_name", "Предмет", "text"),
                  ("grade", "Класс", "int"), ("participants", "Участников", "int"),
                  ("mean", "Средний балл / отметка", "num"),
                  ("region_mean", "Регион", "num"), ("pct_failed", "% неуд.", "pct"),
                  ("region_failed", "% неуд., регион", "pct"), ("pct_good", "% «4–5» / ≥70", "pct"),
                  ("pct_high", "% «5» / ≥80", "pct")], rows, css="results")


def _deficits(data: ReportData, level: str, msu: str, school: str | None) -> str:
    rows = [d for d in data.deficits if d["level"] == level and d["municipality_code"] == msu
            and d["school_code"] == school]
    if not rows:
        return "<p class='note'>Дефицитных заданий нет (или данных о заданиях нет).</p>"
    for d in rows:
        d["work"] = (f"{d['procedure_name'] or d['procedure']}, {d['subject_name']}, "
                     f"{d['grade']} кл.")
        d["label"] = f"№ {d['task']}" + (f" ({d['task_level']})" if d["task_level"] else "")
    chartable = sorted(rows, key=lambda d: (d["pct_mastered"] or 0))[:DEFICITS_CHARTED]
    chart = charts.bar_chart(
        f"Самые низкие проценты выполнения дефицитных заданий, {year_label(data.latest_year)}",
        [f"{d['subject_name']} {d['grade']} кл., № {d['task']}" for d in chartable],
        [d["pct_mastered"] for d in chartable], reference=[d["region_pct"] for d in chartable])
    return (f"<div class='charts'>{figure(chart)}</div>" + table(
        [("work", "Работа", "text"), ("label", "Задание", "text"),
         ("task_description", "Что проверяет задание", "text"),
         ("participants", "Участников", "int"), ("pct_mastered", "% выполнения", "pct"),
         ("region_pct", "% выполнения, регион", "pct")], rows, css="deficits")
        + "<p class='note'>Дефицит: задание базового уровня выполнено менее чем на 57 %, "
          "повышенного или высокого — менее чем на 28,5 % (правило ФИОКО).</p>")


def _objectivity_school(data: ReportData, school: str) -> str:
    history = [r for r in data.objectivity_schools if r["school_code"] == school]
    latest = history[-1] if history else None
    works = [r for r in data.objectivity if r["school_code"] == school]
    out = []
    if latest and latest["academic_year"] == data.latest_year and latest["is_flagged"]:
        years = latest["consecutive_flagged_years"]
        out.append(f"<div class='flag'>Результаты ВПР {year_label(data.latest_year)} отмечены "
                   f"как возможно необъективные: {latest['works_flagged']} из "
                   f"{latest['works_total']} работ; подряд лет с отметкой — {years}.</div>")
    flagged = [w for w in works if w.get("n_markers")]
    for w in flagged:
        sentences = markers_in_words(w, data.descriptions)
        out.append(f"<h3>{escape(w['subject_name'] or '')}, {w['grade']} класс — признаков: "
                   f"{w['n_markers']}{' (работа отмечена)' if w['is_flagged'] else ''}</h3>"
                   "<ul>" + "".join(f"<li>{escape(s)}</li>" for s in sentences) + "</ul>")
    if not flagged:
        out.append("<p>Признаков необъективности результатов ВПР в этом году нет (признаки "
                   "считаются для работ с 10 и более участниками).</p>")
    out.append(table([("subject_name", "Предмет", "text"), ("grade", "Класс", "int"),
                      ("participants", "Участников", "int"), ("pct_lowered", "% понизили", "pct"),
                      ("pct_confirmed", "% подтвердили", "pct"),
                      ("pct_raised", "% повысили", "pct"), ("n_markers", "Признаков", "int"),
                      ("is_flagged", "Отмечена", "bool")], works, css="objectivity"))
    return "".join(out)


def _objectivity_municipality(data: ReportData, msu: str, names: dict) -> str:
    rows = [dict(r, school=names.get(r["school_code"], r["school_code"]))
            for r in data.objectivity_schools
            if r["municipality_code"] == msu and r["academic_year"] == data.latest_year
            and r["is_flagged"]]
    if not rows:
        return "<p>Школ с признаками необъективности ВПР в этом году нет.</p>"
    for r in rows:
        words = []
        for w in data.objectivity:
            if w["school_code"] == r["school_code"] and w["is_flagged"]:
                words += [f"{w['subject_name']} {w['grade']} кл.: {s}"
                          for s in markers_in_words(w, data.descriptions)]
        r["why"] = "<br>".join(escape(s) for s in words)
        r["school"] = (f"<a href='../school/{escape(r['school_code'])}.html'>"
                       f"{escape(r['school'])}</a>")
    return table([("school", "Школа", "html"), ("works_flagged", "Работ отмечено", "int"),
                  ("works_total", "Работ всего", "int"),
                  ("consecutive_flagged_years", "Лет подряд", "int"),
                  ("why", "Признаки", "html")], rows)


def _recommendations(data: ReportData, level: str, msu: str, school: str | None) -> str:
    if data.recommendations is None:
        return ""
    rows = [r for r in data.recommendations if r.get("level") == level
            and r.get("municipality_code") == msu and r.get("school_code") == school]
    text_col = next((c for c in ("recommendation_ru", "recommendation", "recommendation_text")
                     if rows and c in rows[0]), None)
    columns = [(c, h, "text") for c, h in (
        (text_col, "Рекомендация"), ("evidence", "Основание"),
        ("suggested_measure_kind", "Мера"), ("responsible_level", "Ответственный"))
        if c and rows and c in rows[0]]
    return section("Адресные рекомендации", table(columns or [("rule_code", "Правило", "text")],
                                                  rows), "recommendations")


def municipality_page(data: ReportData, idx: Index, m: dict) -> str:
    code = m["code"]
    schools = [s for s in data.schools if s["municipality_code"] == code]
    names = {s["school_code"]: s["display_name"] for s in schools}
    low = {r["school_code"]: r for r in data.low_results if r["municipality_code"] == code}
    school_rows = [{**s, "link": f"<a href='../school/{escape(s['school_code'])}.html'>"
                                 f"{escape(s['display_name'])}</a>",
                    "results_group": low.get(s["school_code"], {}).get("results_group"),
                    "is_low_results": low.get(s["school_code"], {}).get("is_low_results")}
                   for s in schools]
    context = table([("link", "Школа", "html"), ("school_kind", "Вид", "text"),
                     ("settlement", "Населённый пункт", "text"),
                     ("n_students", "Учащихся", "int"), ("social_index", "ИСБШ", "num"),
                     ("context_quartile", "Четверть контекста", "int"),
                     ("results_group", "Группа по результатам", "text"),
                     ("is_low_results", "ШНОР", "bool")], school_rows)
    body = (f"<p><a href='../xlsx/msu_{escape(code)}.xlsx'>Все таблицы муниципалитета (XLSX)</a> · "
            f"школ: {len(schools)}</p>"
            + section("Результаты против региона", _results_vs_region(
                data, idx, "municipality", code, None), "results")
            + section("Результаты по предметам", _results_table(data, "municipality", code, None))
            + section("Дефицитные задания", _deficits(data, "municipality", code, None),
                      "deficits")
            + section("Объективность ВПР", _objectivity_municipality(data, code, names),
                      "objectivity")
            + section("Школы и их контекст", context, "schools")
            + _recommendations(data, "municipality", code, None))
    return page(m["name"] or code, [("Регион", "../index.html"), (m["name"] or code, None)],
                body, _footer(data))


def school_page(data: ReportData, idx: Index, s: dict, low: dict | None) -> str:
    code, msu = s["school_code"], s["municipality_code"]
    cards = "".join(f"<div class='card'>{escape(k)}<b>{escape(v)}</b></div>" for k, v in (
        ("Вид", s.get("school_kind") or "—"), ("Населённый пункт", s.get("settlement") or "—"),
        ("Учащихся", num(s.get("n_students"))), ("Педагогов", num(s.get("n_teachers")))))
    body = (f"<p>Код ОО {escape(code)} · {escape(s.get('school_name') or '')}</p>{cards}"
            + section("Контекст", f"<p>{escape(context_in_words(s, low))}</p>", "context")
            + section("Результаты против региона", _results_vs_region(
                data, idx, "school", msu, code), "results")
            + section("Результаты по предметам", _results_table(data, "school", msu, code))
            + section("Дефицитные задания", _deficits(data, "school", msu, code), "deficits")
            + section("Объективность ВПР", _objectivity_school(data, code), "objectivity")
            + _recommendations(data, "school", msu, code))
    msu_name = s.get("municipality_name") or msu
    return page(s["display_name"], [("Регион", "../index.html"),
                                    (msu_name, f"../msu/{msu}.html"), (s["display_name"], None)],
                body, _footer(data))
