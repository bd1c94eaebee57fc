"""validate_frame on hand-built landing frames (schema from extract/sources/<source>.yaml): good frames
pass; targeted bad frames fail the right expectation with the right count and the
_source_line of the offending rows; the HTML/JSON report and the Dagster check result."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pytest

from rsoko_pipelines.extract.schemas import landing_schema
from rsoko_pipelines.quality import validate_frame, validate_tables
from rsoko_pipelines.quality.dagster_checks import outcome_to_check_result
from rsoko_pipelines.quality.report import write_report

FILE_ID = "ab" * 32
REGISTRY = pd.DataFrame({
    "school_code": ["070001", "070002", "070003"],
    "msu_code": ["07", "07", "012"],
    "gia_school_code": pd.Series(["0001", "0002", None], dtype=object),
    "fis_login": ["sch070001", "sch070002", "sch070003"],
    "status": ["действующая", "действующая", "реорганизована"],
})
CONTEXT = {"schools": REGISTRY}


def table(name: str, rows: list[dict]) -> pa.Table:
    """A landing table conforming to landing_schema(name); lines start at 3."""
    schema = landing_schema(name)
    full = [{"_file_id": FILE_ID, "_source_line": i + 3, "academic_year": 2025, **r}
            for i, r in enumerate(rows)]
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in full],
                                schema=schema)


def gia_answers(procedure: str, code: str, primary: int, year: int = 2025) -> tuple[str, str]:
    """Answer strings of the year's task spec (ref_gia_task_spec) worth `primary` points:
    full marks on the first tasks, then zeros (GX ege/oge.task_points_consistent)."""
    import csv

    from rsoko_pipelines.settings import SEEDS_DIR

    with open(SEEDS_DIR / "reference" / "ref_gia_task_spec.csv", encoding="utf-8") as f:
        spec = sorted((int(r["task_no"]), r["answer_part"], int(r["max_points"]))
                      for r in csv.DictReader(f) if r["procedure"] == procedure
                      and r["academic_year"] == str(year) and r["source_subject_code"] == code)
    short, extended, left = "", "", primary
    for _, part, mx in spec:
        got = min(mx, left)
        left -= got
        if part == "short":
            short += "+" if got == mx else ("-" if got == 0 else str(got))
        else:
            extended += f"{got}({mx})"
    assert left == 0
    return short, extended


EGE_RUS_20 = gia_answers("EGE", "01", 20)
OGE_MATH_15 = gia_answers("OGE", "02", 15)


def ege_rows(n=6):
    return [dict(source_subject_code="01", subject_name="Русский язык",
                 exam_date=dt.date(2025, 6, 3), row_no=str(i + 1), msu_code="07",
                 gia_school_code="0001" if i % 2 else "0002", class_name="11А",
                 participant_key=f"{i:064x}", short_answers=EGE_RUS_20[0],
                 extended_answers=EGE_RUS_20[1], primary_score=20, test_score=44) for i in range(n)]


def oge_rows(n=6):   # ОГЭ математика 2025: 15 → mark 4 (ref_mark_boundaries)
    return [dict(source_subject_code="02", subject_name="Математика", exam_date=dt.date(2025, 5, 30),
                 row_no=str(i + 1), msu_code="07", gia_school_code="0001", class_name="9А",
                 participant_key=f"{i:064x}", short_answers=OGE_MATH_15[0],
                 extended_answers=OGE_MATH_15[1], primary_score=15, mark=4) for i in range(n)]


def vpr_rows(n=10, procedure="ВПР", grade=4):   # ВПР русский 4 класс 2025: 30 → mark 4
    return [dict(procedure=procedure, subject_name="Русский язык", grade=grade,
                 max_primary_score=38,
                 msu_name="Город", fis_login="sch070001", school_name="Школа 1",
                 participant_code=str(10000 + i), class_name="4А", variant=1 + i % 2,
                 task_scores=["1", "2", "X"], primary_score=30, mark=4,
                 journal_mark=4 if i % 3 else None, journal_mark_raw="4" if i % 3 else "")
            for i in range(n)]


def schools_rows():
    return [dict(school_code=r.school_code, school_name=f"Школа {i}", msu_code=r.msu_code,
                 msu_name="Город", gia_school_code=r.gia_school_code, fis_login=r.fis_login,
                 school_kind="СОШ", settlement="город", n_students=500, n_students_4_11=350,
                 n_teachers=40, pct_ovz=2.5, pct_nonnative=1.0, pct_lowincome=12.5,
                 pct_singleparent=20.0, pct_parents_higher_ed=35.0, pct_vacancies=3.0,
                 status=r.status, successor_code="070001" if r.status == "реорганизована" else None)
            for i, r in enumerate(REGISTRY.itertuples())]


def olympiad_rows():
    return [dict(stage="школьный", subject_name="Математика", school_code="070001",
                 participant_id=f"p{i}", grade=7, participation_grade=7 + i % 2, score=10.5 + i,
                 max_score=20.0, status="участник") for i in range(5)]


def literacy_rows():   # читательская level 2: 407.47–480.18
    return [dict(school_code="070002", participant_code=f"c{i}", grade=8, domain="читательская",
                 score=450.0, level="2") for i in range(5)]


GOOD = {
    "ege": ege_rows, "oge": oge_rows, "vpr": vpr_rows,
    # РПР русский 5 класс 2025: 30 → mark 5
    "rpr": lambda: [dict(r, max_primary_score=30, mark=5)
                    for r in vpr_rows(procedure="РПР", grade=5)],
    "schools": schools_rows, "olympiad": olympiad_rows, "literacy": literacy_rows,
}


def failed(outcome):
    return {e.name: e for e in outcome.expectations if e.success is False}


@pytest.mark.parametrize("source", sorted(GOOD))
def test_good_frame_passes(source):
    outcome = validate_frame(source, table(source, GOOD[source]()), CONTEXT)
    assert failed(outcome) == {}
    assert outcome.success
    assert not outcome.skipped
    assert outcome.totals()["evaluated"] == len(outcome.expectations)


def test_pandas_frame_accepted_too():
    df = table("ege", ege_rows()).to_pandas()
    outcome = validate_frame("ege", df, CONTEXT)
    assert outcome.success and failed(outcome) == {}


def test_text_type_is_answered_by_the_landing_schema_and_checked_by_gx_otherwise():
    """A `str` type check on an Arrow string column is true by construction: it passes
    without GX (which checks it row by row); on a pandas frame GX still checks every value."""
    landed = validate_frame("ege", table("ege", ege_rows()), CONTEXT)
    code = landed.get("ege.msu_code.type")
    assert code.success and code.observed_value.startswith("str (the column's type")
    assert (code.element_count, code.unexpected_count) == (len(ege_rows()), 0)
    df = table("ege", ege_rows()).to_pandas()
    df["msu_code"] = pd.Series([7] + [str(v) for v in df["msu_code"][1:]], dtype=object)
    typed = failed(validate_frame("ege", df, CONTEXT))
    assert typed["ege.msu_code.type"].unexpected_count == 1
    assert typed["ege.msu_code.type"].rows == [3]


def test_tasks_table_and_validate_tables():
    tasks = table("vpr_tasks", [dict(subject_name="Русский язык", grade=4, task_order=i + 1,
                                     task=str(i + 1), max_points=2, task_level="БПВ"[i % 3],
                                     source_header=f"{i + 1} (2б)") for i in range(3)])
    bad = tasks.set_column(tasks.schema.get_field_index("task_level"), "task_level",
                           pa.array(["Б", "Z", "В"]))
    outcome = validate_tables({"vpr": table("vpr", vpr_rows()), "vpr_tasks": bad}, CONTEXT)
    assert outcome.tables == {"vpr": 10, "vpr_tasks": 3}
    f = failed(outcome)
    assert set(f) == {"vpr_tasks.task_level.allowed"}
    assert f["vpr_tasks.task_level.allowed"].rows == [4] and not outcome.success


def test_removed_lines_with_answer_strings_pass():
    """extracts.md: a removed/annulled line may still carry the scanned answer strings (they
    count for nothing); its score cells are empty."""
    rows = ege_rows()
    rows[1].update(status="Удален", primary_score=None, test_score=None)
    rows[3].update(status="Аннулирован", primary_score=None, test_score=None,
                   short_answers="+" * 5, extended_answers="9(9)")
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    assert failed(outcome) == {} and outcome.success


def test_removed_line_with_a_score_quarantines():
    rows = ege_rows()
    rows[1].update(status="Удален")               # primary score 20 and test score 44 kept
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    exp = outcome.get("ege.removed_have_no_scores")
    assert exp.success is False and exp.severity == "error" and exp.rows == [4]
    assert not outcome.success


def test_gia_answer_strings_against_the_spec_and_the_primary_score():
    rows = ege_rows(200)
    rows[5]["primary_score"] = 21                 # the strings give 20
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    f = failed(outcome)
    # 1 line of 200 (0.5 %): a finding, not a quarantine (the test score also disagrees)
    assert f["ege.task_points_consistent_all"].rows == [8]
    assert f["ege.task_points_consistent_all"].severity == "warning"
    assert "ege.task_points_consistent" not in f
    rows[6]["extended_answers"] = rows[6]["extended_answers"] + "1(2)"   # one task too many
    rows[7]["extended_answers"] = rows[7]["extended_answers"][:-3] + "1)"  # declares another max
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    exp = outcome.get("ege.task_points_consistent")
    assert exp.success is False and exp.rows == [8, 9, 10]    # 1.5 % > 1 %: quarantine
    assert not outcome.success
    assert outcome.get("ege.task_points_in_range").success is True
    assert outcome.get("ege.task_spec_in_seed").success is True


def test_gia_task_points_above_their_maximum_always_quarantine():
    rows = ege_rows(200)
    rows[7]["short_answers"] = "9" + rows[7]["short_answers"][1:]        # 9 points of a 1-point task
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    exp = outcome.get("ege.task_points_in_range")
    assert exp.success is False and exp.severity == "error" and exp.rows == [10]
    assert not outcome.success


def test_gia_year_without_task_spec_is_a_warning_only():
    rows = [dict(r, exam_date=dt.date(2019, 6, 3), academic_year=2019) for r in ege_rows()]
    frame = table("ege", rows).to_pandas().assign(academic_year=2019)
    outcome = validate_frame("ege", frame, {"schools": REGISTRY.assign(academic_year=2019)})
    spec = outcome.get("ege.task_spec_in_seed")
    assert spec.success is False and spec.severity == "warning"
    assert outcome.get("ege.task_points_consistent").success is not False
    minimum = outcome.get("ege.min_score_in_seed")          # ref_ege_min_scores starts in 2023
    assert minimum.success is False and minimum.severity == "warning"
    assert outcome.get("ege.min_score_in_seed").unexpected_count == len(rows)


def test_ege_score_out_of_range():
    rows = ege_rows()
    rows[2]["test_score"] = 101
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    exp = outcome.get("ege.test_score.range")
    assert exp.success is False and exp.severity == "error"
    assert exp.unexpected_count == 1 and exp.rows == [5] and exp.sample_values == [101]
    assert not outcome.success


def test_unknown_school():
    rows = ege_rows()
    rows[0]["gia_school_code"] = "0999"
    rows[3]["msu_code"] = "012"      # 0001 exists only in МСУ 07
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    exp = outcome.get("ege.school_known_in_registry")
    assert exp.success is False and exp.unexpected_count == 2 and exp.rows == [3, 6]
    assert set(failed(outcome)) == {"ege.school_known_in_registry"}
    assert not outcome.success


def test_duplicate_participant_vpr():
    rows = vpr_rows()
    rows[7]["participant_code"] = rows[2]["participant_code"]
    outcome = validate_frame("vpr", table("vpr", rows), CONTEXT)
    exp = outcome.get("vpr.participant_unique")
    assert exp.success is False and exp.unexpected_count == 2 and exp.rows == [5, 10]
    assert not outcome.success


def test_duplicate_participant_gia():
    rows = oge_rows()
    rows[4]["participant_key"] = rows[1]["participant_key"]
    outcome = validate_frame("oge", table("oge", rows), CONTEXT)
    exp = outcome.get("oge.participant_unique")
    assert exp.unexpected_count == 2 and exp.rows == [4, 7]


def test_leaked_footer_row():
    rows = oge_rows()
    rows.append(dict(rows[0], row_no="Средние", participant_key="f" * 64))
    outcome = validate_frame("oge", table("oge", rows), CONTEXT)
    exp = outcome.get("oge.no_footer_rows")
    assert exp.success is False and exp.unexpected_count == 1 and exp.rows == [9]
    assert exp.sample_values == ["Средние"]


def test_mark_vs_boundaries_below_tolerance_is_a_warning():
    rows = vpr_rows(200)
    rows[50]["mark"] = 5                     # 1 of 200 = 0.5 % < 1 %
    outcome = validate_frame("vpr", table("vpr", rows), CONTEXT)
    warn = outcome.get("vpr.mark_consistent_with_boundaries_all")
    assert warn.success is False and warn.severity == "warning"
    assert warn.unexpected_count == 1 and warn.rows == [53]
    assert outcome.success          # a finding, not a reason to quarantine


def test_vpr_marks_off_the_seed_never_block():
    """extracts.md (ВПР): «A mark that disagrees with the boundaries is a data-quality finding
    to report, not a reason to drop the row» — however many disagree (the region may use its
    own scale: the seed is then what needs correcting)."""
    rows = vpr_rows(100)
    for i in (10, 20, 30):                   # 3 %
        rows[i]["mark"] = 3
    outcome = validate_frame("vpr", table("vpr", rows), CONTEXT)
    exp = outcome.get("vpr.mark_consistent_with_boundaries_all")
    assert exp.success is False and exp.severity == "warning"
    assert exp.unexpected_count == 3 and exp.rows == [13, 23, 33]
    assert outcome.success
    assert "vpr.mark_consistent_with_boundaries" not in {e.name for e in outcome.expectations}


def test_oge_mark_vs_boundaries():
    rows = oge_rows(5)
    rows[0]["mark"] = 5
    outcome = validate_frame("oge", table("oge", rows), CONTEXT)
    exp = outcome.get("oge.mark_consistent_with_boundaries")
    assert exp.rows == [3] and exp.success is False    # 1 of 5 rows = 20 % > 1 %
    assert exp.severity == "warning" and outcome.success   # a regional scale: a finding


def test_ege_test_score_vs_scale():
    rows = ege_rows()
    rows[1]["test_score"] = 45
    outcome = validate_frame("ege", table("ege", rows), CONTEXT)
    assert outcome.get("ege.test_score_consistent_with_scale").rows == [4]


def test_missing_column():
    t = table("vpr", vpr_rows())
    t = t.drop_columns(["mark"])
    outcome = validate_frame("vpr", t, CONTEXT)
    exp = outcome.get("vpr.mark.exists")
    assert exp.success is False and exp.severity == "error"
    assert set(failed(outcome)) == {"vpr.mark.exists"}
    assert outcome.get("vpr.mark.range").success is None      # skipped, not failed
    assert "mark" in outcome.get("vpr.mark.range").skipped_reason
    assert not outcome.success


def test_empty_frame():
    outcome = validate_frame("literacy", table("literacy", []), CONTEXT)
    exp = outcome.get("literacy.non_empty")
    assert exp.success is False and exp.observed_value == 0
    assert not outcome.success


def test_without_registry_known_school_is_skipped():
    outcome = validate_frame("olympiad", table("olympiad", olympiad_rows()), None)
    assert outcome.get("olympiad.school_known_in_registry").success is None
    assert outcome.success and outcome.notes


def test_schools_registry_rules():
    rows = schools_rows()
    rows[2]["successor_code"] = None          # reorganised without successor
    rows[0]["pct_ovz"] = 120.0
    rows[1]["school_code"] = "70002"          # a code read as a number lost its zero
    outcome = validate_frame("schools", table("schools", rows))
    f = failed(outcome)
    assert f["schools.successor_code.set_when_reorganised"].rows == [5]
    assert f["schools.pct_ovz.range"].rows == [3]
    assert f["schools.school_code.format"].rows == [4]
    assert not outcome.success


def test_olympiad_score_above_max():
    rows = olympiad_rows()
    rows[3]["score"] = 25.0
    outcome = validate_frame("olympiad", table("olympiad", rows), CONTEXT)
    exp = outcome.get("olympiad.score.le_max_score")
    assert exp.success is False and exp.rows == [6]


def test_literacy_level_inconsistent():
    rows = literacy_rows()
    rows[4]["level"] = "5"
    outcome = validate_frame("literacy", table("literacy", rows), CONTEXT)
    assert outcome.get("literacy.level_consistent_with_score").rows == [7]
    assert outcome.get("literacy.level_consistent_with_score_all").rows == [7]


@pytest.fixture(scope="module")
def bad_outcome():
    rows = ege_rows()
    rows[2]["test_score"] = 101
    rows[0]["gia_school_code"] = "0999"
    return validate_frame("ege", table("ege", rows), CONTEXT, file_label="ege/2025/rus.csv")


def test_report_html_and_json(bad_outcome, tmp_path):
    json_path, html_path = write_report(bad_outcome, tmp_path, "ege/2025/rus.csv")
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "ege.test_score.range" in page and "ege.school_known_in_registry" in page
    assert "<td>5</td>" in page and "<td>3</td>" in page       # the offending lines
    assert "Что делать / What to do" in page
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["success"] is False and data["totals"]["failed_error"] == 3
    bad = {e["name"]: e for e in data["expectations"]}
    assert bad["ege.test_score.range"]["rows"] == [5]


def test_dagster_check_result(bad_outcome, tmp_path):
    import dagster as dg

    _, html_path = write_report(bad_outcome, tmp_path, "x")
    result = outcome_to_check_result(bad_outcome, asset_key=dg.AssetKey(["raw", "ege"]),
                                     check_name="ege_expectations", report_path=html_path)
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.ERROR
    md = result.metadata["expectations"]
    assert isinstance(md, dg.MarkdownMetadataValue)
    assert "✗" in md.value and "ege.test_score.range" in md.value and "| 5 |" in md.value
    assert result.metadata["report"].value == str(html_path)


def test_dagster_check_result_passed():
    import dagster as dg

    outcome = validate_frame("literacy", table("literacy", literacy_rows()), CONTEXT)
    result = outcome_to_check_result(outcome)
    assert result.passed is True and result.severity == dg.AssetCheckSeverity.WARN


def test_a_year_without_its_registry_is_checked_against_the_nearest_one():
    """Every source is optional in every year, the registry too (extracts.md): results of a
    year without a registry are checked against the latest earlier registry, else the
    earliest later one, and the outcome says which."""
    import duckdb

    from rsoko_pipelines.quality.derived import context_from_warehouse

    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("""CREATE TABLE raw.schools AS SELECT * FROM (VALUES
        (2023, '070001', '07', '0001', 'sch070001', 'действующая'),
        (2025, '070001', '07', '0001', 'sch070001', 'действующая'),
        (2025, '070002', '07', '0002', 'sch070002', 'действующая'))
        t(academic_year, school_code, msu_code, gia_school_code, fis_login, status)""")
    used = {y: sorted(set(context_from_warehouse(con, y)["schools"]["registry_year"]))
            for y in (2022, 2023, 2024, 2025, 2026)}
    assert used == {2022: [2023], 2023: [2023], 2024: [2023], 2025: [2025], 2026: [2025]}
    ctx = context_from_warehouse(con, 2026)
    assert set(ctx["schools"]["academic_year"]) == {2026} and len(ctx["schools"]) == 2
    rows = [dict(r, exam_date=dt.date(2025, 6, 3)) for r in ege_rows()]
    outcome = validate_frame("ege", table("ege", rows).to_pandas().assign(academic_year=2026),
                             {"schools": ctx["schools"].assign(
                                 gia_school_code=["0001", "0002"])})
    assert outcome.get("ege.school_known_in_registry").success is True
    assert any("no registry of schools of 2026 loaded" in n and "registry of 2025" in n
               for n in outcome.notes), outcome.notes
    con.execute("DELETE FROM raw.schools")
    assert context_from_warehouse(con, 2025)["schools"].empty


def nokuod_rows(codes):
    return [dict(school_code=c, inn=f"78{i:08d}", school_name=f"Школа {i}", openness=90.0,
                 comfort=85.0, accessibility=80.0, courtesy=95.0, satisfaction=88.0,
                 total_score=87.6, n_respondents=120) for i, c in enumerate(codes)]


def test_once_in_the_file_holds_per_file_in_a_batch():
    """The ingest validates a batch of files at once: a school in two files of the batch is
    no repeat, a school twice in one file is (its two lines are named)."""
    first = table("nokuod", nokuod_rows(["070001", "070002"]))
    second = table("nokuod", nokuod_rows(["070001"]))
    second = second.set_column(0, "_file_id", pa.array(["cd" * 32]))
    batch = validate_tables({"nokuod": pa.concat_tables([first, second])}, CONTEXT,
                            source="nokuod")
    assert batch.success and failed(batch) == {}
    repeated = validate_tables({"nokuod": table("nokuod", nokuod_rows(["070001", "070002",
                                                                        "070001"]))},
                               CONTEXT, source="nokuod")
    exp = failed(repeated)["nokuod.school_unique"]
    assert (exp.unexpected_count, exp.rows) == (2, [3, 5]) and not repeated.success
