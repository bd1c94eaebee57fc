"""Every dbt data test explains itself (docs/dbt_tests.md): a description that says its rule
in words, RU / EN, and a `meta.hint` saying what the operator does when it fails; its name
reads as words. Read from the manifest of a real `dbt parse` (no database needed)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rsoko_pipelines.settings import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).parent / "dbt")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
MAX_NAME = 63


@pytest.fixture(scope="module")
def data_tests(tmp_path_factory) -> list[dict]:
    tmp = tmp_path_factory.mktemp("dbt_parse")
    env = {**os.environ, "RSOKO_WAREHOUSE": str(tmp / "parse.duckdb"),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run([DBT, "parse", "--profiles-dir", "."], cwd=DBT_PROJECT_DIR, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    manifest = json.loads((tmp / "target" / "manifest.json").read_text(encoding="utf-8"))
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert len(tests) > 300       # the project has ~420: a parse that found none proves nothing
    return tests


def _bilingual(text: str) -> bool:
    """'<русский> / <English>': Cyrillic before the first ' / ', an English word after it."""
    if not text or text.strip() in ("None", "null") or " / " not in text:
        return False
    ru, en = text.split(" / ", 1)
    return bool(CYRILLIC.search(ru)) and bool(LATIN_WORD.search(en))


def _where(node: dict) -> str:
    return f"{node['name']} ({node['original_file_path']})"


def test_every_data_test_has_a_bilingual_description(data_tests):
    missing = [_where(n) for n in data_tests if not _bilingual(n.get("description") or "")]
    assert not missing, ("dbt data tests without a description «<RU> / <EN>» (docs/dbt_tests.md "
                         "§2):\n  " + "\n  ".join(missing))


def test_every_data_test_has_a_bilingual_hint(data_tests):
    missing = [_where(n) for n in data_tests
               if not _bilingual(str((n["config"].get("meta") or {}).get("hint") or ""))]
    assert not missing, ("dbt data tests without config.meta.hint «<RU> / <EN>» (docs/dbt_tests.md "
                         "§3):\n  " + "\n  ".join(missing))


def test_every_data_test_name_is_readable(data_tests):
    long = [_where(n) for n in data_tests if len(n["name"]) > MAX_NAME]
    assert not long, (f"dbt data test names longer than {MAX_NAME} characters: give them a "
                      "`name:` (docs/dbt_tests.md §4):\n  " + "\n  ".join(long))
    names = [n["name"] for n in data_tests]
    assert len(names) == len(set(names)), "dbt data test names must be unique"


def test_the_checker_rejects_what_it_should():
    """The rules above are not vacuous: an empty, 'None', one-language or EN / RU text fails."""
    assert _bilingual("school_code заполнен в каждой строке / school_code is set in every row")
    for bad in ("", "None", "school_code заполнен в каждой строке",
                "school_code is set / in every row", "Each value / встречается один раз"):
        assert not _bilingual(bad), bad


def test_generic_tests_return_whole_rows():
    """Our generic tests (and the overridden built-ins) select the model's rows, so stored
    failures carry _file_id/_source_line (docs/dbt_tests.md §5)."""
    generic = Path(DBT_PROJECT_DIR) / "tests" / "generic"
    names = {p.stem for p in generic.glob("*.sql")}
    assert {"not_null", "unique", "accepted_values", "relationships"} <= names
    for path in generic.glob("*.sql"):
        sql = path.read_text(encoding="utf-8")
        assert "select *" in sql or "failing_rows_of_keys(" in sql, path.name


def test_the_projects_findings_are_declared(data_tests):
    """The tests the docs call findings (docs/dbt_tests.md §1) carry `meta.finding`: the
    night reports them as warnings and never holds data back for them."""
    from rsoko_pipelines.quality.dbt_failures import is_finding

    findings = {n["name"] for n in data_tests if is_finding(n)}
    assert {"assert_gia_task_points_sum_to_primary_score",
            "assert_vpr_task_points_sum_to_primary_score"} <= findings
    assert len(findings) == 9, sorted(findings)
