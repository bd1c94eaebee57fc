"""The dbt command line built for a step (rsoko_pipelines.orchestration.dbt_args)."""

import pytest

from rsoko_pipelines.orchestration.dbt_args import dbt_cli_args


def test_plain_build_has_no_vars():
    # the build scope is read from the warehouse, never passed as --vars (partial parsing)
    assert dbt_cli_args("build") == ["build"]
    assert dbt_cli_args() == ["build"]
    assert "--vars" not in dbt_cli_args("build", full_refresh=True, select="path:models/marts")


def test_full_refresh():
    assert dbt_cli_args("build", full_refresh=True) == ["build", "--full-refresh"]
    assert dbt_cli_args("run", full_refresh=True) == ["run", "--full-refresh"]


def test_select_and_exclude_strings_and_lists():
    assert dbt_cli_args("build", select="path:models/core", exclude="fct_task_score") == [
        "build", "--select", "path:models/core", "--exclude", "fct_task_score"]
    assert dbt_cli_args("test", select=["stg_ege", "stg_oge"], exclude=[]) == [
        "test", "--select", "stg_ege stg_oge"]


def test_indirect_selection():
    assert dbt_cli_args("build", indirect_selection="cautious", select="resource_type:seed") == [
        "build", "--indirect-selection", "cautious", "--select", "resource_type:seed"]


@pytest.mark.parametrize("call", [
    dict(command="drop"), dict(command="test", full_refresh=True),
    dict(indirect_selection="sometimes")])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        dbt_cli_args(**call)
