"""Marts that explain themselves, on the tier XS reference night: names beside every code,
a school display name unique within the region although school names repeat, direction
names, `level` in Russian, and what each task tests in task_mastery."""

from __future__ import annotations

import duckdb
import pytest

from rsoko_pipelines.publish.versions import published_database
from tests.integration import _nightly as n


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    reference = n.reference_night(tmp_path_factory)
    db = published_database(n.settings_for(reference.data).published_dir)
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def test_school_display_name_is_unique_although_names_repeat(con):
    per_year = con.execute("""
        SELECT academic_year, count(*), count(DISTINCT school_name),
               count(DISTINCT school_display_name),
               count(*) FILTER (WHERE school_display_name
                                      <> school_name || ' (' || municipality_name || ')')
        FROM marts.school_context GROUP BY 1 ORDER BY 1""").fetchall()
    for year, schools, names, displays, other_form in per_year:
        assert displays == schools > names, year      # the demo repeats names on purpose
        assert other_form == 0                          # no same name in one municipality here


def test_names_beside_every_code(con):
    for table in ("vpr_objectivity", "vpr_objectivity_schools", "low_results_schools",
                  "school_context", "assessment_results", "task_mastery", "indicators"):
        missing = con.execute(f"""
            SELECT count(*) FILTER (WHERE municipality_code IS NOT NULL
                                      AND municipality_name IS NULL),
                   count(*) FILTER (WHERE school_code IS NOT NULL
                                      AND (school_name IS NULL OR school_display_name IS NULL)),
                   count(*) FILTER (WHERE school_code IS NOT NULL)
            FROM marts.{table}""").fetchone()
        assert missing[:2] == (0, 0) and missing[2] > 0, table


def test_level_and_direction_in_words(con):
    levels = con.execute("SELECT DISTINCT level, level_name FROM marts.indicators "
                         "ORDER BY 1").fetchall()
    assert levels == [("municipality", "муниципалитет"), ("region", "регион"), ("school", "ОО")]
    directions = dict(con.execute("SELECT DISTINCT direction, direction_name "
                                  "FROM marts.indicators").fetchall())
    assert directions[1] == "Система оценки качества подготовки обучающихся"
    assert directions[5] == ("Система объективности процедур оценки качества образования и "
                             "олимпиад школьников")
    assert None not in directions.values()


def test_every_task_says_what_it_tests(con):
    undescribed = con.execute("SELECT procedure, count(*) FROM marts.task_mastery "
                              "WHERE task_description IS NULL GROUP BY 1").fetchall()
    assert undescribed == []
    row = con.execute("""
        SELECT t.task_content_element, t.task_skill, t.task_description
        FROM marts.task_mastery AS t
        WHERE t.level = 'region' AND t.procedure = 'VPR' AND t.task_level = 'Б'
        ORDER BY t.academic_year, t.subject_code, t.grade, t.task_order LIMIT 1""").fetchone()
    spec = con.execute("""
        SELECT content_element, skill FROM reference.ref_task_descriptions
        WHERE content_element = ? AND skill = ?""", list(row[:2])).fetchall()
    assert spec and row[2] == f"{row[0]}. {row[1]}"
    assert row[1] == "Знать и применять в знакомой ситуации (базовый уровень)"
