"""ВПР/РПР subject names are matched the same way by the GX check (quality/derived.py) and by
the staging models (dbt macro `clean_text`, then lower()): a name one accepts, the other maps."""

from __future__ import annotations

import re

import duckdb
import pytest

from rsoko_pipelines.quality.derived import SUBJECT_KEY_SQL
from rsoko_pipelines.settings import DBT_PROJECT_DIR

NAMES = ["Русский язык", "русский язык", "  Русский   язык ", "Русский\xa0язык",
         "РУССКИЙ ЯЗЫК", "Окружающий\tмир", "", "   "]


def _dbt_clean_text() -> str:
    """The body of the `clean_text` macro, as a DuckDB expression template."""
    macro = (DBT_PROJECT_DIR / "macros" / "clean_code.sql").read_text(encoding="utf-8")
    body = re.search(r"macro clean_text\(column\) -%}\s*(.*?)\s*{%- endmacro", macro, re.S)
    return body.group(1).replace("{{ column }}", "{column}")


@pytest.mark.parametrize("name", NAMES)
def test_gx_and_staging_normalise_a_subject_name_alike(name):
    con = duckdb.connect()
    staging = f"lower({_dbt_clean_text().format(column='?')})"
    gx = SUBJECT_KEY_SQL.format(column="?")
    a, b = con.execute(f"SELECT {staging}, {gx}", [name, name]).fetchone()
    assert a == b
    if name.strip():
        assert a == " ".join(name.split()).lower()
