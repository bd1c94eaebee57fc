"""The dbt command line built for a Dagster run (rsoko_pipelines.dbt_args)."""

import json

import pytest

from rsoko_pipelines.dbt_args import ACADEMIC_YEAR_VAR, dbt_cli_args


def test_plain_build_has_no_vars():
    assert dbt_cli_args("build") == ["build"]
    assert dbt_cli_args() == ["build"]


def test_partition_becomes_the_academic_year_var():
    args = dbt_cli_args("build", academic_year="2025")
    assert args == ["build", "--vars", '{"rsoko:academic_year": 2025}']
    assert json.loads(args[2]) == {ACADEMIC_YEAR_VAR: 2025}   # an int, not the string key
    assert dbt_cli_args("build", academic_year=2024)[2] == '{"rsoko:academic_year": 2024}'


def test_full_refresh_with_partition():
    assert dbt_cli_args("build", academic_year=2025, full_refresh=True) == [
        "build", "--vars", '{"rsoko:academic_year": 2025}', "--full-refresh"]
    assert dbt_cli_args("run", full_refresh=True) == ["run", "--full-refresh"]


def test_select_and_exclude_strings_and_lists():
    assert dbt_cli_args("build", select="path:models/core", exclude="fct_task_score") == [
        "build", "--select", "path:models/core", "--exclude", "fct_task_score"]
    assert dbt_cli_args("test", select=["stg_ege", "stg_oge"], exclude=[]) == [
        "test", "--select", "stg_ege stg_oge"]


def test_empty_partition_means_every_year():
    assert dbt_cli_args("build", academic_year=None) == ["build"]
    assert dbt_cli_args("build", academic_year="") == ["build"]


@pytest.mark.parametrize("bad", ["25", "2025a", "20250", "abcd", -2025])
def test_bad_year_rejected(bad):
    with pytest.raises(ValueError):
        dbt_cli_args("build", academic_year=bad)


def test_bad_command_and_misplaced_full_refresh_rejected():
    with pytest.raises(ValueError):
        dbt_cli_args("drop")
    with pytest.raises(ValueError):
        dbt_cli_args("test", full_refresh=True)


def test_pure():
    a = dbt_cli_args("build", academic_year=2025, full_refresh=True, select="x")
    b = dbt_cli_args("build", academic_year=2025, full_refresh=True, select="x")
    assert a == b and a is not b


def test_indirect_selection_is_passed_and_checked():
    from rsoko_pipelines.dbt_args import dbt_cli_args

    assert dbt_cli_args("build", indirect_selection="cautious") == [
        "build", "--indirect-selection", "cautious"]
    import pytest

    with pytest.raises(ValueError):
        dbt_cli_args("build", indirect_selection="careful")
