"""Round trip of the registry and ГИА sheets through an INDEPENDENT reader (the csv module
with explicit encodings, and the seed CSVs read directly), on a small region and on tier S."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from rsoko_pipelines.settings import SEEDS_DIR

SEED = 20250607
FOOTERS = {"Средние", "Минимальная граница", "Всего участников"}
TITLE = re.compile(r"^(\d{2}) - (.+) (\d{4})\.(\d{2})\.(\d{2})$")
REGISTRY_HEADER = [
    "Код ОО", "Наименование ОО", "Код МСУ", "Муниципалитет", "Код ОО РИС ГИА", "Логин ФИС ОКО",
    "Вид ОО", "Тип местности", "Численность обучающихся", "Численность обучающихся 4-11 классов",
    "Численность педагогов", "Доля обучающихся с ОВЗ, %",
    "Доля обучающихся с неродным русским языком, %",
    "Доля обучающихся из малообеспеченных семей, %", "Доля обучающихся из неполных семей, %",
    "Доля родителей с высшим образованием, %", "Доля вакантных ставок педагогов, %", "Статус",
    "Код ОО правопреемника",
]


# --- the independent reader --------------------------------------------------------------
def read_seed(name: str) -> list[dict]:
    with open(SEEDS_DIR / "reference" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def read_gia(path: Path) -> dict:
    raw = path.read_bytes()
    text = raw.decode("cp1251")
    lines = text.split("\r\n")
    assert lines[-1] == "", "file ends with CRLF"
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    m = TITLE.match(rows[0][0] if len(rows[0]) == 1 else ";".join(rows[0]))
    assert m, f"title line of {path.name}: {rows[0]!r}"
    header = rows[1]
    data, footers = [], []
    for r in rows[2:]:
        assert len(r) == len(header), f"{path.name}: ragged row {r!r}"
        (footers if r[0] in FOOTERS else data).append(dict(zip(header, r)))
        if r[0] in FOOTERS:
            continue
        assert not footers, "footer rows come last"
    return {"code": m.group(1), "name": m.group(2),
            "date": f"{m.group(3)}-{m.group(4)}-{m.group(5)}", "header": header, "rows": data,
            "footers": footers, "raw": raw}


def task_points(short: str, extended: str, short_max: list[int]) -> list[int]:
    pts = []
    assert len(short) == len(short_max)
    for ch, mx in zip(short, short_max):
        pts.append(mx if ch == "+" else 0 if ch == "-" else int(ch))
    pts += [int(p) for p, _ in re.findall(r"(\d+)\((\d+)\)", extended)]
    return pts


# --- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from rsoko_pipelines.demo.generate import generate

    out = tmp_path_factory.mktemp("demo_small")
    generate(tier="S", seed=SEED, out=out, sources="schools,ege,oge", workers=1,
             n_schools=80, quiet=True)
    return out


@pytest.fixture(scope="module")
def tier_s_gia(tmp_path_factory):
    from rsoko_pipelines.demo.generate import generate

    out = tmp_path_factory.mktemp("demo_s")
    generate(tier="S", seed=SEED, out=out, sources="schools,ege,oge", workers=2, quiet=True)
    return out


def _spec():
    spec = defaultdict(list)
    for r in read_seed("ref_gia_task_spec"):
        spec[(r["procedure"], int(r["academic_year"]), r["source_subject_code"])].append(
            (int(r["task_no"]), r["answer_part"], int(r["max_points"])))
    return spec


# --- registry ----------------------------------------------------------------------------
def test_registry_format(small):
    files = sorted((small / "schools").glob("*/*.csv"))
    assert [f.parent.name for f in files] == ["2023", "2024", "2025"]
    for f in files:
        raw = f.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
        assert raw.count(b"\r\n") == raw.count(b"\n"), "CRLF only"
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
        assert rows[0] == REGISTRY_HEADER
        data = rows[1:]
        assert len(data) == 80
        for r in data:
            assert re.fullmatch(r"07\d{4}", r[0])
            assert re.fullmatch(r"\d{2,3}", r[2])
            assert r[4] == "" or re.fullmatch(r"\d{4}", r[4])
            assert r[5] == "" or re.fullmatch(r"sch\d{6}", r[5])
            for c in r[11:17]:
                assert re.fullmatch(r"\d{1,2}(,\d)?", c), c        # decimal comma
            assert r[17] in {"действующая", "реорганизована", "ликвидирована"}
            assert (r[18] != "") == (r[17] == "реорганизована")
        assert any("," in r[13] for r in data)


# --- ГИА ---------------------------------------------------------------------------------
def test_gia_encoding_title_footers(small):
    files = sorted((small / "ege").rglob("*.csv")) + sorted((small / "oge").rglob("*.csv"))
    assert len(files) > 40
    footer_kinds = set()
    for f in files:
        raw = f.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert raw.count(b"\r\n") == raw.count(b"\n")
        sheet = read_gia(f)
        assert f.parent.name == sheet["date"][:4]
        for foot in sheet["footers"]:
            footer_kinds.add(foot[sheet["header"][0]])
            if foot["№"] == "Всего участников":
                assert int(foot["Код МСУ"]) == len(sheet["rows"])
        assert [int(r["№"]) for r in sheet["rows"]] == list(range(1, len(sheet["rows"]) + 1))
    assert footer_kinds == FOOTERS


def test_gia_scores_match_tasks_and_seeds(small):
    spec = _spec()
    scale = {(int(r["academic_year"]), r["ege_subject_code"], int(r["primary_score"])):
             int(r["test_score"]) for r in read_seed("ref_ege_score_scale")}
    bounds = defaultdict(list)
    for r in read_seed("ref_mark_boundaries"):
        bounds[(r["procedure"], int(r["academic_year"]), r["subject_code"])].append(
            (int(r["min_primary_score"]), int(r["max_primary_score"]), int(r["mark"])))
    subj = {(r["procedure"], r["source_subject_code"]): r for r in read_seed("ref_gia_subjects")}
    checked = defaultdict(int)
    for source, proc in (("ege", "EGE"), ("oge", "OGE")):
        for f in sorted((small / source).rglob("*.csv")):
            sheet = read_gia(f)
            year = int(sheet["date"][:4])
            code = sheet["code"]
            ref_subject = subj[(proc, code)]
            assert sheet["name"] == ref_subject["subject_name_ru"]
            tasks = sorted(spec[(proc, year, code)])
            short_max = [m for _, part, m in tasks if part == "short"]
            ext_max = [m for _, part, m in tasks if part != "short"]
            is_mark = ref_subject["result_kind"] == "mark"
            result_col = "Оценка" if is_mark else "Балл"
            assert result_col in sheet["header"]
            assert ("Балл" in sheet["header"]) != is_mark
            if code in {"09", "10", "11", "13"} and proc == "EGE":
                h = sheet["header"]
                assert h.index("Первичный балл письменной части") < h.index("Первичный балл")
            for r in sheet["rows"]:
                assert re.fullmatch(r"\d{4}", r["Серия документа"])
                assert re.fullmatch(r"\d{6}", r["Номер документа"])
                if r.get("Статус", "") in ("Удален", "Аннулирован"):
                    assert r["Первичный балл"] == "" and r[result_col] == ""
                    checked["removed"] += 1
                    continue
                assert re.fullmatch(r"[+\-0-9]*", r["Задания с кратким ответом"])
                pts = task_points(r["Задания с кратким ответом"],
                                  r["Задания с развёрнутым ответом"], short_max)
                assert len(pts) == len(tasks)
                exts = re.findall(r"(\d+)\((\d+)\)", r["Задания с развёрнутым ответом"])
                assert [int(m) for _, m in exts] == ext_max
                assert all(int(p) <= int(m) for p, m in exts)
                primary = int(r["Первичный балл"])
                assert primary == sum(pts)
                if "Первичный балл устной части" in r:
                    assert (int(r["Первичный балл письменной части"])
                            + int(r["Первичный балл устной части"])) == primary
                if is_mark:
                    bproc = "EGE" if proc == "EGE" else ref_subject["exam_kind"]
                    marks = [m for lo, hi, m in bounds[(bproc, year, ref_subject["subject_code"])]
                             if lo <= primary <= hi]
                    assert [int(r["Оценка"])] == marks
                else:
                    assert int(r["Балл"]) == scale[(year, code, primary)]
                checked[source] += 1
    assert checked["ege"] > 1000 and checked["oge"] > 4000 and checked["removed"] > 0


def test_gia_retakes_and_manifest(small):
    manifest = json.loads((small / "manifest.json").read_text(encoding="utf-8"))
    by_path = {f["path"]: f for f in manifest["files"]}
    seen = defaultdict(set)
    n_retake_pairs = 0
    on_disk = sorted(p.relative_to(small).as_posix() for p in small.rglob("*.csv"))
    assert sorted(by_path) == on_disk
    for rel in on_disk:
        path = small / rel
        entry = by_path[rel]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["bytes"] == path.stat().st_size
        if entry["source"] == "schools":
            n = len(path.read_bytes().decode("utf-8-sig").split("\r\n")) - 2
            assert entry["rows"] == n
            continue
        sheet = read_gia(path)
        assert entry["rows"] == len(sheet["rows"])
        for r in sheet["rows"]:
            seen[(entry["source"], entry["academic_year"], sheet["code"], r["Серия документа"],
                  r["Номер документа"])].add(sheet["date"])
    n_retake_pairs = sum(1 for dates in seen.values() if len(dates) >= 2)
    # one person per document within a year: the same name in every subject and date
    names = defaultdict(set)
    subjects = defaultdict(set)
    for rel in on_disk:
        if by_path[rel]["source"] == "schools":
            continue
        sheet = read_gia(small / rel)
        for r in sheet["rows"]:
            key = (by_path[rel]["source"], by_path[rel]["academic_year"],
                   r["Серия документа"], r["Номер документа"])
            names[key].add((r["Фамилия"], r["Имя"], r["Отчество"]))
            subjects[key].add(sheet["code"])
    assert all(len(v) == 1 for v in names.values())
    assert sum(len(v) >= 3 for v in subjects.values()) > 0.8 * len(subjects)
    assert n_retake_pairs > 0
    assert manifest["gia_retakes"] == n_retake_pairs
    assert manifest["gia_removed"] + manifest["gia_annulled"] > 0
    totals = manifest["totals"]
    assert totals["ege"]["rows"] == sum(f["rows"] for f in manifest["files"] if f["source"] == "ege")
    assert manifest["tier"] == "S" and manifest["seed"] == SEED and manifest["region_code"] == "07"
    assert {"vpr_inflating_schools", "low_results_schools", "resilient_schools",
            "reorganised_schools", "liquidated_schools"} <= set(manifest)
    assert "Фамилия" not in json.dumps(manifest, ensure_ascii=False)


def test_gia_school_codes_resolve_through_registry(small):
    registry = {}
    for f in (small / "schools").glob("*/*.csv"):
        rows = list(csv.DictReader(io.StringIO(f.read_bytes().decode("utf-8-sig"), newline=""),
                                   delimiter=";"))
        registry[int(f.parent.name)] = {(r["Код МСУ"], r["Код ОО РИС ГИА"]): r for r in rows
                                        if r["Код ОО РИС ГИА"]}
    for f in (small / "oge").rglob("*.csv"):
        sheet = read_gia(f)
        year = int(sheet["date"][:4])
        for r in sheet["rows"]:
            school = registry[year][(r["Код МСУ"], r["Код ОО"])]
            assert school["Статус"] == "действующая"


# --- tier S distributions -------------------------------------------------------------
def _results_of_record(root: Path, source: str, year: int) -> dict:
    latest = {}
    for f in sorted((root / source / str(year)).glob("*.csv")):
        sheet = read_gia(f)
        for r in sheet["rows"]:
            key = (sheet["code"], r["Серия документа"], r["Номер документа"])
            if key not in latest or latest[key][0] < sheet["date"]:
                latest[key] = (sheet["date"], r)
    return {k: r for k, (_, r) in latest.items() if r.get("Статус", "") == ""}


@pytest.mark.slow
def test_tier_s_distributions(tier_s_gia):
    manifest = json.loads((tier_s_gia / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["schools"]["rows"] == 1800
    for year in (2023, 2024, 2025):
        ege = _results_of_record(tier_s_gia, "ege", year)
        rus = [int(r["Балл"]) for (code, *_), r in ege.items() if code == "01"]
        mean = sum(rus) / len(rus)
        below = 100 * sum(b < 24 for b in rus) / len(rus)
        assert 68 <= mean <= 70, mean
        assert 1 <= below <= 2, below
        assert 25_000 <= len(ege) <= 40_000
        math_takers = [code for (code, *_), _ in ege.items() if code in ("02", "22")]
        assert 0.5 <= math_takers.count("02") / len(math_takers) <= 0.6
        oge = _results_of_record(tier_s_gia, "oge", year)
        maths = [int(r["Оценка"]) for (code, *_), r in oge.items() if code == "02"]
        assert 8 <= 100 * maths.count(2) / len(maths) <= 12
        assert 95_000 <= len(oge) <= 130_000
        assert any(code in ("51", "52") for code, *_ in oge)
