"""The generic readers: the XLSX "table" reader (extract/xlsx_table.py) and the pseudonymised
columns declared in the column maps (extract/personal.py), on hand-made files."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import numpy as np
import pyarrow as pa
import pytest
from openpyxl import Workbook

from rsoko_pipelines.extract import ExtractError, Pseudonymizer, landing_schema, parse_extract
from rsoko_pipelines.extract.personal import derive_from_personal, snils_control
from rsoko_pipelines.extract.schemas import SourceSpec, TableSpec, _column, source_spec
from rsoko_pipelines.extract.xlsx_table import parse_xlsx_table

KEY = b"test-key-0123456789abcdef"


def snils(first_nine: str) -> str:
    return first_nine + snils_control(first_nine)


S1, S2, S3 = snils("112233445"), snils("001002003"), snils("987654321")
S1_DASHED = f"{S1[:3]}-{S1[3:6]}-{S1[6:9]} {S1[9:]}"


def staff_key(digits: str) -> str:
    return hmac.new(KEY, b"staff:" + digits.encode(), hashlib.sha256).hexdigest()


@pytest.fixture()
def pseudo() -> Pseudonymizer:
    return Pseudonymizer(KEY)


# --------------------------------------------------------------------------- XLSX table: dpo
DPO_HEADER = [
    "СНИЛС", "Вид документа", "Статус документа", "Серия документа", "Номер документа",
    "Регистрационный номер", "Дата выдачи документа",
    "Дополнительная профессиональная программа (повышение квалификации/ профессиональная "
    "переподготовка)", "Наименование дополнительной профессиональной программы",
    "Год начала обучения", "Год окончания обучения", "Срок обучения, часов",
    "Фамилия получателя", "Имя получателя", "Отчество получателя", "Дата рождения получателя",
    "Пол получателя", "Форма обучения", "Источник финансирования обучения"]
PERSONAL = ["Кузнецова", "Ирина", "Павловна", "Орлов", "Пётр", "Ильич", "ПК-24", "000123",
            "ПК-24", "000124", "ПК-24", "000125"]


def dpo_rows():
    return [
        [S1_DASHED, "Удостоверение о повышении квалификации", "Оригинал", "ПК-24", "000123",
         "ИРО-2025-17", dt.datetime(2024, 11, 5), "повышение квалификации",
         "Формирование функциональной грамотности", 2024, 2024, 36.0, "Кузнецова", "Ирина",
         "Павловна", dt.datetime(1971, 3, 14), "ж", "очная", "бюджет"],
        [S3, "Удостоверение о повышении квалификации", "Дубликат", "ПК-24", "000124",
         "ИРО-2025-18", "06.12.2024", "повышение квалификации", "Методика ЕГЭ по физике",
         "2024", "2024", "72", "Орлов", "Пётр", "Ильич", "1.2.1960", "м", "заочная",
         "бюджет"],
        [int(S2), "Диплом о профессиональной переподготовке", "Оригинал", "ПК-24", "000125",
         "ИРО-2025-19", "15.01.2025", "профессиональная переподготовка",
         "Педагог-психолог", 2024, 2025, 260, None, None, None, None, None, "очная", "платно"],
    ]


def write_xlsx(tmp_path, header, rows, source="dpo", year=2025, name="любое имя.xlsx",
               above=(), edit=None):
    wb = Workbook()
    ws = wb.active
    for r in above:
        ws.append(r)
    ws.append(header)
    for r in rows:
        ws.append(r)
    if edit:
        edit(ws)
    folder = tmp_path / source / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    wb.save(path)
    return path


def shuffled(header, rows, order):
    return [header[i] for i in order], [[r[i] for i in order] for r in rows]


def test_dpo_table_any_column_order_types_keys_and_lineage(tmp_path, pseudo):
    order = list(reversed(range(len(DPO_HEADER))))       # column order varies: names do not
    header, rows = shuffled(DPO_HEADER, dpo_rows(), order)
    rows.append([None] * len(header))                    # trailing empty rows are dropped
    parsed = parse_extract(write_xlsx(tmp_path, header, rows), "dpo", 2025, pseudo)
    t = parsed.table
    assert t.schema == landing_schema("dpo") and parsed.rows == 3
    assert t["_source_line"].to_pylist() == [2, 3, 4]
    assert t["issue_date"].to_pylist() == [dt.date(2024, 11, 5), dt.date(2024, 12, 6),
                                           dt.date(2025, 1, 15)]
    assert t["hours"].to_pylist() == [36, 72, 260]
    assert t["start_year"].to_pylist() == [2024, 2024, 2024]
    assert t["registration_number"].to_pylist() == ["ИРО-2025-17", "ИРО-2025-18",
                                                    "ИРО-2025-19"]
    # СНИЛС with separators, without, and typed as a number (leading zeros restored)
    assert t["staff_key"].to_pylist() == [staff_key(S1), staff_key(S3), staff_key(S2)]
    assert t["birth_year"].to_pylist() == [1971, 1960, None]
    assert t["sex"].to_pylist() == ["ж", "м", None]
    # series + number normalised like identity documents (Cyrillic К → Latin K), own domain
    doc = hmac.new(KEY, "dpo_document:ПK24000123".encode(), hashlib.sha256).hexdigest()
    assert t["document_key"][0].as_py() == pseudo.keyed_hashes(
        pa.array(["ПK24000123"]), "dpo_document")[0].as_py() == doc
    assert len(set(t["document_key"].to_pylist())) == 3
    assert not {"snils", "last_name", "first_name", "middle_name", "birth_date",
                "document_series", "document_number"} & set(t.column_names)
    assert parsed.slice["academic_year"] == 2025
    assert parsed.slice["registration_numbers"].startswith("3:")
    # the same documents in another order and file name: the same slice (a correction)
    again = parse_extract(write_xlsx(tmp_path, DPO_HEADER, dpo_rows()[::-1], name="b.xlsx"),
                          "dpo", 2025, pseudo)
    assert again.slice == parsed.slice
    assert any("number cell" in w and "СНИЛС" in w for w in parsed.warnings)
    _no_personal_values(parsed, [S1, S1_DASHED, S2, S3, *PERSONAL, "14.03.1971", "01.02.1960"])


def _no_personal_values(parsed, values):
    text = " ".join(str(v) for table in parsed.tables.values()
                    for col in table.columns for v in col.to_pylist())
    text += " ".join(parsed.warnings)
    for value in values:
        assert value not in text, value


def test_header_row_from_the_column_map_and_rows_above_ignored(tmp_path):
    spec = _spec({"format": "xlsx", "layout": "table", "header_row": 3,
                  "slice": ["academic_year"]},
                 [{"name": "school_code", "headers": ["Код ОО"], "type": "varchar",
                   "required": True, "code": True, "letters": "digits"},
                  {"name": "n", "headers": ["Всего выпускников"], "type": "integer",
                   "required": True},
                  {"name": "share", "headers": ["Доля"], "type": "double", "required": False}])
    path = write_xlsx(tmp_path, ["Всего выпускников", "Код ОО", "Доля"],
                      [[25, "070123", "12,5"], ["7", "070124", 0.25], [None, None, None],
                       [3, "070125", None]], above=[["Сведения о выпускниках"], []])
    warnings: list[str] = []
    tables, slice_, n = _parse(path, spec, warnings)
    t = tables["t"]
    assert n == 3 and t["_source_line"].to_pylist() == [4, 5, 7]
    assert t["school_code"].to_pylist() == ["070123", "070124", "070125"]
    assert t["n"].to_pylist() == [25, 7, 3]
    assert t["share"].to_pylist() == [12.5, 0.25, None]
    assert slice_ == {"academic_year": 2025}
    assert any("empty row" in w and "6" in w for w in warnings)


def _spec(raw: dict, columns: list[dict]) -> SourceSpec:
    """A column map built in the test (the same parsing as extract/sources/*.yaml)."""
    common = source_spec("schools").tables["schools"].columns[:3]
    cols = tuple(_column(c) for c in columns)
    landing = tuple(c for c in cols if not c.personal)
    table = TableSpec("t", "t", "test", "", "", common + landing)
    return SourceSpec("t", raw["format"], {**raw, "columns": columns}, cols, {"t": table})


def _parse(path, spec, warnings, pseudonymizer=None):
    return parse_xlsx_table(path, path.read_bytes(), spec, f"t/2025/{path.name}", 2025,
                            "f" * 64, pseudonymizer, warnings)


CODE_SPEC = ({"format": "xlsx", "layout": "table", "slice": ["academic_year"]},
             [{"name": "school_code", "headers": ["Код ОО"], "type": "varchar", "required": True,
               "code": True, "letters": "digits"},
              {"name": "note", "headers": ["Примечание"], "type": "varchar", "required": False},
              {"name": "day", "headers": ["Дата"], "type": "date", "required": False}])


@pytest.mark.parametrize("rows, check, where", [
    ([["07О123", "", None]], "lookalike_letters", [2]),          # a Cyrillic О in a code
    ([[70123, "", None]], "code_as_number", [2]),                # a code typed as a number
    ([["070123", "@SUM(1+1)*cmd|' /C calc'!A0", None]], "formula_text", [2]),
    ([["070123", "x" * 2001, None]], "cell_too_long", [2]),
    ([["070123", "", "31.02.2025"]], "type", [2]),               # an impossible date
    ([["070123", "", "2025-02-01"]], "type", [2]),               # not ДД.ММ.ГГГГ
    ([["070123", "", None], ["Код ОО", "Примечание", "Дата"]], "repeated_header", [3]),
    ([["070123", "", None, "lost"]], "row_shape", [2]),          # a value without a header
])
def test_hostile_cells_quarantine_naming_rows_and_columns(tmp_path, rows, check, where):
    header = ["Код ОО", "Примечание", "Дата"] + ([""] if any(len(r) > 3 for r in rows) else [])
    path = write_xlsx(tmp_path, header, rows)
    with pytest.raises(ExtractError) as err:
        _parse(path, _spec(*CODE_SPEC), [])
    assert err.value.check == check and err.value.rows == where
    assert err.value.message and err.value.hint


def test_formula_cells_error_and_cached_formula(tmp_path):
    def formula(ws):
        ws["B2"] = "=1/0"                     # saved by a script: no cached value
    path = write_xlsx(tmp_path, ["Код ОО", "Примечание"], [["070123", None]], edit=formula)
    with pytest.raises(ExtractError) as err:
        _parse(path, _spec(*CODE_SPEC), [])
    assert err.value.check == "xlsx_formula" and err.value.rows == [2]
    assert err.value.columns == ["Примечание"]


def test_missing_duplicate_columns_empty_and_wrong_files(tmp_path):
    spec = _spec(*CODE_SPEC)
    for header, check in ((["Примечание"], "missing_columns"),
                          (["Код ОО", "код оо"], "duplicate_columns")):
        with pytest.raises(ExtractError) as err:
            _parse(write_xlsx(tmp_path, header, [["070123", "1"]]), spec, [])
        assert err.value.check == check
    with pytest.raises(ExtractError) as err:
        _parse(write_xlsx(tmp_path, ["Код ОО"], []), spec, [])
    assert err.value.check == "header_only"
    csv = tmp_path / "dpo" / "2025" / "renamed.xlsx"
    csv.write_bytes("Код ОО;Примечание\r\n070123;x\r\n".encode())
    with pytest.raises(ExtractError) as err:
        _parse(csv, spec, [])
    assert err.value.check == "file_type" and "CSV" in err.value.message


def test_dpo_invalid_snils_quarantines_without_the_value(tmp_path, pseudo):
    rows = dpo_rows()
    rows[1][0] = "112-233-445"                      # 9 digits
    rows[2][0] = "1122334450Б"
    with pytest.raises(ExtractError) as err:
        parse_extract(write_xlsx(tmp_path, DPO_HEADER, rows), "dpo", 2025, pseudo)
    e = err.value
    assert e.check == "personal_format" and e.rows == [3, 4] and e.columns == ["СНИЛС"]
    assert "112-233-445" not in str(e) and "1122334450Б" not in str(e)
    rows[1][15] = "31.02.1960"                       # an impossible birth date, valid СНИЛС
    rows[1][0], rows[2][0] = S3, int(S2)
    with pytest.raises(ExtractError) as err:
        parse_extract(write_xlsx(tmp_path, DPO_HEADER, rows, name="c.xlsx"), "dpo", 2025,
                      pseudo)
    assert err.value.check == "type" and err.value.rows == [3]
    assert err.value.columns == ["Дата рождения получателя"] and "1960" not in str(err.value)


# --------------------------------------------------------------------------- CSV: staff
STAFF_HEADER = ("СНИЛС;Фамилия;Имя;Отчество;Дата рождения;Код ОО;Должность;Предметы;"
                "Квалификационная категория;Дата присвоения категории;Педагогический стаж, лет;"
                "Дата назначения на должность;Ставка;Основное место работы")
STAFF_ROWS = [
    f"{S1_DASHED};Кузнецова;Ирина;Павловна;14.03.1971;070123;директор;;высшая;12.04.2019;30;"
    f"01.09.2020;1;да",
    f"{S1};Кузнецова;Ирина;Павловна;14.03.1971;070123;учитель;Математика, Физика;высшая;"
    f"12.04.2019;30;01.09.2020;0,5;да",
    f"{S2};Орлов;Пётр;Ильич;01.02.1960;070124;учитель;История;первая;;35;01.09.1990;1,25;нет",
]


def write_csv(tmp_path, lines, encoding, bom=b"", name="staff.csv", source="staff"):
    folder = tmp_path / source / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(bom + ("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.mark.parametrize("encoding, bom", [("cp1251", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_staff_both_encodings_both_snils_forms_one_key(tmp_path, pseudo, encoding, bom):
    parsed = parse_extract(write_csv(tmp_path, [STAFF_HEADER, *STAFF_ROWS], encoding, bom),
                           "staff", 2025, pseudo)
    t = parsed.table
    assert t.schema == landing_schema("staff") and parsed.warnings == []
    assert t["staff_key"].to_pylist() == [staff_key(S1), staff_key(S1), staff_key(S2)]
    assert t["birth_year"].to_pylist() == [1971, 1971, 1960]
    assert t["category_date"].to_pylist() == [dt.date(2019, 4, 12)] * 2 + [None]
    assert t["rate"].to_pylist() == [1.0, 0.5, 1.25]
    assert t["subjects"].to_pylist() == [None, "Математика, Физика", "История"]
    assert parsed.slice["schools"].startswith("2:")
    _no_personal_values(parsed, [S1, S1_DASHED, S2, "Кузнецова", "Ирина", "Павловна", "Орлов",
                                 "Ильич", "14.03.1971", "01.02.1960"])
    # the staff key is not the participant key of the same digits (its own domain)
    assert staff_key(S1) != pseudo.participant_key(S1, "")


def test_staff_invalid_snils_and_control_number(tmp_path, pseudo):
    bad = STAFF_ROWS[2].replace(S2, S2[:-1], 1)
    with pytest.raises(ExtractError) as err:
        parse_extract(write_csv(tmp_path, [STAFF_HEADER, STAFF_ROWS[0], bad], "cp1251"),
                      "staff", 2025, pseudo)
    assert err.value.check == "personal_format" and err.value.rows == [3]
    assert err.value.columns == ["СНИЛС"] and S2[:-1] not in str(err.value)
    wrong = S2[:-2] + f"{(int(S2[-2:]) + 1) % 100:02d}"
    parsed = parse_extract(write_csv(tmp_path, [STAFF_HEADER, STAFF_ROWS[2].replace(S2, wrong)],
                                     "cp1251", name="b.csv"), "staff", 2025, pseudo)
    assert parsed.table["staff_key"].to_pylist() == [staff_key(wrong)]
    assert len(parsed.warnings) == 1 and "control number" in parsed.warnings[0]
    assert wrong not in parsed.warnings[0]
    utf8_no_bom = parse_extract(write_csv(tmp_path, [STAFF_HEADER, STAFF_ROWS[2]], "utf-8",
                                          name="c.csv"), "staff", 2025, pseudo)
    assert any("without a BOM" in w for w in utf8_no_bom.warnings)


def test_parse_needs_a_pseudonymizer_for_personal_keys(tmp_path):
    path = write_csv(tmp_path, [STAFF_HEADER, *STAFF_ROWS], "cp1251")
    with pytest.raises(ValueError, match="Pseudonymizer"):
        parse_extract(path, "staff", 2025, None)


# --------------------------------------------------------------------------- other normalisations
def test_trim_and_code_normalisations_with_their_own_domain(pseudo):
    spec = _spec({"format": "csv"}, [
        {"name": "child_id", "headers": ["Идентификатор ребёнка"], "type": "varchar",
         "personal": True},
        {"name": "child_key", "type": "varchar", "derived": "pseudonym", "from": ["child_id"],
         "normalize": "trim", "domain": "child"},
        {"name": "code_key", "type": "varchar", "derived": "pseudonym", "from": ["child_id"],
         "normalize": "code", "domain": "code"}])
    ids = pa.array([" N-000123 ", "N-000123", "n 000123", None])
    warnings: list[str] = []
    out = derive_from_personal(spec, lambda c: (ids, "Идентификатор ребёнка"),
                               np.array([2, 3, 4, 5]), "t/2025/x.csv", pseudo, warnings)
    expect = hmac.new(KEY, b"child:N-000123", hashlib.sha256).hexdigest()
    assert out["child_key"].to_pylist()[:2] == [expect, expect]
    assert out["child_key"][3].as_py() is None
    codes = out["code_key"].to_pylist()
    assert codes[0] == codes[1] != codes[2] and codes[2] == hmac.new(
        KEY, b"code:N000123", hashlib.sha256).hexdigest()
    assert len(warnings) == 2 and all("line(s) have no value" in w and "5" in w
                                      for w in warnings)
