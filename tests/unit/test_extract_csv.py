"""CSV extracts (ГИА sheets, schools, olympiad, literacy): hand-made files with the quirks."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from rsoko_pipelines.extract import (ExtractError, Pseudonymizer, landing_schema,
                                     parse_extract, parse_only)

PERSONAL = ["Иванов", "Пётр", "Сергеевич", "Смирнова", "Анна", "Олеговна", "4512", "654321",
            "4513", "777888", "IV-АБ", "123456"]

EGE_HEADER = ("№;Код МСУ;Код ОО;Класс;Код ППЭ;Аудитория;Фамилия;Имя;Отчество;Серия документа;"
              "Номер документа;Задания с кратким ответом;Задания с развёрнутым ответом;"
              "Первичный балл;Балл;Статус")
EGE_ROWS = [
    "1;07;0123;11А;0701;0005;Иванов;Пётр;Сергеевич;4512;654321;++-+1;1(2)0(3)2(2);25;61;",
    "2;012;0456;11Б;0701;0006;Смирнова;Анна;Олеговна;4513;777888;+++++;2(2)3(3)2(2);34;78;",
    "3;07;0123;11А;0701;0005;Иванов;Пётр;Сергеевич;IV-АБ;123456;;;;;Удален",
]
EGE_FOOTER = ["Средние;;;;;;;;;;;;;29,5;69,5;", "Минимальная граница;;;;;;;;;;;;;;24;",
              "Всего участников;3"]


@pytest.fixture()
def pseudo() -> Pseudonymizer:
    return Pseudonymizer(b"test-key-0123456789abcdef")


def write_gia(tmp_path, lines, name="rus.csv", source="ege", year=2025, encoding="cp1251",
              eol="\r\n", prefix=b""):
    folder = tmp_path / source / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(prefix + (eol.join(lines) + eol).encode(encoding))
    return path


def ege_lines(title="01 - Русский язык 2025.06.03", header=EGE_HEADER, rows=EGE_ROWS,
              footer=EGE_FOOTER):
    return [title, header, *rows, *footer]


def all_cells(parsed) -> list[str]:
    out = []
    for table in parsed.tables.values():
        for col in table.columns:
            for v in col.to_pylist():
                if isinstance(v, list):
                    out.extend(map(str, v))
                elif v is not None:
                    out.append(str(v))
    return out


def assert_no_personal(parsed):
    cells = all_cells(parsed)
    for value in PERSONAL:
        assert not any(value in c for c in cells), value
        assert not any(value in w for w in parsed.warnings), value
    for table in parsed.tables.values():
        assert not {"last_name", "first_name", "middle_name", "doc_series", "doc_number"} & set(
            table.column_names)


# ---------------------------------------------------------------------------------- ГИА
def test_ege_parses_title_codes_scores_and_lines(tmp_path, pseudo):
    path = write_gia(tmp_path, ege_lines())
    parsed = parse_extract(path, "ege", 2025, pseudo)
    t = parsed.table
    assert t.schema == landing_schema("ege")
    assert parsed.rows == 3 == t.num_rows
    assert t["_source_line"].to_pylist() == [3, 4, 5]
    assert t["msu_code"].to_pylist() == ["07", "012", "07"]
    assert t["gia_school_code"].to_pylist() == ["0123", "0456", "0123"]
    assert t["room"].to_pylist()[0] == "0005"
    assert t["source_subject_code"].to_pylist() == ["01"] * 3
    assert t["subject_name"][0].as_py() == "Русский язык"
    assert t["exam_date"][0].as_py() == dt.date(2025, 6, 3)
    assert t["primary_score"].to_pylist() == [25, 34, None]
    assert t["test_score"].to_pylist() == [61, 78, None]
    assert t["mark"].to_pylist() == [None, None, None]
    assert t["status"].to_pylist() == [None, None, "Удален"]
    assert t["short_answers"].to_pylist()[0] == "++-+1"
    assert t["extended_answers"].to_pylist()[0] == "1(2)0(3)2(2)"
    assert t["participant_key"][0].as_py() == pseudo.participant_key("4512", "654321")
    assert len(set(t["participant_key"].to_pylist())) == 3
    assert t["_file_id"][0].as_py() == parsed.file_id and len(parsed.file_id) == 64
    assert parsed.slice == {"academic_year": 2025, "source_subject_code": "01",
                            "exam_date": "2025-06-03"}
    assert_no_personal(parsed)


def test_ege_lf_shuffled_columns_extra_column_and_no_footer(tmp_path, pseudo):
    cols = EGE_HEADER.split(";")
    order = list(reversed(range(len(cols))))
    header = ";".join([cols[i] for i in order] + ["Примечание"])
    rows = [";".join([r.split(";")[i] for i in order] + ["x"]) for r in EGE_ROWS]
    path = write_gia(tmp_path, ege_lines(header=header, rows=rows, footer=[]), eol="\n")
    parsed = parse_extract(path, "ege", 2025, pseudo)
    assert parsed.table["gia_school_code"].to_pylist() == ["0123", "0456", "0123"]
    assert parsed.table["test_score"].to_pylist() == [61, 78, None]
    assert any("Примечание" in w for w in parsed.warnings)
    assert_no_personal(parsed)


def test_ege_basic_math_mark_and_foreign_language_parts(tmp_path, pseudo):
    header = ("№;Код МСУ;Код ОО;Класс;Код ППЭ;Аудитория;Фамилия;Имя;Отчество;Серия документа;"
              "Номер документа;Задания с кратким ответом;Задания с развернутым ответом;"
              "Первичный балл письменной части;Первичный балл устной части;Первичный балл;"
              "Оценка")
    rows = ["1;07;0123;11А;0701;0005;Иванов;Пётр;Сергеевич;4512;654321;+-+;;12;5;17;4"]
    path = write_gia(tmp_path, ege_lines(title="22 - Математика базовая 2025.05.27",
                                         header=header, rows=rows, footer=[]))
    t = parse_extract(path, "ege", 2025, pseudo).table
    assert t["mark"].to_pylist() == [4] and t["test_score"].to_pylist() == [None]
    assert t["primary_score_written"].to_pylist() == [12]
    assert t["primary_score_oral"].to_pylist() == [5]
    assert t["source_subject_code"].to_pylist() == ["22"]


def test_oge_gve_code_and_trailing_blank_lines(tmp_path, pseudo):
    header = EGE_HEADER.replace(";Балл;", ";Оценка;")
    rows = [r.replace(";61;", ";4;").replace(";78;", ";5;") for r in EGE_ROWS]
    lines = ege_lines(title="52 - Математика 2025.06.10", header=header, rows=rows) + ["", ""]
    path = write_gia(tmp_path, lines, source="oge")
    parsed = parse_extract(path, "oge", 2025, pseudo)
    assert parsed.table.schema == landing_schema("oge")
    assert parsed.table["mark"].to_pylist() == [4, 5, None]
    assert parsed.slice["source_subject_code"] == "52"
    assert parsed.rows == 3


def test_parse_only_skips_hmac_but_drops_personal(tmp_path):
    path = write_gia(tmp_path, ege_lines())
    parsed = parse_only(path, "ege", 2025)
    assert parsed.table["participant_key"].null_count == 3
    assert_no_personal(parsed)


# ----------------------------------------------------------------------------- failures
def _err(tmp_path, pseudo, lines=None, **kw) -> ExtractError:
    path = write_gia(tmp_path, lines if lines is not None else ege_lines(), **kw)
    with pytest.raises(ExtractError) as info:
        parse_extract(path, kw.get("source", "ege"), 2025, pseudo)
    err = info.value
    text = str(err) + err.hint + " ".join(err.columns or [])
    for value in PERSONAL:
        assert value not in text
    assert "ege/2025/" in err.message or "oge/2025/" in err.message
    return err


def test_error_utf8_instead_of_cp1251(tmp_path, pseudo):
    err = _err(tmp_path, pseudo, encoding="utf-8")
    assert err.check == "encoding" and "windows-1251" in err.message


def test_error_utf8_bom_instead_of_cp1251(tmp_path, pseudo):
    err = _err(tmp_path, pseudo, encoding="utf-8", prefix=b"\xef\xbb\xbf")
    assert err.check == "encoding"


def test_error_utf16(tmp_path, pseudo):
    err = _err(tmp_path, pseudo, encoding="utf-16")
    assert err.check == "encoding" and "UTF-16" in err.message


def test_error_missing_columns(tmp_path, pseudo):
    header = EGE_HEADER.replace("Первичный балл;", "").replace("Код ОО;", "")
    rows = [";".join(c for i, c in enumerate(r.split(";")) if i not in (2, 13)) for r in EGE_ROWS]
    err = _err(tmp_path, pseudo, ege_lines(header=header, rows=rows, footer=[]))
    assert err.check == "missing_columns"
    assert set(err.columns) == {"Код ОО", "Первичный балл"}
    assert "Первичный балл" in err.message


def test_error_ege_without_score_or_mark(tmp_path, pseudo):
    header = EGE_HEADER.replace(";Балл;", ";")
    rows = [";".join(c for i, c in enumerate(r.split(";")) if i != 14) for r in EGE_ROWS]
    err = _err(tmp_path, pseudo, ege_lines(header=header, rows=rows, footer=[]))
    assert err.check == "missing_columns" and "Балл" in err.message


def test_error_footer_in_the_middle(tmp_path, pseudo):
    lines = ege_lines(rows=[EGE_ROWS[0], "Средние;;;;;;;;;;;;;25;61;", *EGE_ROWS[1:]])
    err = _err(tmp_path, pseudo, lines)
    assert err.check == "footer" and err.rows == [4]


@pytest.mark.parametrize("title", ["Русский язык 2025.06.03", "01 - Русский язык",
                                   "01 - Русский язык 2025.13.40", EGE_HEADER])
def test_error_title(tmp_path, pseudo, title):
    err = _err(tmp_path, pseudo, ege_lines(title=title))
    assert err.check == "title" and err.rows == [1]
    assert "<code> - <name> <YYYY.MM.DD>" in err.message or "date" in err.message


def test_error_empty_file(tmp_path, pseudo):
    err = _err(tmp_path, pseudo, lines=[""], eol="")
    assert err.check == "empty_file"


def test_error_header_only(tmp_path, pseudo):
    err = _err(tmp_path, pseudo, ege_lines(rows=[]))
    assert err.check == "header_only"


def test_error_wrong_field_count_names_line_not_values(tmp_path, pseudo):
    bad = "2;012;0456;11Б;0701;0006;Смирнова;Анна;Олеговна;4513;777888"
    err = _err(tmp_path, pseudo, ege_lines(rows=[EGE_ROWS[0], bad, EGE_ROWS[2]]))
    assert err.check == "row_shape" and err.rows == [4]


def test_error_text_in_score(tmp_path, pseudo):
    rows = [EGE_ROWS[0], EGE_ROWS[1].replace(";34;78;", ";34;Смирнова;")]
    err = _err(tmp_path, pseudo, ege_lines(rows=rows, footer=[]))
    assert err.check == "type" and err.rows == [4] and err.columns == ["Балл"]


# ------------------------------------------------------------------------------ schools
SCHOOLS_HEADER = ("Код ОО;Наименование ОО;Код МСУ;Муниципалитет;Код ОО РИС ГИА;Логин ФИС ОКО;"
                  "Вид ОО;Тип местности;Численность обучающихся;"
                  "Численность обучающихся 4-11 классов;Численность педагогов;"
                  "Доля обучающихся с ОВЗ, %;Доля обучающихся с неродным русским языком, %;"
                  "Доля обучающихся из малообеспеченных семей, %;"
                  "Доля обучающихся из неполных семей, %;Доля родителей с высшим образованием, %;"
                  "Доля вакантных ставок педагогов, %;Статус;Код ОО правопреемника")
SCHOOLS_ROWS = [
    '070123;"МБОУ ""СОШ № 1; г. Нальчик""";07;г. Нальчик;0123;sch070123;СОШ;город;812;640;55;'
    '3,5;12,25;8;15,0;40.5;0;действующая;',
    "070124;МКОУ ООШ с. Лесное;012;Лесной район;;;ООШ;село;90;70;12;0;1,5;30;20;10;5,5;"
    "реорганизована;070123",
]


def write_text(tmp_path, source, lines, encoding="utf-8", bom=True, eol="\r\n", name="f.csv"):
    folder = tmp_path / source / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (eol.join(lines) + eol).encode(encoding))
    return path


def test_schools_bom_decimal_comma_quotes_and_codes(tmp_path):
    parsed = parse_only(write_text(tmp_path, "schools", [SCHOOLS_HEADER, *SCHOOLS_ROWS]),
                        "schools", 2025)
    t = parsed.table
    assert t.schema == landing_schema("schools")
    assert t["school_code"].to_pylist() == ["070123", "070124"]
    assert t["msu_code"].to_pylist() == ["07", "012"]
    assert t["gia_school_code"].to_pylist() == ["0123", None]
    assert t["school_name"][0].as_py() == 'МБОУ "СОШ № 1; г. Нальчик"'
    assert t["pct_ovz"].to_pylist() == [3.5, 0.0]
    assert t["pct_nonnative"].to_pylist() == [12.25, 1.5]
    assert t["pct_parents_higher_ed"].to_pylist() == [40.5, 10.0]
    assert t["n_students"].to_pylist() == [812, 90]
    assert t["successor_code"].to_pylist() == [None, "070123"]
    assert t["_source_line"].to_pylist() == [2, 3]
    assert parsed.slice == {"academic_year": 2025} and parsed.warnings == []


def test_schools_missing_bom_is_a_warning(tmp_path):
    parsed = parse_only(write_text(tmp_path, "schools", [SCHOOLS_HEADER, *SCHOOLS_ROWS],
                                   bom=False, eol="\n"), "schools", 2025)
    assert parsed.rows == 2 and any("BOM" in w for w in parsed.warnings)


def test_schools_cp1251_is_an_error(tmp_path):
    path = write_text(tmp_path, "schools", [SCHOOLS_HEADER, *SCHOOLS_ROWS], encoding="cp1251",
                      bom=False)
    with pytest.raises(ExtractError) as info:
        parse_only(path, "schools", 2025)
    assert info.value.check == "encoding" and "windows-1251" in info.value.message


# ----------------------------------------------------------------------- olympiad/literacy
def test_olympiad_decimal_point_and_comma_and_slice(tmp_path):
    lines = ["Этап;Предмет;Код ОО;Идентификатор участника;Класс обучения;Класс участия;Балл;"
             "Максимальный балл;Статус",
             "школьный;Математика;070123;P-000017;7;8;12,5;40;призер",
             "муниципальный;Физика;070124;P-000018;9;9;33.25;50;победитель"]
    parsed = parse_only(write_text(tmp_path, "olympiad", lines, bom=False, eol="\n"),
                        "olympiad", 2025)
    t = parsed.table
    assert t["score"].to_pylist() == [12.5, 33.25]
    assert t["participation_grade"].to_pylist() == [8, 9]
    assert t["school_code"].to_pylist() == ["070123", "070124"]
    assert parsed.slice == {"academic_year": 2025, "stages": ["муниципальный", "школьный"],
                            "subjects": ["Математика", "Физика"]}


def test_literacy(tmp_path):
    lines = ["Код ОО;Код участника;Класс;Направление;Балл;Уровень",
             "070123;L0001;8;читательская;512,4;3", "070123;L0002;8;финансовая;350;ниже 1"]
    parsed = parse_only(write_text(tmp_path, "literacy", lines), "literacy", 2025)
    assert parsed.table.schema == landing_schema("literacy")
    assert parsed.table["level"].to_pylist() == ["3", "ниже 1"]
    assert parsed.table["score"].to_pylist() == [512.4, 350.0]
    assert isinstance(parsed.table, pa.Table)


# ------------------------------------------------------------------- parser processes
def test_parser_processes_return_every_file_in_inbox_order(tmp_path, pseudo):
    """ingest/parsing.py: with two spawned parser processes the results come back in the
    order of the files, broken files as quarantine problems, and the participant keys
    (HMAC with the key sent to the workers) equal those of the writer process."""
    import pickle

    from rsoko_pipelines.ingest.parsing import MIN_FILES_FOR_POOL, parse_in_order

    paths = []
    for i in range(MIN_FILES_FOR_POOL + 2):
        title = f"{i + 1:02d} - Предмет {i} 2025.06.{i + 1:02d}"
        if i == 3:       # a UTF-8 file where windows-1251 is required
            paths.append(write_gia(tmp_path, ege_lines(title), name=f"{i:02d}.csv",
                                   encoding="utf-8"))
        else:
            paths.append(write_gia(tmp_path, ege_lines(title), name=f"{i:02d}.csv"))
    assert pickle.loads(pickle.dumps(pseudo)).participant_key("4512", "654321") == \
        pseudo.participant_key("4512", "654321")

    in_writer = list(parse_in_order(paths, "ege", 2025, pseudo, workers=1))
    in_pool = list(parse_in_order(paths, "ege", 2025, pseudo, workers=2))
    assert len(in_pool) == len(paths)
    for (p1, problem1), (p2, problem2), path in zip(in_writer, in_pool, paths):
        if path.name == "03.csv":
            assert p2 is None and problem2 == problem1 and problem2["check"] == "encoding"
            continue
        assert problem2 is None and p2.path == path
        assert p2.table.equals(p1.table)
    keys = in_pool[0][0].table.column("participant_key").to_pylist()
    assert len(keys) == 3 and all(len(k) == 64 for k in keys)
